/**
 * Rational-ratio polyphase resampler with a Kaiser-windowed sinc kernel.
 *
 * Output rate = input rate * L / M. The kernel's cutoff sits at `rolloff`
 * times the lower of the two Nyquist frequencies so the transition band ends
 * near that Nyquist: images (upsampling) and aliases (downsampling) are
 * attenuated by roughly the Kaiser design's stop-band level (~80 dB at the
 * default beta). The per-phase taps are computed once per (L, M) and cached,
 * so the inner loop is a plain dot product.
 */
import { besselI0, gcd } from "../../host/resample.js";

/**
 * Filter design knobs. The defaults (about 68 taps per output sample) pass up
 * to ~0.86 of the lower Nyquist flat and reach ~80 dB stop-band just above it,
 * so 16 kHz speech keeps content to about 6.9 kHz.
 */
export interface ResampleQuality {
  /** Zero crossings of the sinc on each side of the centre. */
  zeroCrossings: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. */
  rolloff: number;
  /** Kaiser window shape; 8 gives about 80 dB stop-band. */
  kaiserBeta: number;
}

export const DEFAULT_QUALITY: ResampleQuality = { zeroCrossings: 32, rolloff: 0.94, kaiserBeta: 8.0 };

/** Half the taps, ~70 dB stop-band from 1.1 x the lower Nyquist: for noise and babble, whose top edge matters less. */
export const FAST_QUALITY: ResampleQuality = { zeroCrossings: 16, rolloff: 0.9, kaiserBeta: 7.0 };

interface Polyphase {
  L: number;
  M: number;
  /** Taps per phase. */
  T: number;
  /** Leading taps before the floor(input time) sample. */
  K: number;
  /** L phases of T taps, phase-major. */
  h: Float32Array;
}

const cache = new Map<string, Polyphase>();


function design(L: number, M: number, q: ResampleQuality): Polyphase {
  const key = `${L}/${M}/${q.zeroCrossings}/${q.rolloff}/${q.kaiserBeta}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // Cutoff in cycles per input sample times two (1 = input Nyquist).
  const c = Math.min(1, L / M) * q.rolloff;
  const W = q.zeroCrossings / c;
  const K = Math.ceil(W);
  const T = 2 * K;
  const h = new Float32Array(L * T);
  const i0b = besselI0(q.kaiserBeta);
  for (let p = 0; p < L; p++) {
    const frac = p / L;
    for (let j = 0; j < T; j++) {
      // Distance from the output instant to input sample (floor + j - K + 1).
      const x = frac - (j - K + 1);
      let v = 0;
      if (Math.abs(x) < W) {
        const u = c * x;
        const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
        const r = x / W;
        v = c * sinc * (besselI0(q.kaiserBeta * Math.sqrt(1 - r * r)) / i0b);
      }
      h[p * T + j] = v;
    }
  }
  const f = { L, M, T, K, h };
  cache.set(key, f);
  return f;
}

/**
 * Resamples by the rational factor L/M (output has ceil(n * L / M) samples).
 * Input is treated as zero outside its range.
 */
export function resampleRational(
  x: Float32Array,
  L: number,
  M: number,
  quality: ResampleQuality = DEFAULT_QUALITY,
): Float32Array {
  if (!(L > 0 && M > 0 && Number.isInteger(L) && Number.isInteger(M))) {
    throw new Error(`resampleRational: bad ratio ${L}/${M}`);
  }
  const g = gcd(L, M);
  L /= g;
  M /= g;
  if (L === 1 && M === 1) return x.slice();
  const f = design(L, M, quality);
  const { T, K, h } = f;
  const nOut = Math.ceil((x.length * L) / M);
  // Zero padding on both sides keeps the inner loop free of bounds checks.
  const pad = new Float32Array(x.length + 2 * T);
  pad.set(x, T);
  const y = new Float32Array(nOut);
  let i0 = 0; // floor(n * M / L)
  let p = 0; // (n * M) mod L
  for (let n = 0; n < nOut; n++) {
    const base = i0 - K + 1 + T;
    const ho = p * T;
    let acc = 0;
    for (let j = 0; j < T; j++) acc += pad[base + j] * h[ho + j];
    y[n] = acc;
    p += M;
    while (p >= L) {
      p -= L;
      i0++;
    }
  }
  return y;
}

/** Resamples between two integer sample rates. */
export function resample(
  x: Float32Array,
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = DEFAULT_QUALITY,
): Float32Array {
  return resampleRational(x, Math.round(toRate), Math.round(fromRate), quality);
}

/**
 * Highest frequency (Hz, at the output) that passes essentially unattenuated:
 * the pass-band edge of the kernel, below the cutoff by half the Kaiser
 * transition width.
 */
export function passbandEdgeHz(fromRate: number, toRate: number, quality: ResampleQuality = DEFAULT_QUALITY): number {
  const nyq = Math.min(fromRate, toRate) / 2;
  const c = quality.rolloff;
  // Kaiser's design rules: beta = 0.1102 (A - 8.7), transition = (A - 8) / (2.285 len) rad.
  const atten = quality.kaiserBeta / 0.1102 + 8.7;
  const lenLow = (2 * quality.zeroCrossings) / c;
  const dw = (atten - 8) / (2.285 * lenLow) / Math.PI;
  return nyq * Math.max(0, c - dw / 2);
}
