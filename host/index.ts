/** percepnet-wasm: PercepNet speech enhancement in WebAssembly. */
export { Denoiser, FRAME_SIZE, NB_BANDS, NB_FEATURES, ALGORITHMIC_DELAY } from "./denoiser.js";
export type { DenoiserOptions, FrameInfo, GainMode, ModelSource } from "./denoiser.js";
export { resolveModel, DEFAULT_MODEL_URL } from "./denoiser.js";
export { parseModelFile } from "./model-file.js";
export type { ParsedModel, ModelConfig } from "./model-file.js";
export { denoiseBuffer, enhanceOracle, dumpFeatures } from "./offline.js";
export { compileWasm, defaultWasmModule } from "./wasm.js";
export type { WasmSource } from "./wasm.js";
