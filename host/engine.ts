/**
 * The one place that knows the raw exports of percepnet.wasm.
 *
 * An {@link Engine} is one instance of the module (one denoiser's worth of
 * state) behind typed names: views over its frame buffers, named options,
 * runFrame(), a reset() that also restores the configuration, and the
 * module's constants. Denoiser, the AudioWorklet processor, the offline
 * helpers, benchmarks and tests all go through it; the exports interface
 * below is the ABI of assembly/index.ts (docs/ARCHITECTURE.md, "ABI").
 */
import { instantiateSync } from "./wasm.js";
import type { ParsedModel } from "./model-file.js";

/**
 * ABI version this host is written against. assembly/index.ts exports its
 * own as the global ABI_VERSION; a module built from other sources (an older
 * build/ left behind, a CDN copy of another release) is refused at
 * instantiation instead of misreading its memory.
 */
export const HOST_ABI_VERSION = 4;

/*
 * The module's constants as the host is written for them. They are also
 * exported by the module; the Engine refuses a module that disagrees, so
 * code sizing buffers with these before any instance exists stays right.
 */
/** Samples per 10 ms hop at 48 kHz. */
export const FRAME_SIZE = 480;
/** Number of PercepNet bands. */
export const NB_BANDS = 34;
/** Number of network input features per frame. */
export const NB_FEATURES = 70;
/**
 * Inputs of a model that also takes the per-band noise floor
 * (assembly/noise-floor.ts) after the 70 features: config.nFeatures 104.
 */
export const NB_FEATURES_WITH_NOISE_FLOOR = NB_FEATURES + NB_BANDS;
/** Algorithmic delay of the signal path: 10 ms overlap + 2 frames of look-ahead. */
export const ALGORITHMIC_DELAY = 1440;

/** Where per-band gains come from. */
export type GainMode = "network" | "unity" | "oracle" | "external";

/** The wasm's gainSource codes (assembly/index.ts configure()). */
const GAIN_MODE_CODE: Readonly<Record<GainMode, number>> = { unity: 0, network: 1, oracle: 2, external: 3 };

/** True when `m` names a {@link GainMode} (own keys only: "toString" is not a mode). */
export function isGainMode(m: unknown): m is GainMode {
  return typeof m === "string" && Object.prototype.hasOwnProperty.call(GAIN_MODE_CODE, m);
}

/** The gain modes, for messages. */
export const GAIN_MODES = Object.keys(GAIN_MODE_CODE) as readonly GainMode[];

type I32 = number;
type F32 = number;
type Ptr = number;

/** The typed exports of percepnet.wasm (assembly/index.ts, model.ts, nnet.ts). */
export interface PercepnetExports {
  memory: WebAssembly.Memory;
  ABI_VERSION: WebAssembly.Global;
  FRAME_SIZE: WebAssembly.Global;
  BANDS: WebAssembly.Global;
  FEATURES: WebAssembly.Global;
  DELAY: WebAssembly.Global;
  // frame loop
  inputPtr(): Ptr; cleanPtr(): Ptr; outputPtr(): Ptr; featuresPtr(): Ptr; noiseFloorPtr(): Ptr;
  gainsPtr(): Ptr; strengthsPtr(): Ptr; oracleGainsPtr(): Ptr; oracleStrengthsPtr(): Ptr;
  configure(gainSource: I32, comb: I32, postfilter: I32, minGain: F32, clean: I32): void;
  configureLevel(enabled: I32, lo: F32, hi: F32): void;
  reset(): void;
  processFrame(): void;
  frameVad(): F32; frameCleanEnergy(): F32; frameNoisyEnergy(): F32; frameSanitised(): I32; frameLevelGainDb(): F32;
  pitchCurrent(): I32; pitchCurrentCorr(): F32; pitchDelayed(): I32; pitchDelayedCorr(): F32;
  // network (assembly/model.ts)
  modelConfigure(nFeatures: I32, nBands: I32, dense: I32, k1: I32, conv1: I32,
    k2: I32, conv2: I32, gru: I32, gruLayers: I32, gruR: I32, vad: I32): I32;
  modelLayerCount(): I32; modelReserve(bytes: I32): Ptr; modelLoadTensor(id: I32, bytes: I32): I32;
  modelLoadBlocks(id: I32, bytes: I32): I32;
  modelReady(): I32; modelReset(): void; modelInputPtr(): Ptr; modelRun(): I32;
  modelGainsPtr(): Ptr; modelStrengthsPtr(): Ptr; modelVad(): F32; modelHasVad(): I32; modelBands(): I32;
  modelRelaxedMatrices(): I32;
}

