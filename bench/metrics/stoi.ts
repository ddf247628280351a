/**
 * STOI (Taal et al., IEEE TASLP 2011) and extended STOI (Jensen & Taal,
 * IEEE TASLP 2016), implemented from the papers' published descriptions:
 *
 * - both signals resampled to 10 kHz;
 * - frames whose clean energy is more than 40 dB below the loudest clean
 *   frame are dropped from both signals (256-sample Hann frames, 50% overlap,
 *   overlap-add back to a signal);
 * - 256-sample Hann frames, 50% overlap, 512-point FFT;
 * - 15 one-third-octave bands, the lowest centred at 150 Hz (band power summed
 *   over the FFT bins nearest to each band's edges);
 * - 30-frame (384 ms) segments with hop 1 frame;
 * - STOI: per band and segment, the degraded envelope is scaled to the clean
 *   envelope's energy, clipped to (1 + 10^(15/20)) x clean (SDR floor -15 dB),
 *   and correlated with the clean envelope; the result is the mean correlation;
 * - ESTOI: each segment (bands x frames) is mean/norm-normalised along time
 *   (rows) and then along frequency (columns); the result is the mean over
 *   segments of the mean inner product of corresponding columns. No clipping.
 */
import { resample } from "../../host/resample.js";
import { hanningNoZeros, powerSpectrum } from "../../lab/fft.js";

const FS = 10000;
const N_FRAME = 256;
const NFFT = 512;
const NUM_BANDS = 15;
const MIN_FREQ = 150;
const SEG = 30;
const BETA_DB = -15;
const DYN_RANGE = 40;
const EPS = 1e-12;

/** Band/bin membership: band b covers FFT bins [lo[b], hi[b]). */
export function thirdOctaveBands(fs = FS, nfft = NFFT, numBands = NUM_BANDS, minFreq = MIN_FREQ): { lo: Int32Array; hi: Int32Array; center: Float64Array } {
  const nBins = nfft / 2 + 1;
  const lo = new Int32Array(numBands);
  const hi = new Int32Array(numBands);
  const center = new Float64Array(numBands);
  const nearest = (f: number) => {
    let best = 0, bestD = Infinity;
    for (let k = 0; k < nBins; k++) {
      const d = Math.abs((k * fs) / nfft - f);
      if (d < bestD) { bestD = d; best = k; }
    }
    return best;
  };
  for (let b = 0; b < numBands; b++) {
    center[b] = minFreq * Math.pow(2, b / 3);
    lo[b] = nearest(minFreq * Math.pow(2, (2 * b - 1) / 6));
    hi[b] = nearest(minFreq * Math.pow(2, (2 * b + 1) / 6));
  }
  return { lo, hi, center };
}

const BANDS = thirdOctaveBands();
const WIN = hanningNoZeros(N_FRAME);

/** Drop frames of both signals where the clean frame is > dynRange dB below the loudest one. */
export function removeSilentFrames(x: Float32Array, y: Float32Array, dynRange = DYN_RANGE, frameLen = N_FRAME, hop = N_FRAME / 2): [Float32Array, Float32Array] {
  const n = Math.min(x.length, y.length);
  const starts: number[] = [];
  for (let s = 0; s + frameLen <= n; s += hop) starts.push(s);
  const energy = new Float64Array(starts.length);
  let maxE = -Infinity;
  starts.forEach((s, f) => {
    let e = 0;
    for (let i = 0; i < frameLen; i++) { const v = WIN[i] * x[s + i]; e += v * v; }
    energy[f] = 20 * Math.log10(Math.sqrt(e) + EPS);
    if (energy[f] > maxE) maxE = energy[f];
  });
  const keep = starts.filter((_, f) => energy[f] > maxE - dynRange);
  const outLen = keep.length === 0 ? 0 : (keep.length - 1) * hop + frameLen;
  const xo = new Float32Array(outLen);
  const yo = new Float32Array(outLen);
  keep.forEach((s, f) => {
    const o = f * hop;
    for (let i = 0; i < frameLen; i++) {
      xo[o + i] += WIN[i] * x[s + i];
      yo[o + i] += WIN[i] * y[s + i];
    }
  });
  return [xo, yo];
}

/** One-third-octave band magnitudes, [frame][band] flattened (frames x 15). */
function bandEnvelopes(x: Float32Array): { env: Float64Array; frames: number } {
  const frames = x.length >= N_FRAME ? Math.floor((x.length - N_FRAME) / (N_FRAME / 2)) + 1 : 0;
  const env = new Float64Array(frames * NUM_BANDS);
  const frame = new Float64Array(N_FRAME);
  const pow = new Float64Array(NFFT / 2 + 1);
  const re = new Float64Array(NFFT), im = new Float64Array(NFFT);
  for (let f = 0; f < frames; f++) {
    const s = f * (N_FRAME / 2);
    for (let i = 0; i < N_FRAME; i++) frame[i] = WIN[i] * x[s + i];
    powerSpectrum(frame, NFFT, pow, re, im);
    for (let b = 0; b < NUM_BANDS; b++) {
      let e = 0;
      for (let k = BANDS.lo[b]; k < BANDS.hi[b]; k++) e += pow[k];
      env[f * NUM_BANDS + b] = Math.sqrt(e);
    }
  }
  return { env, frames };
}

