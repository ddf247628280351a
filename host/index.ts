/** percepnet-wasm: PercepNet speech enhancement in WebAssembly. */
export { Denoiser, FRAME_SIZE, NB_BANDS, NB_FEATURES, ALGORITHMIC_DELAY } from "./denoiser.js";
export type { DenoiserOptions, FrameInfo, GainMode } from "./denoiser.js";
export { compileWasm, defaultWasmModule } from "./wasm.js";
export type { WasmSource } from "./wasm.js";
