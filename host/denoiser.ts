/**
 * The core streaming denoiser: one wasm instance, any chunk length in,
 * the same number of samples out. Every surface (CLI, AudioWorklet, Worker,
 * Node API) is a thin layer over this class.
 */
import { compileWasm, defaultWasmModule, isWasmSource, type WasmSource } from "./wasm.js";
import { parseModelFile, type ParsedModel } from "./model-file.js";
import { ALGORITHMIC_DELAY, Engine, FRAME_SIZE, GAIN_MODES, isGainMode, type EngineConfig, type GainMode } from "./engine.js";
import { LIVE_OPTION_KEYS, checkOptionKeys, describe, isPlainObject, needFloat32 } from "./options.js";

export type { GainMode } from "./engine.js";

/** Where the shipped default model lives, relative to this file once compiled (dist/host/). */
export const DEFAULT_MODEL_URL: URL | undefined = (() => {
  // Bundled into a Worker or worklet there may be no meaningful module URL: no default model then.
  try { return new URL("../../weights/default.pnm", import.meta.url); } catch { return undefined; }
})();

/** `URL` does not exist in an AudioWorkletGlobalScope: test for it without touching the global. */
function isURL(v: unknown): v is URL { return typeof URL === "function" && v instanceof URL; }

/** A model as accepted by the API: parsed, bytes, a path/URL, or null for none. */
export type ModelSource = ParsedModel | Uint8Array | ArrayBuffer | string | URL | null;

let defaultModel: Promise<ParsedModel> | undefined;

