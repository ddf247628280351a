/**
 * The core streaming denoiser: one wasm instance, any chunk length in,
 * the same number of samples out. Every surface (CLI, AudioWorklet, Worker,
 * Node API) is a thin layer over this class.
 */
import { compileWasm, defaultWasmModule, instantiateSync, type PercepnetExports, type WasmSource } from "./wasm.js";
import { parseModelFile, type ParsedModel } from "./model-file.js";
import { loadModelIntoWasm } from "./model.js";

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

/** Resolve any model source to a parsed, validated model (or null). */
export async function resolveModel(src: ModelSource | undefined): Promise<ParsedModel | null> {
  if (src === null) return null;
  if (src === undefined) {
    if (!DEFAULT_MODEL_URL) throw new Error("percepnet: no default model in this runtime; pass `model` (the .pnm bytes)");
    defaultModel ??= readModelBytes(DEFAULT_MODEL_URL).then(parseModelFile);
    return defaultModel;
  }
  if (typeof src === "string" || isURL(src)) return parseModelFile(await readModelBytes(src));
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) return parseModelFile(src);
  return src;
}

/** Samples per 10 ms hop at 48 kHz. */
export const FRAME_SIZE = 480;
/** Number of PercepNet bands. */
export const NB_BANDS = 34;
/** Number of network input features per frame. */
export const NB_FEATURES = 70;
/** Algorithmic delay of the signal path: 10 ms overlap + 2 frames of look-ahead. */
export const ALGORITHMIC_DELAY = 1440;

/** Where per-band gains come from. */
export type GainMode = "network" | "unity" | "oracle" | "external";
const GAIN_MODE_CODE: Record<GainMode, number> = { unity: 0, network: 1, oracle: 2, external: 3 };

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
}

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

