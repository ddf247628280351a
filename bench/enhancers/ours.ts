/**
 * Adapters for the project's own PercepNet: the trained network ("ours"), and
 * the oracle ("oracle": ideal gains and strengths from the clean reference,
 * the upper bound the network is trained towards).
 */
import { Denoiser, resolveModel, type DenoiserOptions, type ModelSource } from "../../host/denoiser.js";
import { enhanceOracle } from "../../host/offline.js";
import { EnhancerUnavailable, type Enhancer } from "./types.js";

/** Options passed through to Denoiser.create. */
export interface OursOptions {
  model?: ModelSource;
  name?: string;
  /** Denoiser settings to evaluate instead of the defaults (e.g. postfilter off). */
  settings?: Pick<DenoiserOptions, "comb" | "postfilter" | "attenuationLimitDb" | "levelNormalize">;
}

/** Create the PercepNet enhancer, or throw EnhancerUnavailable with the reason. */
export async function createOurs(opts: OursOptions = {}): Promise<Enhancer> {
  let model;
  try {
    model = await resolveModel(opts.model);
  } catch (e) {
    throw new EnhancerUnavailable(`ours: no model: ${(e as Error).message}`);
  }
  const settings = opts.settings ?? {};
  const probe = await Denoiser.create({ ...settings, model });
  return {
    name: opts.name ?? "ours",
    delay: probe.delay,
    async run(x: Float32Array): Promise<Float32Array> {
      // A fresh instance per file: no state carries over between files.
      const d = await Denoiser.create({ ...settings, model });
      const y = new Float32Array(x.length);
      // Feed in 10 ms chunks like a real-time caller; the API accepts any length.
      const chunk = 480;
      for (let s = 0; s < x.length; s += chunk) d.process(x.subarray(s, Math.min(x.length, s + chunk)), y.subarray(s));
      return y;
    },
  };
}

/** The oracle: needs the clean reference; output is time-aligned (delay 0). */
export async function createOracle(): Promise<Enhancer> {
  return {
    name: "oracle",
    delay: 0,
    async run(x: Float32Array, clean?: Float32Array): Promise<Float32Array> {
      if (!clean) throw new Error("oracle: the evaluator must pass the clean reference");
      return enhanceOracle(clean, x);
    },
  };
}
