/**
 * The streaming API for real inputs: any of the common sample rates, any
 * number of channels. One {@link Denoiser} per channel (channels share no
 * state); rates other than 48 kHz go through a {@link StreamResampler} to
 * 48 kHz and another one back, so the output has the input's rate and, like
 * Denoiser.process, exactly as many samples as were pushed.
 */
import { Denoiser, DENOISER_OPTION_KEYS, checkOptions, type DenoiserOptions, type FrameInfo } from "./denoiser.js";
import { LIVE_OPTION_KEYS, describe, needChannels } from "./options.js";
import { StreamResampler } from "./resample.js";
import { compileWasm, defaultWasmModule } from "./wasm.js";
import { resolveModel } from "./denoiser.js";
import type { ParsedModel } from "./model-file.js";
import { alignedProcess } from "./aligned.js";

/** Input rates the stream accepts (each divides into a 48 kHz round trip with a short filter). */
export const SUPPORTED_SAMPLE_RATES = [8000, 16000, 24000, 32000, 44100, 48000] as const;
export type SupportedSampleRate = (typeof SUPPORTED_SAMPLE_RATES)[number];
/** Most channels one stream takes (a sanity bound: each channel costs one wasm instance, ~1.5 MB). */
export const MAX_CHANNELS = 64;

/** Options of {@link createStream} / {@link MultiChannelDenoiser}. */
export interface StreamOptions extends DenoiserOptions {
  /** Rate of the samples given to process(), in Hz (default 48000). */
  sampleRate?: number;
  /** Number of channels, each denoised on its own (default 1). */
  channels?: number;
}

/** Called after each 10 ms frame of one channel, e.g. to read `vad`. */
export type ChannelFrameCallback = (channel: number, denoiser: Denoiser) => void;

const STREAM_OPTION_KEYS = [...DENOISER_OPTION_KEYS, "sampleRate", "channels"] as const;

/** Keys and values of stream options; `fn` names the caller in messages. */
function checkStreamOptions(fn: string, o: StreamOptions): { sampleRate: number; channels: number } {
  checkOptions(fn, o, STREAM_OPTION_KEYS);
  const sampleRate = o.sampleRate ?? 48000;
  if (!(SUPPORTED_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
    throw new RangeError(`percepnet: unsupported sampleRate ${String(o.sampleRate)}; expected one of ${SUPPORTED_SAMPLE_RATES.join(", ")} Hz`);
  }
  const channels = o.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new RangeError(`percepnet: channels must be an integer from 1 to ${MAX_CHANNELS}, got ${String(o.channels)}`);
  }
  return { sampleRate, channels };
}

/** One channel's path: resample in, denoise at 48 kHz, resample out, FIFO. */
class ChannelPath {
  private up?: StreamResampler;
  private downR?: StreamResampler;
  private a: Float32Array = new Float32Array(0); // 48 kHz input scratch
  private b: Float32Array = new Float32Array(0); // 48 kHz output scratch
  private c: Float32Array = new Float32Array(0); // output-rate scratch
  // Output FIFO at the input rate; starts with `prefill` zeros so reads never run dry.
  private q: Float32Array;
  private head = 0;
  private count: number;

  constructor(readonly den: Denoiser, rate: number, private readonly prefill: number) {
    if (rate !== den.sampleRate) {
      this.up = new StreamResampler(rate, den.sampleRate);
      this.downR = new StreamResampler(den.sampleRate, rate);
    }
    this.q = new Float32Array(Math.max(1024, 2 * prefill));
    this.count = prefill;
  }

  /** Grows a scratch buffer only when a larger chunk than ever before arrives. */
  private static fit(buf: Float32Array, n: number): Float32Array {
    return buf.length >= n ? buf : new Float32Array(Math.max(n, 2 * buf.length));
  }

  process(x: Float32Array, y: Float32Array): void {
    if (!this.up || !this.downR) {
      this.den.process(x, y);
      return;
    }
    this.a = ChannelPath.fit(this.a, this.up.maxOutput(x.length));
    const n48 = this.up.push(x, this.a);
    this.b = ChannelPath.fit(this.b, n48);
    this.den.process(this.a.subarray(0, n48), this.b);
    this.c = ChannelPath.fit(this.c, this.downR.maxOutput(n48));
    const nOut = this.downR.push(this.b.subarray(0, n48), this.c);
    this.enqueue(this.c.subarray(0, nOut));
    this.dequeue(y.subarray(0, x.length));
  }