/**
 * The test build's extra exports (build/percepnet-test.wasm,
 * assembly/test-hooks.ts): single DSP blocks on scratch buffers, the
 * kernels, per-layer outputs. Never in the shipped wasm.
 */
export interface TestHookExports extends PercepnetExports {
  // single DSP blocks on scratch buffers (tests, benchmarks)
  scratchAPtr(): Ptr; scratchBPtr(): Ptr; scratchCPtr(): Ptr;
  testRfft(): void; testIrfft(): void; testCfft(): void; testAnalyze(): void; testSynthesize(): void;
  testBandEnergy(): void; testBandCorr(): void; testInterp(): void;
  testCombTaps(T: I32, future: I32): F32; testCombFilter(start: I32, T: I32): void;
  testPitch(end: I32): void; testMixPostfilter(): void;
  modelRunRepeat(reps: I32): void;
  modelLayerOutPtr(layer: I32): Ptr;
  // kernels (assembly/nnet.ts)
  nnetAlloc(bytes: I32): Ptr;
  nnetPackI8(dst: Ptr, src: Ptr, rows: I32, cols: I32): void;
  nnetPackedBytes(rows: I32, cols: I32): I32;
  nnetMatvecI8(out: Ptr, w: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr): void;
  nnetMatvecI8Repeat(out: Ptr, w: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, reps: I32): void;
  nnetMatvecSparseI8(out: Ptr, w: Ptr, counts: Ptr, offs: Ptr, scale: Ptr, bias: Ptr, rows: I32, x: Ptr): void;
  nnetMatvecSparseI8Repeat(out: Ptr, w: Ptr, counts: Ptr, offs: Ptr, scale: Ptr, bias: Ptr, rows: I32, x: Ptr, reps: I32): void;
  nnetMatvecF32(out: Ptr, w: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr): void;
  nnetMatvecF32Repeat(out: Ptr, w: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, reps: I32): void;
  nnetPackI7(dst: Ptr, src: Ptr, rows: I32, cols: I32): void;
  nnetOffsetI7(p: Ptr, n: I32): void;
  nnetPrepI7(x8: Ptr, sums: Ptr, x: Ptr, chunks: I32): I32;
  nnetMatvecI7(out: Ptr, w: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, x8: Ptr): void;
  nnetMatvecI7Repeat(out: Ptr, w: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, x8: Ptr, reps: I32): void;
  nnetMatvecSparseI7(out: Ptr, w: Ptr, counts: Ptr, offs: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, x8: Ptr, sums: Ptr): void;
  nnetMatvecSparseI7Repeat(out: Ptr, w: Ptr, counts: Ptr, offs: Ptr, scale: Ptr, bias: Ptr, rows: I32, cols: I32, x: Ptr, x8: Ptr, sums: Ptr, reps: I32): void;
  nnetTanh(ptr: Ptr, n: I32): void;
  nnetSigmoid(ptr: Ptr, n: I32): void;
  nnetQuantize(dst: Ptr, src: Ptr, n: I32): void;
}

