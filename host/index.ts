/** percepnet-wasm: PercepNet speech enhancement in WebAssembly. */
export { Denoiser, FRAME_SIZE, NB_BANDS, NB_FEATURES, ALGORITHMIC_DELAY } from "./denoiser.js";
export type { DenoiserOptions, FrameInfo, GainMode, ModelSource } from "./denoiser.js";
export { Engine, HOST_ABI_VERSION } from "./engine.js";
export type { EngineConfig, PercepnetExports } from "./engine.js";
export { resolveModel, DEFAULT_MODEL_URL } from "./denoiser.js";
export { parseModelFile } from "./model-file.js";
export type { ParsedModel, ModelConfig } from "./model-file.js";
export { denoiseBuffer, enhanceOracle, dumpFeatures } from "./offline.js";
export type { OracleOptions, DumpOptions, FeatureDump } from "./offline.js";
export { compileWasm, defaultWasmModule } from "./wasm.js";
export type { WasmSource } from "./wasm.js";
export { MultiChannelDenoiser, createStream, denoiseChannels, SUPPORTED_SAMPLE_RATES, MAX_CHANNELS } from "./stream.js";
export type { StreamOptions, SupportedSampleRate, ChannelFrameCallback } from "./stream.js";
export { resample, StreamResampler } from "./resample.js";
export type { ResampleOptions } from "./resample.js";
export { decodeWav, encodeWav, outputFormatFor, WavError } from "./wav.js";
export type { WavInfo, WavAudio, SampleFormat, WritableFormat, DecodeOptions, EncodeOptions, EncodedWav } from "./wav.js";