async function readModelBytes(src: string | URL): Promise<Uint8Array> {
  const url = isURL(src) ? src : /^[a-z]+:/i.test(src) && !/^[a-z]:\\/i.test(src) ? new URL(src) : null;
  if (!url || url.protocol === "file:") {
    const fs = await import("node:fs/promises");
    const { fileURLToPath } = await import("node:url");
    const path = url ? fileURLToPath(url) : (src as string);
    try { return new Uint8Array(await fs.readFile(path)); }
    catch (e) { throw new Error(`percepnet: cannot read model file ${path}: ${(e as Error).message}`); }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`percepnet: cannot fetch model ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Resolve any model source to a parsed, validated model (or null); undefined
 * means the shipped default model.
 */
export async function resolveModel(src: ModelSource | undefined): Promise<ParsedModel | null> {
  if (src === null) return null;
  if (src === undefined) {
    if (!DEFAULT_MODEL_URL) throw new Error("percepnet: no default model in this runtime; pass `model` (the .pnm bytes)");
    defaultModel ??= readModelBytes(DEFAULT_MODEL_URL).then(parseModelFile);
    return defaultModel;
  }
  if (!isModelSource(src)) throw new TypeError(`percepnet: resolveModel() takes a ParsedModel, Uint8Array, ArrayBuffer, path, URL or null, got ${describe(src)}`);
  if (typeof src === "string" || isURL(src)) return parseModelFile(await readModelBytes(src));
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) return parseModelFile(src);
  return src;
}

export { FRAME_SIZE, NB_BANDS, NB_FEATURES, ALGORITHMIC_DELAY } from "./engine.js";

/** Options of {@link Denoiser.create} and `new Denoiser`. */
export interface DenoiserOptions {
  /** A compiled module, bytes or URL of percepnet.wasm (default: the one shipped in build/). */
  wasm?: WasmSource;
  /**
   * The network: a .pnm model file's bytes, its path/URL, or null for none.
   * Default: the model shipped in weights/.
   */
  model?: ModelSource;
  /** Gain source (default "network" when a model is loaded, otherwise "unity"). */
  mode?: GainMode;
  /** Apply the pitch comb filter (default true). */
  comb?: boolean;
  /** Apply the envelope postfilter (default true). */
  postfilter?: boolean;
  /** Largest attenuation in dB, e.g. 20 keeps some ambience (default: unlimited). */
  attenuationLimitDb?: number;
  /**
   * Let the network hear quiet or loud input at the level it works best at
   * (default {@link DEFAULT_LEVEL_NORMALIZE}): a slow gain, following the
   * input's level over about 15 s, on the band energies its inputs are
   * made of. The audio itself is not scaled: the output keeps the input's
   * level.
   */
  levelNormalize?: boolean;
}

/** The options that may change while a Denoiser runs ({@link Denoiser.setOptions}; keys: LIVE_OPTION_KEYS of options.ts). */
export type LiveOptions = Pick<DenoiserOptions, (typeof LIVE_OPTION_KEYS)[number]>;

/** Default of {@link DenoiserOptions.levelNormalize} (training/HISTORY.md, stage 17, decided it). */
export const DEFAULT_LEVEL_NORMALIZE = false;

/** Per-frame information about the most recent 10 ms frame. */
export interface FrameInfo {
  /** Voice-activity probability of the network (0 without a model). */
  vad: number;
  /** The 34 band gains applied (a copy). */
  gains: Float32Array;
  /** The 34 comb strengths applied (a copy). */
  strengths: Float32Array;
}

function isParsedModel(m: unknown): m is ParsedModel {
  const p = m as ParsedModel;
  return typeof m === "object" && m !== null && typeof p.config === "object" && p.config !== null
    && p.tensors instanceof Map && Array.isArray(p.specs);
}

function isModelSource(m: unknown): m is ModelSource {
  return m === null || typeof m === "string" || isURL(m) || m instanceof Uint8Array || m instanceof ArrayBuffer || isParsedModel(m);
}

/** Keys of DenoiserOptions, and what to say for keys that belong elsewhere. */
export const DENOISER_OPTION_KEYS = ["wasm", "model", "mode", "comb", "postfilter", "attenuationLimitDb", "levelNormalize"] as const;
export const DENOISER_HINTS: Record<string, string> = {
  sampleRate: "Denoiser is 48 kHz only; for other rates use createStream({ sampleRate }) or denoiseChannels(channels, { sampleRate })",
  channels: "Denoiser is mono; for several channels use createStream({ channels }) or denoiseChannels(channels)",
};

/** Option values shared by Denoiser, streams, the oracle and the worklet. */
export function checkOptionValues(o: DenoiserOptions): void {
  if (o.mode !== undefined && !isGainMode(o.mode)) throw new TypeError(`percepnet: unknown mode ${String(o.mode)}; expected one of ${GAIN_MODES.join(", ")}`);
  for (const k of ["comb", "postfilter", "levelNormalize"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") throw new TypeError(`percepnet: option ${k} must be a boolean, got ${describe(o[k])}`);
  }
  const a = o.attenuationLimitDb;
  if (a !== undefined && typeof a !== "number") throw new TypeError(`percepnet: attenuationLimitDb must be a number (dB), got ${typeof a}`);
  if (a !== undefined && (Number.isNaN(a) || a < 0)) {
    throw new RangeError(`percepnet: attenuationLimitDb must be a number >= 0 (dB), got ${String(a)}`);
  }
  if (o.model !== undefined && !isModelSource(o.model)) {
    throw new TypeError(`percepnet: model must be a ParsedModel, Uint8Array, ArrayBuffer, path, URL or null, got ${describe(o.model)}`);
  }
  if (o.wasm !== undefined && !isWasmSource(o.wasm)) {
    throw new TypeError(`percepnet: wasm must be a WebAssembly.Module, bytes, path or URL, got ${describe(o.wasm)}`);
  }
}

/** Keys (`fn` names the caller in messages) then values. */
export function checkOptions(fn: string, o: unknown, keys: readonly string[] = DENOISER_OPTION_KEYS): asserts o is DenoiserOptions {
  if (!isPlainObject(o)) {
    throw new TypeError(`percepnet: ${fn}: options must be an object, got ${describe(o)}`);
  }
  checkOptionKeys(fn, o, keys, DENOISER_HINTS);
  checkOptionValues(o as DenoiserOptions);
}

function minGainFor(limitDb: number | undefined): number {
  return limitDb === undefined || limitDb === Infinity ? 0 : Math.pow(10, -limitDb / 20);
}

/**
 * An Engine on `module` with `opts` applied: the model loaded when the mode
 * uses it, the mode defaulted from it. Shared by Denoiser and the worklet
 * processor; `opts` must have passed checkOptions.
 */
export function configuredEngine(module: WebAssembly.Module, opts: DenoiserOptions): Engine {
  const eng = new Engine(module);
  const m = opts.model;
  if (typeof m === "string" || isURL(m)) throw new TypeError("percepnet: new Denoiser() needs a parsed model or its bytes; use Denoiser.create() to load from a path or URL");
  if (m !== null && m !== undefined && opts.mode !== "unity" && opts.mode !== "oracle") {
    eng.loadModel(m instanceof Uint8Array || m instanceof ArrayBuffer ? parseModelFile(m) : (m as ParsedModel));
  }
  if (opts.mode === "network" && !eng.hasModel) throw new Error("percepnet: mode \"network\" needs a model");
  eng.configure({
    mode: opts.mode ?? (eng.hasModel ? "network" : "unity"),
    comb: opts.comb ?? true,
    postfilter: opts.postfilter ?? true,
    minGain: minGainFor(opts.attenuationLimitDb),
    levelNormalize: opts.levelNormalize ?? DEFAULT_LEVEL_NORMALIZE,
  });
  return eng;
}

/** The Engine settings of the options that may change while running. */
export function liveConfig(opts: LiveOptions): Partial<EngineConfig> {
  const c: Partial<EngineConfig> = {};
  if (opts.comb !== undefined) c.comb = opts.comb;
  if (opts.postfilter !== undefined) c.postfilter = opts.postfilter;
  if ("attenuationLimitDb" in opts) c.minGain = minGainFor(opts.attenuationLimitDb);
  if (opts.levelNormalize !== undefined) c.levelNormalize = opts.levelNormalize;
  return c;
}

/**
 * The streaming denoiser: an {@link Engine} (one wasm instance) plus a FIFO
 * that turns chunks of any length into 480-sample frames and back.
 */
export class Denoiser {
  /** Total delay of process() output vs its input, in samples: algorithmic delay + one frame of buffering. */
  readonly delay = ALGORITHMIC_DELAY + FRAME_SIZE;
  readonly sampleRate = 48000;
  /** Frames processed since creation or the last reset. */
  frames = 0;

  private readonly eng: Engine;
  private fill = 0; // samples waiting in the wasm input frame
  // output FIFO; starts with one frame of zeros so any chunking gives the same stream
  private readonly outQ = new Float32Array(2 * FRAME_SIZE);
  private outHead = 0;
  private outCount = FRAME_SIZE;
  private readonly mode: GainMode;

  /** Create a denoiser (async: may compile the wasm and read the model). */
  static async create(opts: DenoiserOptions = {}): Promise<Denoiser> {
    checkOptions("Denoiser.create()", opts);
    const module = opts.wasm !== undefined ? await compileWasm(opts.wasm) : await defaultWasmModule();
    const needsModel = opts.mode === undefined || opts.mode === "network";
    const model = needsModel ? await resolveModel(opts.model) : null;
    return new Denoiser(module, { ...opts, model });
  }

  /** True when a network is loaded (mode "network" is then the default). */
  get hasModel(): boolean { return this.eng.hasModel; }

  /**
   * Synchronous construction from a compiled module (AudioWorklet, workerd).
   * `opts.model` must then be a ParsedModel or bytes (or null/absent: no network).
   */
  constructor(module: WebAssembly.Module, opts: DenoiserOptions = {}) {
    if (!(module instanceof WebAssembly.Module)) {
      throw new TypeError(`percepnet: new Denoiser() needs a compiled WebAssembly.Module, got ${describe(module)}; use await Denoiser.create(options) for anything else`);
    }
    checkOptions("new Denoiser()", opts);
    this.eng = configuredEngine(module, opts);
    this.mode = this.eng.config.mode;
  }

  /**
   * The wasm instance behind this denoiser (advanced: per-frame internals
   * such as features or pitch). Configuring it directly changes this
   * denoiser's output; reset() restores the configuration set through
   * the Denoiser.
   */
  get engine(): Engine { return this.eng; }

  /**
   * Denoise a chunk of 48 kHz mono samples of any length. Returns (or fills
   * `output` with) exactly input.length samples, delayed by `delay`.
   * `clean`, in oracle mode, is the clean reference aligned with `input`.
   */
  process(input: Float32Array, output?: Float32Array, clean?: Float32Array): Float32Array {
    needFloat32("Denoiser.process(): input", input);
    if (output !== undefined) needFloat32("Denoiser.process(): output", output);
    if (clean !== undefined) needFloat32("Denoiser.process(): clean", clean);
    const out = output ?? new Float32Array(input.length);
    if (out.length < input.length) throw new RangeError(`percepnet: Denoiser.process(): output buffer (${out.length}) shorter than input (${input.length})`);
    if (this.mode === "oracle" && (!clean || clean.length !== input.length)) {
      throw new Error("percepnet: oracle mode needs a clean reference of the same length as the input");
    }
    const eng = this.eng;
    let i = 0, o = 0;
    const n = input.length;
    while (i < n) {
      const take = Math.min(FRAME_SIZE - this.fill, n - i);
      eng.input.set(input.subarray(i, i + take), this.fill);
      if (clean) eng.clean.set(clean.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill === FRAME_SIZE) {
        this.runFrame();
        this.fill = 0;
      }
      o = this.drain(out, o, i - o);
    }
    return out;
  }

  private runFrame(): void {
    this.eng.runFrame();
    this.frames++;
    // append 480 samples to the FIFO
    const outView = this.eng.output;
    const tail = (this.outHead + this.outCount) % this.outQ.length;
    const first = Math.min(FRAME_SIZE, this.outQ.length - tail);
    this.outQ.set(outView.subarray(0, first), tail);
    if (first < FRAME_SIZE) this.outQ.set(outView.subarray(first), 0);
    this.outCount += FRAME_SIZE;
    this.onFrame?.(this);
  }

  private drain(out: Float32Array, o: number, want: number): number {
    while (want > 0) {
      const run = Math.min(want, this.outCount, this.outQ.length - this.outHead);
      if (run <= 0) throw new Error("percepnet: internal framing error");
      out.set(this.outQ.subarray(this.outHead, this.outHead + run), o);
      this.outHead = (this.outHead + run) % this.outQ.length;
      this.outCount -= run;
      o += run;
      want -= run;
    }
    return o;
  }

  /** Voice-activity probability of the most recent frame (0 without a model); allocation-free. */
  get vad(): number { return this.eng.vad; }

  /**
   * Change comb / postfilter / attenuation limit / level normaliser while running (e.g. from a
   * UI); takes effect at the next 10 ms frame, keeps all audio state.
   */
  setOptions(opts: LiveOptions): void {
    checkOptions("Denoiser.setOptions()", opts, LIVE_OPTION_KEYS);
    this.eng.configure(liveConfig(opts));
  }

  /** Called after every 10 ms frame (e.g. to read frameInfo or features). */
  onFrame?: (d: Denoiser) => void;

  /** VAD, gains and strengths of the most recent frame. */
  get frameInfo(): FrameInfo {
    return { vad: this.eng.vad, gains: this.eng.gains.slice(), strengths: this.eng.strengths.slice() };
  }

  /** Push `delay` zeros through, return those last samples, and reset. */
  flush(): Float32Array {
    const zeros = new Float32Array(this.delay);
    const tail = this.process(zeros, undefined, this.mode === "oracle" ? zeros : undefined);
    this.reset();
    return tail;
  }

  /** Forget all audio state; the next output equals that of a fresh instance with the same options. */
  reset(): void {
    this.eng.reset();
    this.fill = 0;
    this.outQ.fill(0);
    this.outHead = 0;
    this.outCount = FRAME_SIZE;
    this.frames = 0;
  }
}