  private enqueue(v: Float32Array): void {
    if (this.count + v.length > this.q.length) {
      const bigger = new Float32Array(2 * (this.count + v.length));
      for (let i = 0; i < this.count; i++) bigger[i] = this.q[(this.head + i) % this.q.length];
      this.q = bigger;
      this.head = 0;
    }
    let tail = (this.head + this.count) % this.q.length;
    for (let i = 0; i < v.length; i++) {
      this.q[tail] = v[i];
      if (++tail === this.q.length) tail = 0;
    }
    this.count += v.length;
  }

  private dequeue(out: Float32Array): void {
    if (out.length > this.count) throw new Error("percepnet: internal resampling FIFO underrun");
    for (let i = 0; i < out.length; i++) {
      out[i] = this.q[this.head];
      if (++this.head === this.q.length) this.head = 0;
    }
    this.count -= out.length;
  }

  reset(): void {
    this.den.reset();
    this.up?.reset();
    this.downR?.reset();
    this.q.fill(0);
    this.head = 0;
    this.count = this.prefill;
  }
}

/**
 * Denoises `channels` independent channels at `sampleRate`. process() takes
 * one Float32Array per channel, all of one length, and returns as many
 * samples per channel, delayed by {@link delay} samples (at `sampleRate`).
 */
export class MultiChannelDenoiser {
  readonly sampleRate: number;
  readonly channels: number;
  /** Delay of process() output vs input, in samples at `sampleRate` (1920 at 48 kHz = 40 ms). */
  readonly delay: number;
  /** The per-channel denoisers (48 kHz), e.g. for `vad`, `frameInfo` or `setOptions`. */
  readonly denoisers: readonly Denoiser[];
  private readonly paths: ChannelPath[];

  /** Create a stream: compiles the wasm and loads the model once for all channels. */
  static async create(opts: StreamOptions = {}): Promise<MultiChannelDenoiser> {
    checkStreamOptions("MultiChannelDenoiser.create()", opts);
    const module = opts.wasm !== undefined ? await compileWasm(opts.wasm) : await defaultWasmModule();
    const needsModel = opts.mode === undefined || opts.mode === "network";
    const model: ParsedModel | null = needsModel ? await resolveModel(opts.model) : null;
    return new MultiChannelDenoiser(module, { ...opts, model });
  }

  /** Synchronous construction from a compiled module; `opts.model` as for `new Denoiser`. */
  constructor(module: WebAssembly.Module, opts: StreamOptions = {}) {
    if (!(module instanceof WebAssembly.Module)) {
      throw new TypeError(`percepnet: new MultiChannelDenoiser() needs a compiled WebAssembly.Module, got ${describe(module)}; use await createStream(options) for anything else`);
    }
    const { sampleRate, channels } = checkStreamOptions("new MultiChannelDenoiser()", opts);
    if (opts.mode === "oracle") throw new Error("percepnet: oracle mode needs a clean reference; use Denoiser directly");
    this.sampleRate = sampleRate;
    this.channels = channels;
    const { sampleRate: _r, channels: _c, ...denOpts } = opts;
    const dens: Denoiser[] = [];
    for (let ch = 0; ch < channels; ch++) {
      const d = new Denoiser(module, denOpts);
      d.onFrame = (den) => this.onFrame?.(ch, den);
      dens.push(d);
    }
    this.denoisers = dens;
    const den0 = dens[0];
    let prefill = 0;
    if (sampleRate !== den0.sampleRate) {
      // Each resampler's output lags its input by at most lookahead + 1 of its input
      // samples; summed over the round trip (in samples at `sampleRate`) and rounded
      // up, this many zeros keep the FIFO from running dry for any chunking.
      const up = new StreamResampler(sampleRate, den0.sampleRate);
      const down = new StreamResampler(den0.sampleRate, sampleRate);
      prefill = up.lookahead + 1 + Math.ceil(((down.lookahead + 1) * sampleRate) / den0.sampleRate) + 1;
    }
    // The Denoiser's delay at 48 kHz is a whole number of samples at every supported rate.
    this.delay = prefill + Math.round((den0.delay * sampleRate) / den0.sampleRate);
    this.paths = dens.map((d) => new ChannelPath(d, sampleRate, prefill));
  }