/** Options of the signal path, as {@link Engine.configure} takes them. */
export interface EngineConfig {
  /** Gain source: "unity" (1), "network" (needs a loaded model), "oracle" (from the clean channel), "external" (host writes gains). */
  mode: GainMode;
  /** Pitch comb filter on. */
  comb: boolean;
  /** Envelope postfilter on. */
  postfilter: boolean;
  /** Smallest band gain, linear (0 = unlimited attenuation). */
  minGain: number;
  /**
   * Level normaliser of the network's inputs (assembly/level.ts): the band
   * energies the features are made of are scaled so that the input's level
   * estimate lies in {@link LEVEL_RANGE_DB}; the signal path is untouched.
   */
  levelNormalize: boolean;
}

/**
 * The range, dB FS, the level normaliser holds its estimate of the input's
 * level in (the 90th percentile of 10 ms frame levels over about 15 s,
 * a few dB above the active speech level). Chosen on validation clips
 * (training/HISTORY.md, stage 17).
 */
export const LEVEL_RANGE_DB: readonly [number, number] = [-40, -8];

/** The module's state right after instantiation (assembly/frame.ts). */
const INITIAL_CONFIG: Readonly<EngineConfig> = { mode: "unity", comb: true, postfilter: true, minGain: 0, levelNormalize: false };

function globalValue(ex: Record<string, unknown>, name: string): number | undefined {
  const g = ex[name];
  return g instanceof WebAssembly.Global ? Number(g.value) : undefined;
}

/**
 * One instance of percepnet.wasm with typed access. Advanced: most users
 * want {@link Denoiser}; the Engine is for tools that read per-frame
 * internals (features, oracle targets, pitch) or drive frames themselves.
 */
export class Engine {
  /** The compiled module this instance came from (another Engine can be made from it). */
  readonly module: WebAssembly.Module;
  /**
   * The typed raw exports of the shipped ABI, for tools that need one the
   * Engine has no method for; the test build's hooks are {@link hooks}.
   */
  readonly exports: PercepnetExports;
  /** Samples per frame (hop), from the module: 480. */
  readonly frameSize: number;
  /** Bands, from the module: 34. */
  readonly bands: number;
  /** Network input features per frame, from the module: 70. */
  readonly features: number;
  /** Algorithmic delay of processFrame() output vs input, from the module: 1440. */
  readonly delay: number;

  private cfg: EngineConfig = { ...INITIAL_CONFIG };
  private modelLoaded = false;
  private viewBuffer: ArrayBuffer | null = null;
  private v!: {
    input: Float32Array; clean: Float32Array; output: Float32Array; gains: Float32Array; strengths: Float32Array;
    features: Float32Array; noiseFloor: Float32Array; oracleGains: Float32Array; oracleStrengths: Float32Array;
  };

  /**
   * Instantiate `module` (synchronously: works in an AudioWorklet).
   * @throws Error when the module's ABI version differs from {@link HOST_ABI_VERSION}.
   */
  constructor(module: WebAssembly.Module) {
    if (!(module instanceof WebAssembly.Module)) throw new TypeError("percepnet: new Engine() needs a compiled WebAssembly.Module");
    const raw = instantiateSync(module) as Record<string, unknown>;
    const abi = globalValue(raw, "ABI_VERSION");
    if (abi === undefined) {
      throw new Error(`percepnet: this wasm module exports no ABI_VERSION; it is not a percepnet.wasm this host (ABI ${HOST_ABI_VERSION}) can drive`);
    }
    if (abi !== HOST_ABI_VERSION) {
      throw new Error(`percepnet: percepnet.wasm has ABI version ${abi} but this host expects version ${HOST_ABI_VERSION}; use the .wasm shipped with this package (rebuild with npm run build)`);
    }
    this.module = module;
    this.exports = raw as unknown as PercepnetExports;
    const read = (name: string, expected: number): number => {
      const v = globalValue(raw, name);
      if (v !== expected) throw new Error(`percepnet: percepnet.wasm (ABI ${abi}) has ${name} ${String(v)} but this host expects ${expected}`);
      return v;
    };
    this.frameSize = read("FRAME_SIZE", FRAME_SIZE);
    this.bands = read("BANDS", NB_BANDS);
    this.features = read("FEATURES", NB_FEATURES);
    this.delay = read("DELAY", ALGORITHMIC_DELAY);
  }

