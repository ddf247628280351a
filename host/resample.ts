/**
 * Rational-ratio sample-rate conversion with a Kaiser-windowed sinc low-pass.
 *
 * Used by the evaluation code (48 kHz -> 16 kHz for DNSMOS, 48 kHz -> 10 kHz
 * for STOI), where a plain decimator would alias noise above the new Nyquist
 * frequency into the band the metric scores. Written here rather than taken
 * from npm so that the filter spec (pass band to 0.9 x the output Nyquist,
 * >= 80 dB stop band from the output Nyquist up) is known and tested.
 *
 * The filter runs at the virtual rate fin*L; only the taps that meet
 * non-zero (original) samples are evaluated, which is the polyphase
 * decomposition done on the fly.
 */

import { checkOptionKeys, describe } from "./options.js";

/** Design parameters; the defaults give >= 80 dB stop band. */
export interface ResampleOptions {
  /** Pass-band edge as a fraction of the lower Nyquist frequency (default 0.9). */
  passband?: number;
  /** Stop-band attenuation in dB used to pick the Kaiser beta and length (default 80). */
  attenuationDb?: number;
}

const RESAMPLE_OPTION_KEYS = ["passband", "attenuationDb"] as const;

/** Rates and options of resample() / new StreamResampler(); `fn` names the caller. */
function checkResampleArgs(fn: string, fin: unknown, fout: unknown, opts: unknown): void {
  if (!Number.isInteger(fin) || !Number.isInteger(fout) || (fin as number) <= 0 || (fout as number) <= 0) {
    throw new TypeError(`percepnet: ${fn}: rates must be positive integers in Hz (from, to), got ${describe(fin)} -> ${describe(fout)}`);
  }
  checkOptionKeys(fn, opts, RESAMPLE_OPTION_KEYS);
  const o = opts as ResampleOptions;
  if (o.passband !== undefined && !(typeof o.passband === "number" && o.passband > 0 && o.passband < 1)) {
    throw new RangeError(`percepnet: ${fn}: passband must be a number between 0 and 1, got ${describe(o.passband)}`);
  }
  if (o.attenuationDb !== undefined && !(typeof o.attenuationDb === "number" && o.attenuationDb >= 21 && o.attenuationDb <= 200)) {
    throw new RangeError(`percepnet: ${fn}: attenuationDb must be a number from 21 to 200, got ${describe(o.attenuationDb)}`);
  }
}

/** True for an array or typed array of numbers (what the resamplers index). */
function isSamples(x: unknown): x is ArrayLike<number> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** Greatest common divisor (rational resampling ratios). */
export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Design { up: number; down: number; taps: Float64Array; center: number }

const designCache = new Map<string, Design>();

function design(fin: number, fout: number, opts: ResampleOptions): Design {
  const passband = opts.passband ?? 0.9;
  const atten = opts.attenuationDb ?? 80;
  const key = `${fin}/${fout}/${passband}/${atten}`;
  const cached = designCache.get(key);
  if (cached) return cached;
  const g = gcd(fin, fout);
  const up = fout / g;
  const down = fin / g;
  const fsVirtual = fin * up;
  const nyq = Math.min(fin, fout) / 2;
  // Transition band [passband*nyq, nyq]: the stop band starts at the output
  // Nyquist frequency, so nothing above it can alias back.
  const fPass = passband * nyq;
  const cutoff = (fPass + nyq) / 2;
  const deltaOmega = (2 * Math.PI * (nyq - fPass)) / fsVirtual;
  const beta = atten > 50 ? 0.1102 * (atten - 8.7) : 0.5842 * Math.pow(atten - 21, 0.4) + 0.07886 * (atten - 21);
  let len = Math.ceil((atten - 7.95) / (2.285 * deltaOmega)) + 1;
  if (len % 2 === 0) len++;
  const center = (len - 1) / 2;
  const taps = new Float64Array(len);
  const fc = cutoff / fsVirtual; // cycles per virtual sample
  const i0b = besselI0(beta);
  for (let n = 0; n < len; n++) {
    const t = n - center;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = t / center;
    const win = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    // Gain `up` restores the amplitude lost to zero-stuffing.
    taps[n] = up * sinc * win;
  }
  const d = { up, down, taps, center };
  designCache.set(key, d);
  return d;
}

/**
 * Resample `x` from `fin` Hz to `fout` Hz (integer rates). The output has
 * ceil(len * fout / fin) samples and no group delay: output sample m is
 * aligned with input time m / fout.
 */
