/** Registry of all systems the evaluation can run, created lazily by name. */
import { createDeepFilterNet3 } from "./deepfilternet.js";
import { createOracle, createOurs } from "./ours.js";
import { createRnnoise, RNNOISE_VARIANTS } from "./rnnoise.js";
import { createWorklet, WORKLET_VARIANTS } from "./worklet.js";
import type { Enhancer } from "./types.js";

export type { Enhancer } from "./types.js";
export { EnhancerUnavailable } from "./types.js";

/** Identity: scores the unprocessed noisy input. */
export const noisyPassthrough: Enhancer = { name: "noisy", delay: 0, run: async (x) => x };

/** name -> factory, in table order. */
export const ENHANCERS: ReadonlyMap<string, () => Promise<Enhancer>> = new Map<string, () => Promise<Enhancer>>([
  ["noisy", async () => noisyPassthrough],
  ["oracle", () => createOracle()],
  ["ours", () => createOurs()],
  ...RNNOISE_VARIANTS.map((v) => [v.name, () => createRnnoise(v)] as [string, () => Promise<Enhancer>]),
  ...WORKLET_VARIANTS.map((v) => [v.name, () => createWorklet(v)] as [string, () => Promise<Enhancer>]),
  // Needs the official ONNX graphs (--dfn3-dir / PERCEPNET_DFN3_DIR); skipped with the reason without them.
  ["dfn3", () => createDeepFilterNet3()],
]);