  /** Views over the frame buffers, re-made when memory grows (only while a model loads). */
  private views() {
    const buf = this.exports.memory.buffer;
    if (buf !== this.viewBuffer) {
      const ex = this.exports, f = (p: number, n: number) => new Float32Array(buf, p, n);
      this.v = {
        input: f(ex.inputPtr(), this.frameSize), clean: f(ex.cleanPtr(), this.frameSize), output: f(ex.outputPtr(), this.frameSize),
        gains: f(ex.gainsPtr(), this.bands), strengths: f(ex.strengthsPtr(), this.bands), features: f(ex.featuresPtr(), this.features),
        noiseFloor: f(ex.noiseFloorPtr(), this.bands),
        oracleGains: f(ex.oracleGainsPtr(), this.bands), oracleStrengths: f(ex.oracleStrengthsPtr(), this.bands),
      };
      this.viewBuffer = buf;
    }
    return this.v;
  }

  /** The next frame's input samples (frameSize, floats in [-1, 1]); write, then runFrame(). */
  get input(): Float32Array { return this.views().input; }
  /** The next frame's clean reference (oracle mode). */
  get clean(): Float32Array { return this.views().clean; }
  /** The last frame's output samples (delayed by {@link delay}). */
  get output(): Float32Array { return this.views().output; }
  /** Band gains applied to the last frame (in "external" mode: write them before runFrame()). */
  get gains(): Float32Array { return this.views().gains; }
  /** Comb strengths applied to the last frame (writable in "external" mode). */
  get strengths(): Float32Array { return this.views().strengths; }
  /** The network input features of the last frame. */
  get featureVector(): Float32Array { return this.views().features; }
  /** The per-band noise floor of the last frame (log10 units of the energy features; extra inputs of nFeatures-104 models). */
  get noiseFloor(): Float32Array { return this.views().noiseFloor; }
  /** The oracle gain targets of the last frame (computed whenever a clean reference is configured). */
  get oracleGains(): Float32Array { return this.views().oracleGains; }
  /** The oracle comb-strength targets of the last frame. */
  get oracleStrengths(): Float32Array { return this.views().oracleStrengths; }

  /** The current configuration (a copy). */
  get config(): EngineConfig { return { ...this.cfg }; }

  /**
   * Change any of mode / comb / postfilter / minGain / levelNormalize; the rest stay. Takes
   * effect at the next frame and keeps the audio state. The clean channel is
   * read exactly in "oracle" mode.
   */
  configure(c: Partial<EngineConfig>): void {
    const next = { ...this.cfg, ...c };
    if (!isGainMode(next.mode)) throw new TypeError(`percepnet: unknown mode ${String(next.mode)}; expected one of ${GAIN_MODES.join(", ")}`);
    if (next.mode === "network" && !this.modelLoaded) throw new Error("percepnet: mode \"network\" needs a model");
    this.cfg = next;
    this.apply();
  }

  private apply(): void {
    const { mode, comb, postfilter, minGain, levelNormalize } = this.cfg;
    this.exports.configure(GAIN_MODE_CODE[mode], comb ? 1 : 0, postfilter ? 1 : 0, minGain, mode === "oracle" ? 1 : 0);
    this.exports.configureLevel(levelNormalize ? 1 : 0, LEVEL_RANGE_DB[0], LEVEL_RANGE_DB[1]);
  }

  /** Copy a model's tensors in; one model per instance (its memory is never freed). */
  loadModel(model: ParsedModel): void {
    loadModelIntoWasm(this.exports, model);
    this.modelLoaded = true;
  }

  /** True once a model is loaded. */
  get hasModel(): boolean { return this.modelLoaded; }

  /**
   * How many of the loaded model's int8 matrices run relaxed SIMD's int8 dot
   * product: all of them but fc_in's for a 7-bit model (weightBits 7) on
   * percepnet-relaxed.wasm; 0 on percepnet.wasm, for an 8-bit model, or
   * before a model is loaded. Outputs are the same bits either way.
   */
  get relaxedMatrices(): number { return this.exports.modelRelaxedMatrices(); }

