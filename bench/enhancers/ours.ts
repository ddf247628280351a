/**
 * Adapter for the project's own PercepNet denoiser (host/denoiser.ts). It is
 * loaded dynamically so the evaluation still runs - without "ours" - in a
 * checkout where the denoiser is not built yet.
 */
import { EnhancerUnavailable, type Enhancer } from "./types.js";

interface DenoiserLike {
  process(input: Float32Array): Float32Array;
  flush(): Float32Array;
  readonly delay: number;
}
interface DenoiserModule {
  Denoiser: { create(opts?: { model?: string | Uint8Array; oracle?: boolean }): Promise<DenoiserLike> };
}

/** Options passed through to Denoiser.create. */
export interface OursOptions { model?: string | Uint8Array; name?: string }

/** Create the PercepNet enhancer, or throw EnhancerUnavailable with the reason. */
export async function createOurs(opts: OursOptions = {}): Promise<Enhancer> {
  let mod: DenoiserModule;
  const path = "../../host/denoiser.js";
  try {
    mod = (await import(path)) as DenoiserModule;
  } catch (e) {
    throw new EnhancerUnavailable(`ours: cannot load host/denoiser.js (not built or not merged yet): ${(e as Error).message}`);
  }
  let probe: DenoiserLike;
  try {
    probe = await mod.Denoiser.create(opts.model ? { model: opts.model } : undefined);
  } catch (e) {
    throw new EnhancerUnavailable(`ours: Denoiser.create failed: ${(e as Error).message}`);
  }
  return {
    name: opts.name ?? "ours",
    delay: probe.delay,
    async run(x: Float32Array): Promise<Float32Array> {
      // A fresh instance per file: no state carries over between files.
      const d = await mod.Denoiser.create(opts.model ? { model: opts.model } : undefined);
      const y = new Float32Array(x.length);
      // Feed in 10 ms chunks like a real-time caller; the API accepts any length.
      const chunk = 480;
      for (let s = 0; s < x.length; s += chunk) y.set(d.process(x.subarray(s, Math.min(x.length, s + chunk))), s);
      return y;
    },
  };
}