export function resample(x: ArrayLike<number>, fin: number, fout: number, opts: ResampleOptions = {}): Float32Array {
  if (!isSamples(x)) throw new TypeError(`percepnet: resample(): samples (1st argument) must be a Float32Array or array of numbers, got ${describe(x)}`);
  checkResampleArgs("resample()", fin, fout, opts);
  if (fin === fout) return Float32Array.from(x);
  const { up, down, taps, center } = design(fin, fout, opts);
  const n = x.length;
  const outLen = Math.ceil((n * up) / down);
  const y = new Float32Array(outLen);
  const len = taps.length;
  for (let m = 0; m < outLen; m++) {
    const t = m * down; // position on the virtual (fin*up) grid
    // taps index k = t - j*up + center must lie in [0, len)
    let jLo = Math.ceil((t + center - (len - 1)) / up);
    let jHi = Math.floor((t + center) / up);
    if (jLo < 0) jLo = 0;
    if (jHi > n - 1) jHi = n - 1;
    let acc = 0;
    for (let j = jLo, k = t - jLo * up + center; j <= jHi; j++, k -= up) acc += x[j] * taps[k];
    y[m] = acc;
  }
  return y;
}

/**
 * Streaming form of {@link resample}: push chunks of any length, get the
 * output samples that are complete so far. With zero history before the
 * first sample, the concatenated output equals `resample()` of the
 * concatenated input (up to the last `lookahead` inputs, still pending).
 * Allocates only in the constructor; `push` writes into a caller's buffer.
 */
export class StreamResampler {
  readonly fin: number;
  readonly fout: number;
  /** Input samples an output sample waits for beyond its own time (the filter's causal part). */
  readonly lookahead: number;
  private readonly up: number;
  private readonly down: number;
  private readonly taps: Float64Array;
  private readonly center: number;
  private readonly hist: Float64Array; // ring of the last `hist.length` inputs
  private readonly mask: number;
  private nIn = 0; // inputs consumed
  private mOut = 0; // outputs produced

  constructor(fin: number, fout: number, opts: ResampleOptions = {}) {
    checkResampleArgs("new StreamResampler()", fin, fout, opts);
    this.fin = fin;
    this.fout = fout;
    const d = fin === fout ? { up: 1, down: 1, taps: Float64Array.of(1), center: 0 } : design(fin, fout, opts);
    this.up = d.up; this.down = d.down; this.taps = d.taps; this.center = d.center;
    this.lookahead = Math.floor(d.center / d.up);
    let size = 1;
    while (size < Math.ceil(d.taps.length / d.up) + 2) size *= 2;
    this.hist = new Float64Array(size);
    this.mask = size - 1;
  }

  /** Upper bound on the outputs one push of `n` inputs can produce (for sizing buffers). */
  maxOutput(n: number): number { return Math.ceil((n * this.up) / this.down) + 1; }

  /** Consume `input`; write the outputs now complete into `out` (from index 0) and return their count. */
  push(input: ArrayLike<number>, out: Float32Array): number {
    if (!isSamples(input)) throw new TypeError(`percepnet: StreamResampler.push(): input must be a Float32Array or array of numbers, got ${describe(input)}`);
    if (!(out instanceof Float32Array)) throw new TypeError(`percepnet: StreamResampler.push(): out (2nd argument) must be a Float32Array sized with maxOutput(), got ${describe(out)}`);
    const { up, down, taps, center, hist, mask } = this;
    const len = taps.length;
    let w = 0;
    for (let i = 0; i < input.length; i++) {
      const j = this.nIn++;
      hist[j & mask] = input[i];
      // every output whose newest tap is input j: floor((m*down + center) / up) <= j
      while (this.mOut * down + center < (j + 1) * up) {
        const t = this.mOut * down;
        let jLo = Math.ceil((t + center - (len - 1)) / up);
        if (jLo < 0) jLo = 0;
        const jHi = Math.floor((t + center) / up);
        let acc = 0;
        for (let jj = jLo, k = t - jLo * up + center; jj <= jHi; jj++, k -= up) acc += hist[jj & mask] * taps[k];
        if (w >= out.length) throw new RangeError("StreamResampler: output buffer too small; size it with maxOutput()");
        out[w++] = acc;
        this.mOut++;
      }
    }
    return w;
  }

  /** Forget all history: the next push behaves like the first. */
  reset(): void {
    this.hist.fill(0);
    this.nIn = 0;
    this.mOut = 0;
  }
}