  /** Called after each 10 ms frame of each channel. */
  onFrame?: ChannelFrameCallback;

  /**
   * Denoise one chunk: `input[ch]` for every channel, all the same length.
   * Returns (or fills `output`) with as many samples per channel.
   */
  process(input: Float32Array[], output?: Float32Array[]): Float32Array[] {
    if (!Array.isArray(input) || input.length !== this.channels) {
      const hint = input instanceof Float32Array ? " (wrap a mono chunk as [samples])" : "";
      throw new TypeError(`percepnet: MultiChannelDenoiser.process() expects an array of ${this.channels} Float32Array channel(s), got ${describe(input)}${hint}`);
    }
    const n = input[0].length;
    for (let ch = 0; ch < this.channels; ch++) {
      if (!(input[ch] instanceof Float32Array)) throw new TypeError(`percepnet: channel ${ch} is not a Float32Array`);
      if (input[ch].length !== n) throw new RangeError(`percepnet: channel ${ch} has ${input[ch].length} samples, channel 0 has ${n}`);
    }
    const out = output ?? input.map(() => new Float32Array(n));
    if (out.length !== this.channels || out.some((o) => o.length < n)) throw new RangeError("percepnet: output needs one buffer per channel, each at least as long as the input");
    for (let ch = 0; ch < this.channels; ch++) this.paths[ch].process(input[ch], out[ch]);
    return out;
  }

  /** Push `delay` zeros through, return those last samples per channel, and reset. */
  flush(): Float32Array[] {
    const zeros = Array.from({ length: this.channels }, () => new Float32Array(this.delay));
    const tail = this.process(zeros);
    this.reset();
    return tail;
  }

  /** Forget all audio state in every channel. */
  reset(): void {
    for (const p of this.paths) p.reset();
  }

  /** VAD probability of the latest frame of each channel. */
  get vad(): number[] { return this.denoisers.map((d) => d.vad); }

  /** VAD, gains and strengths of the latest frame of `channel`. */
  frameInfo(channel = 0): FrameInfo {
    const d = this.denoisers[channel];
    if (!d) throw new RangeError(`percepnet: no channel ${channel} (stream has ${this.channels})`);
    return d.frameInfo;
  }

  /** Change comb / postfilter / attenuation limit on every channel while running. */
  setOptions(opts: Parameters<Denoiser["setOptions"]>[0]): void {
    checkOptions("MultiChannelDenoiser.setOptions()", opts, LIVE_OPTION_KEYS);
    for (const d of this.denoisers) d.setOptions(opts);
  }
}

/** Create a {@link MultiChannelDenoiser}: `await createStream({ sampleRate: 16000, channels: 2 })`. */
export async function createStream(opts: StreamOptions = {}): Promise<MultiChannelDenoiser> {
  checkStreamOptions("createStream()", opts);
  return MultiChannelDenoiser.create(opts);
}

/**
 * Denoise whole channels at any supported rate, time-aligned with the input
 * (delay removed) and of the same length: the offline counterpart of
 * {@link createStream}.
 */
export async function denoiseChannels(channels: Float32Array[], opts: StreamOptions = {}): Promise<Float32Array[]> {
  needChannels("denoiseChannels(): channels (1st argument)", channels);
  checkStreamOptions("denoiseChannels()", opts);
  // `channels` is implied by the array; one that disagrees is a caller's mistake, not something to override.
  if (opts.channels !== undefined && opts.channels !== channels.length) {
    throw new RangeError(`percepnet: denoiseChannels(): options.channels is ${String(opts.channels)} but ${channels.length} channel(s) were given`);
  }
  const s = await MultiChannelDenoiser.create({ ...opts, channels: channels.length });
  return alignedProcess(s, channels);
}

export { alignedProcess };