function prepare(clean: ArrayLike<number>, degraded: ArrayLike<number>, fs: number) {
  if (clean.length !== degraded.length) throw new Error(`stoi: signals differ in length (${clean.length} vs ${degraded.length})`);
  let x = resample(clean, fs, FS);
  let y = resample(degraded, fs, FS);
  [x, y] = removeSilentFrames(x, y);
  const X = bandEnvelopes(x);
  const Y = bandEnvelopes(y);
  return { X: X.env, Y: Y.env, frames: X.frames };
}

/** Clean/degraded segment pair for band b: 30 values each, mean-removed if asked. */
function segmentBand(env: Float64Array, m: number, b: number, out: Float64Array): void {
  for (let t = 0; t < SEG; t++) out[t] = env[(m + t) * NUM_BANDS + b];
}

/**
 * Short-time objective intelligibility in [~0, 1] of `degraded` against
 * `clean`, both at `fs` Hz and time-aligned with equal length. Returns
 * 1e-5 (as the reference code does) if fewer than 30 non-silent frames remain.
 */
export function stoi(clean: ArrayLike<number>, degraded: ArrayLike<number>, fs: number): number {
  return stoiFromEnvelopes(prepare(clean, degraded, fs));
}

type Envelopes = ReturnType<typeof prepare>;

function stoiFromEnvelopes({ X, Y, frames }: Envelopes): number {
  if (frames < SEG) return 1e-5;
  const clip = Math.pow(10, -BETA_DB / 20);
  const xs = new Float64Array(SEG), ys = new Float64Array(SEG);
  let sum = 0;
  let count = 0;
  for (let m = 0; m + SEG <= frames; m++) {
    for (let b = 0; b < NUM_BANDS; b++) {
      segmentBand(X, m, b, xs);
      segmentBand(Y, m, b, ys);
      let nx = 0, ny = 0;
      for (let t = 0; t < SEG; t++) { nx += xs[t] * xs[t]; ny += ys[t] * ys[t]; }
      const alpha = Math.sqrt(nx) / (Math.sqrt(ny) + EPS);
      let mx = 0, my = 0;
      for (let t = 0; t < SEG; t++) {
        ys[t] = Math.min(ys[t] * alpha, xs[t] * (1 + clip));
        mx += xs[t]; my += ys[t];
      }
      mx /= SEG; my /= SEG;
      let dot = 0, ex = 0, ey = 0;
      for (let t = 0; t < SEG; t++) {
        const a = xs[t] - mx, c = ys[t] - my;
        dot += a * c; ex += a * a; ey += c * c;
      }
      sum += dot / ((Math.sqrt(ex) + EPS) * (Math.sqrt(ey) + EPS));
      count++;
    }
  }
  return sum / count;
}

/** Row (time) then column (band) normalisation of one 15 x 30 segment, in place. */
function rowColNormalise(seg: Float64Array): void {
  for (let b = 0; b < NUM_BANDS; b++) {
    let mean = 0;
    for (let t = 0; t < SEG; t++) mean += seg[b * SEG + t];
    mean /= SEG;
    let norm = 0;
    for (let t = 0; t < SEG; t++) { const v = seg[b * SEG + t] - mean; seg[b * SEG + t] = v; norm += v * v; }
    norm = Math.sqrt(norm) + EPS;
    for (let t = 0; t < SEG; t++) seg[b * SEG + t] /= norm;
  }
  for (let t = 0; t < SEG; t++) {
    let mean = 0;
    for (let b = 0; b < NUM_BANDS; b++) mean += seg[b * SEG + t];
    mean /= NUM_BANDS;
    let norm = 0;
    for (let b = 0; b < NUM_BANDS; b++) { const v = seg[b * SEG + t] - mean; seg[b * SEG + t] = v; norm += v * v; }
    norm = Math.sqrt(norm) + EPS;
    for (let b = 0; b < NUM_BANDS; b++) seg[b * SEG + t] /= norm;
  }
}

/** Extended STOI (handles modulated/fluctuating noise better than STOI); same inputs as {@link stoi}. */
export function estoi(clean: ArrayLike<number>, degraded: ArrayLike<number>, fs: number): number {
  return estoiFromEnvelopes(prepare(clean, degraded, fs));
}

/** STOI and ESTOI together, sharing the resampling and band analysis. */
export function intelligibility(clean: ArrayLike<number>, degraded: ArrayLike<number>, fs: number): { stoi: number; estoi: number } {
  const env = prepare(clean, degraded, fs);
  return { stoi: stoiFromEnvelopes(env), estoi: estoiFromEnvelopes(env) };
}

function estoiFromEnvelopes({ X, Y, frames }: Envelopes): number {
  if (frames < SEG) return 1e-5;
  const xs = new Float64Array(NUM_BANDS * SEG), ys = new Float64Array(NUM_BANDS * SEG);
  let sum = 0;
  let segments = 0;
  for (let m = 0; m + SEG <= frames; m++) {
    for (let b = 0; b < NUM_BANDS; b++) {
      for (let t = 0; t < SEG; t++) {
        xs[b * SEG + t] = X[(m + t) * NUM_BANDS + b];
        ys[b * SEG + t] = Y[(m + t) * NUM_BANDS + b];
      }
    }
    rowColNormalise(xs);
    rowColNormalise(ys);
    let d = 0;
    for (let i = 0; i < xs.length; i++) d += xs[i] * ys[i];
    sum += d / SEG;
    segments++;
  }
  return sum / segments;
}