  /** Process the frame in {@link input} (and {@link clean}); results in output, gains, features... */
  runFrame(): void { this.exports.processFrame(); }

  /**
   * Forget all audio state (bit-exactly the state after instantiation and
   * model load) and re-apply the configuration set by configure(), so the
   * instance is in exactly its configured state even if something wrote
   * the raw configure export behind the Engine's back.
   */
  reset(): void {
    this.exports.reset();
    this.apply();
  }

  /** Size of the instance's linear memory in bytes (constant once a model is loaded). */
  get memoryBytes(): number { return this.exports.memory.buffer.byteLength; }

  /** Voice-activity probability of the last frame (0 without a model). */
  get vad(): number { return this.exports.frameVad(); }
  /** Clean energy of the delayed frame (oracle mode; 16-bit units squared per bin). */
  get cleanEnergy(): number { return this.exports.frameCleanEnergy(); }
  /** Noisy energy of the delayed frame. */
  get noisyEnergy(): number { return this.exports.frameNoisyEnergy(); }
  /** The level normaliser's gain on the last frame's features, dB (0 when it is off). */
  get levelGainDb(): number { return this.exports.frameLevelGainDb(); }
  /** Input samples of the last frame that were NaN/Inf (and so replaced by 0). */
  get sanitised(): number { return this.exports.frameSanitised(); }
  /**
   * The test build's hooks (single DSP blocks, kernels, per-layer outputs),
   * typed; only for an Engine over build/percepnet-test.wasm.
   * @throws {Error} on the shipped build, which has none.
   */
  get hooks(): TestHookExports {
    if (typeof (this.exports as Partial<TestHookExports>).testRfft !== "function") {
      throw new Error("percepnet: this wasm has no test hooks (the shipped build); load build/percepnet-test.wasm for them");
    }
    return this.exports as TestHookExports;
  }

  /** Pitch period (samples) and correlation of the newest window and of the delayed (processed) frame. */
  get pitch(): { current: number; currentCorr: number; delayed: number; delayedCorr: number } {
    const ex = this.exports;
    return { current: ex.pitchCurrent(), currentCorr: ex.pitchCurrentCorr(), delayed: ex.pitchDelayed(), delayedCorr: ex.pitchDelayedCorr() };
  }
}

/**
 * Configure the engine for `model.config` and copy every tensor into wasm
 * memory. One model per instance (the engine's memory is never freed).
 */
export function loadModelIntoWasm(ex: PercepnetExports, model: ParsedModel): void {
  const c = model.config;
  const rc = ex.modelConfigure(c.nFeatures, c.nBands, c.dense, c.conv1.k, c.conv1.out, c.conv2.k, c.conv2.out,
    c.gru, c.gruLayers, c.gruR, c.vad ? 1 : 0);
  if (rc === -1) throw new Error("percepnet: this wasm instance already holds a model; instantiate a new one");
  if (rc !== 0) throw new Error(`percepnet: the engine rejected the model configuration (code ${rc})`);
  let maxBytes = 0;
  for (const s of model.specs) maxBytes = Math.max(maxBytes, model.tensors.get(s.name)!.byteLength);
  const staging = ex.modelReserve(maxBytes);
  for (const s of model.specs) {
    const t = model.tensors.get(s.name)!;
    // memory.buffer may have been replaced by a grow: take a fresh view each time.
    new Uint8Array(ex.memory.buffer, staging, t.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    // A block index (dtype i32) makes its matrix sparse before the matrix arrives.
    const r = s.dtype === "i32" ? ex.modelLoadBlocks(s.id, t.byteLength) : ex.modelLoadTensor(s.id, t.byteLength);
    if (r !== 0) throw new Error(`percepnet: the engine rejected tensor ${s.name} (code ${r})`);
  }
  if (ex.modelReady() !== 1) throw new Error("percepnet: model incomplete after loading every tensor");
}