function checkOptions(o: DenoiserOptions): void {
  if (typeof o !== "object" || o === null) throw new TypeError(`percepnet: options must be an object, got ${o === null ? "null" : typeof o}`);
  // own keys only: "toString" in {...} is true
  if (o.mode !== undefined && !Object.prototype.hasOwnProperty.call(GAIN_MODE_CODE, o.mode as string)) throw new TypeError(`percepnet: unknown mode ${String(o.mode)}; expected one of ${Object.keys(GAIN_MODE_CODE).join(", ")}`);
  for (const k of ["comb", "postfilter"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") throw new TypeError(`percepnet: option ${k} must be a boolean`);
  }
  const a = o.attenuationLimitDb;
  if (a !== undefined && typeof a !== "number") throw new TypeError(`percepnet: attenuationLimitDb must be a number (dB), got ${typeof a}`);
  if (a !== undefined && (Number.isNaN(a) || a < 0)) {
    throw new RangeError(`percepnet: attenuationLimitDb must be a number >= 0 (dB), got ${String(a)}`);
  }
  const m = o.model;
  if (m !== undefined && m !== null && typeof m !== "string" && !isURL(m) && !(m instanceof Uint8Array)
    && !(m instanceof ArrayBuffer) && !isParsedModel(m)) {
    throw new TypeError("percepnet: model must be a ParsedModel, Uint8Array, ArrayBuffer, path, URL or null");
  }
  const w = o.wasm;
  if (w !== undefined && typeof w !== "string" && !isURL(w) && !(w instanceof WebAssembly.Module)
    && !(w instanceof ArrayBuffer) && !ArrayBuffer.isView(w)) {
    throw new TypeError("percepnet: wasm must be a WebAssembly.Module, bytes, path or URL");
  }
}

function minGainFor(limitDb: number | undefined): number {
  return limitDb === undefined || limitDb === Infinity ? 0 : Math.pow(10, -limitDb / 20);
}

export class Denoiser {
  /** Total delay of process() output vs its input, in samples: algorithmic delay + one frame of buffering. */
  readonly delay = ALGORITHMIC_DELAY + FRAME_SIZE;
  readonly sampleRate = 48000;
  /** Frames processed since creation or the last reset. */
  frames = 0;

  private readonly ex: PercepnetExports;
  private readonly fns: Record<string, (...a: number[]) => number>;
  private inView!: Float32Array;
  private cleanView!: Float32Array;
  private outView!: Float32Array;
  private viewBuffer: ArrayBuffer | null = null;
  private fill = 0; // samples waiting in the wasm input frame
  // output FIFO; starts with one frame of zeros so any chunking gives the same stream
  private readonly outQ = new Float32Array(2 * FRAME_SIZE);
  private outHead = 0;
  private outCount = FRAME_SIZE;
  private mode: GainMode;
  private opts: Required<Pick<DenoiserOptions, "comb" | "postfilter">> & { minGain: number };

  /** Create a denoiser (async: may compile the wasm and read the model). */
  static async create(opts: DenoiserOptions = {}): Promise<Denoiser> {
    checkOptions(opts);
    const module = opts.wasm !== undefined ? await compileWasm(opts.wasm) : await defaultWasmModule();
    const needsModel = opts.mode === undefined || opts.mode === "network";
    const model = needsModel ? await resolveModel(opts.model) : null;
    return new Denoiser(module, { ...opts, model });
  }

  /** True when a network is loaded (mode "network" is then the default). */
  get hasModel(): boolean { return this.modelLoaded; }
  private modelLoaded = false;

  /**
   * Synchronous construction from a compiled module (AudioWorklet, workerd).
   * `opts.model` must then be a ParsedModel or bytes (or null/absent: no network).
   */
  constructor(module: WebAssembly.Module, opts: DenoiserOptions = {}) {
    if (!(module instanceof WebAssembly.Module)) throw new TypeError("percepnet: new Denoiser() needs a compiled WebAssembly.Module; use Denoiser.create() for anything else");
    checkOptions(opts);
    this.ex = instantiateSync(module);
    this.fns = this.ex as unknown as Record<string, (...a: number[]) => number>;
    const m = opts.model;
    if (typeof m === "string" || isURL(m)) throw new TypeError("percepnet: new Denoiser() needs a parsed model or its bytes; use Denoiser.create() to load from a path or URL");
    if (m !== null && m !== undefined && opts.mode !== "unity" && opts.mode !== "oracle") {
      loadModelIntoWasm(this.ex, m instanceof Uint8Array || m instanceof ArrayBuffer ? parseModelFile(m) : (m as ParsedModel));
      this.modelLoaded = true;
    }
    if (opts.mode === "network" && !this.modelLoaded) throw new Error("percepnet: mode \"network\" needs a model");
    this.mode = opts.mode ?? (this.modelLoaded ? "network" : "unity");
    const a = opts.attenuationLimitDb;
    this.opts = {
      comb: opts.comb ?? true,
      postfilter: opts.postfilter ?? true,
      minGain: minGainFor(a),
    };
    this.applyOptions();
  }

  private applyOptions(): void {
    const { comb, postfilter, minGain } = this.opts;
    this.fns.configure(GAIN_MODE_CODE[this.mode], comb ? 1 : 0, postfilter ? 1 : 0, minGain, this.mode === "oracle" ? 1 : 0);
  }

  private views(): void {
    const buf = this.ex.memory.buffer;
    if (buf === this.viewBuffer) return;
    this.viewBuffer = buf;
    this.inView = new Float32Array(buf, this.fns.inputPtr(), FRAME_SIZE);
    this.cleanView = new Float32Array(buf, this.fns.cleanPtr(), FRAME_SIZE);
    this.outView = new Float32Array(buf, this.fns.outputPtr(), FRAME_SIZE);
  }

  /** Raw wasm exports, for tools that need the per-frame internals (features, targets). */
  get wasm(): PercepnetExports { return this.ex; }

  /**
   * Denoise a chunk of 48 kHz mono samples of any length. Returns (or fills
   * `output` with) exactly input.length samples, delayed by `delay`.
   * `clean`, in oracle mode, is the clean reference aligned with `input`.
   */
  process(input: Float32Array, output?: Float32Array, clean?: Float32Array): Float32Array {
    if (!(input instanceof Float32Array)) throw new TypeError("percepnet: input must be a Float32Array");
    if (output !== undefined && !(output instanceof Float32Array)) throw new TypeError("percepnet: output must be a Float32Array");
    const out = output ?? new Float32Array(input.length);
    if (out.length < input.length) throw new RangeError("percepnet: output buffer shorter than input");
    if (this.mode === "oracle" && (!clean || clean.length !== input.length)) {
      throw new Error("percepnet: oracle mode needs a clean reference of the same length as the input");
    }
    this.views();
    let i = 0, o = 0;
    const n = input.length;
    while (i < n) {
      const take = Math.min(FRAME_SIZE - this.fill, n - i);
      this.inView.set(input.subarray(i, i + take), this.fill);
      if (clean) this.cleanView.set(clean.subarray(i, i + take), this.fill);
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
    this.fns.processFrame();
    this.frames++;
    // append 480 samples to the FIFO
    let tail = (this.outHead + this.outCount) % this.outQ.length;
    const first = Math.min(FRAME_SIZE, this.outQ.length - tail);
    this.outQ.set(this.outView.subarray(0, first), tail);
    if (first < FRAME_SIZE) this.outQ.set(this.outView.subarray(first), 0);
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
  get vad(): number { return this.fns.frameVad(); }

  /**
   * Change comb / postfilter / attenuation limit while running (e.g. from a
   * UI); takes effect at the next 10 ms frame, keeps all audio state.
   */
  setOptions(opts: Pick<DenoiserOptions, "comb" | "postfilter" | "attenuationLimitDb">): void {
    checkOptions(opts);
    if (opts.comb !== undefined) this.opts.comb = opts.comb;
    if (opts.postfilter !== undefined) this.opts.postfilter = opts.postfilter;
    if ("attenuationLimitDb" in opts) this.opts.minGain = minGainFor(opts.attenuationLimitDb);
    this.applyOptions();
  }

  /** Called after every 10 ms frame (e.g. to read frameInfo or features). */
  onFrame?: (d: Denoiser) => void;

  /** VAD, gains and strengths of the most recent frame. */
  get frameInfo(): FrameInfo {
    const buf = this.ex.memory.buffer;
    return {
      vad: this.fns.frameVad(),
      gains: new Float32Array(buf, this.fns.gainsPtr(), NB_BANDS).slice(),
      strengths: new Float32Array(buf, this.fns.strengthsPtr(), NB_BANDS).slice(),
    };
  }

  /** Push `delay` zeros through, return those last samples, and reset. */
  flush(): Float32Array {
    const zeros = new Float32Array(this.delay);
    const tail = this.process(zeros, undefined, this.mode === "oracle" ? zeros : undefined);
    this.reset();
    return tail;
  }

  /** Forget all audio state; the next output equals that of a fresh instance. */
  reset(): void {
    this.fns.reset();
    this.fill = 0;
    this.outQ.fill(0);
    this.outHead = 0;
    this.outCount = FRAME_SIZE;
    this.frames = 0;
  }
}
