/**
 * Voice perturbations of the clean speech, applied before mixing so that the
 * target and the input carry the same voice: pitch change without a tempo
 * change (WSOLA time-scaling, then resampling), vocal-tract-length (formant)
 * warping of the spectral envelope with the harmonics left in place, and a
 * channel band limit (down to a telephone-like rate and back).
 */

import { fft } from "../fft.js";
import { FS } from "./augment.js";
import { DEFAULT_QUALITY, passbandEdgeHz, resample, resampleRational } from "./resample.js";

/**
 * Changes the duration by `stretch` (output length round(n * stretch))
 * without changing pitch: waveform-similarity overlap-add with 40 ms Hann
 * frames at 50 % overlap. Each frame is taken within +-10 ms of its nominal
 * place where it best continues the previous one, so voiced speech keeps its
 * periods aligned (10 ms either way spans a 50 Hz period).
 */
export function timeStretch(x: Float32Array, stretch: number, fs = FS): Float32Array {
  if (!(stretch > 0.25 && stretch < 4)) throw new Error(`timeStretch: factor ${stretch} out of range`);
  const nOut = Math.round(x.length * stretch);
  const N = 2 * Math.round(0.02 * fs);
  const Hs = N / 2;
  const tol = Math.round(0.01 * fs);
  const w = new Float32Array(N);
  // Periodic Hann: frames one half apart sum to exactly 1.
  for (let i = 0; i < N; i++) w[i] = Math.sin((Math.PI * i) / N) ** 2;
  const off = N + 2 * tol;
  const xp = new Float32Array(x.length + 2 * off + N);
  xp.set(x, off);
  const out = new Float32Array(nOut + N);
  let prev = off;
  for (let k = 0; k * Hs < nOut; k++) {
    const nominal = off + Math.round((k * Hs) / stretch);
    let pos = nominal;
    if (k > 0) {
      const natural = prev + Hs;
      const score = (d: number, step: number): number => {
        let s = 0, e = 0;
        const c = nominal + d;
        for (let j = 0; j < Hs; j += step) {
          const a = xp[c + j];
          s += a * xp[natural + j];
          e += a * a;
        }
        // Normalised by the candidate's energy only: the reference is the same for every candidate.
        return e > 0 ? s / Math.sqrt(e) : 0;
      };
      const lo = Math.max(-tol, -nominal), hi = Math.min(tol, xp.length - N - nominal);
      let best = 0, bestS = -Infinity;
      for (let d = lo; d <= hi; d += 4) {
        const s = score(d, 4);
        if (s > bestS) (bestS = s), (best = d);
      }
      // Refined at full resolution around the coarse choice (the coarse score used every 4th sample).
      const coarse = best;
      bestS = -Infinity;
      for (let d = Math.max(lo, coarse - 3); d <= Math.min(hi, coarse + 3); d++) {
        const s = score(d, 1);
        if (s > bestS) (bestS = s), (best = d);
      }
      pos = nominal + best;
    }
    const o = k * Hs;
    for (let j = 0; j < N && o + j < out.length; j++) out[o + j] += w[j] * xp[pos + j];
    prev = pos;
  }
  return out.slice(0, nOut);
}

/**
 * Raises the pitch by (1 + pct/100) keeping the duration (and length n):
 * time-stretch by that factor, then resample by its inverse. Integer
 * percentages keep the resampler's polyphase ratio small, as for speed.
 */
export function pitchShift(x: Float32Array, pct: number, fs = FS): Float32Array {
  if (pct === 0) return x.slice();
  const p = 1 + pct / 100;
  const y = resampleRational(timeStretch(x, p, fs), 100, 100 + pct, DEFAULT_QUALITY);
  const out = new Float32Array(x.length);
  out.set(y.subarray(0, Math.min(y.length, x.length)));
  return out;
}

/** Content bandwidth (Hz) after {@link pitchShift} of content with bandwidth bw (Infinity: full band). */
export function bandwidthAfterPitch(bw: number, pct: number): number {
  if (pct === 0) return bw;
  const p = 1 + pct / 100;
  // The resampler's own pass band (at 48 kHz it reads the signal as if it ran at FS * p).
  const edge = passbandEdgeHz(FS, (FS * 100) / (100 + pct)) * p;
  const scaled = Number.isFinite(bw) ? bw * p : Infinity;
  // Above about 20 kHz no band edge depends on it; keep "full band" as Infinity.
  const r = Math.min(scaled, edge);
  return r >= 20000 && !Number.isFinite(bw) ? Infinity : r;
}

/** Options of {@link formantWarp}. */
export interface FormantWarpOptions {
  /** Largest boost or cut of any bin, dB: the envelope ratio is unreliable where one envelope is near its floor. */
  maxGainDb?: number;
  /** Content bandwidth: bins above it are never boosted, so resampler residue stays where it is. */
  bandwidthHz?: number;
  fs?: number;
}

/**
 * Vocal-tract-length warping: frame by frame (2048-point STFT, 75 %
 * overlap), the cepstrally smoothed spectral envelope E(f) is replaced by
 * E(f / alpha), so formants move by alpha (alpha > 1: a shorter tract) while
 * the harmonics, and so the pitch, stay where they are: only the magnitude is
 * reshaped, by a gain that is smooth across frequency, and the phases are kept.
 */
export function formantWarp(x: Float32Array, alpha: number, opts: FormantWarpOptions = {}): Float32Array {
  if (!(alpha > 0.5 && alpha < 2)) throw new Error(`formantWarp: factor ${alpha} out of range`);
  const fs = opts.fs ?? FS;
  const maxGain = Math.pow(10, (opts.maxGainDb ?? 24) / 20);
  const bwBin = opts.bandwidthHz !== undefined && Number.isFinite(opts.bandwidthHz) ? (opts.bandwidthHz * 2048) / fs : Infinity;
  const N = 2048, H = N / 4, half = N / 2;
  // Quefrencies below 1.25 ms at least: clear of the harmonic ripple of voices up to ~600 Hz.
  const lifter = Math.round(0.00125 * fs);
  // Voice periods searched for: 1.6-12.5 ms (80-600 Hz), within the frame.
  const minPeriod = Math.round(fs / 600), maxPeriod = Math.min(Math.round(fs / 80), half - 2);
  const win = new Float64Array(N);
  for (let i = 0; i < N; i++) win[i] = Math.sin((Math.PI * i) / N) ** 2;
  // Hann analysis and synthesis at a quarter hop sum to 1.5.
  const norm = 1 / 1.5;
  const xp = new Float64Array(x.length + 2 * N);
  for (let i = 0; i < x.length; i++) xp[N + i] = x[i];
  const acc = new Float64Array(xp.length);
  const re = new Float64Array(N), im = new Float64Array(N);
  const cr = new Float64Array(N), ci = new Float64Array(N);
  const logEnv = new Float64Array(half + 1);
  const logMag = new Float64Array(half + 1);
  const gain = new Float64Array(half + 1);
  for (let s = 0; s + N <= xp.length; s += H) {
    let energy = 0;
    for (let i = 0; i < N; i++) {
      re[i] = xp[s + i] * win[i];
      im[i] = 0;
      energy += re[i] * re[i];
    }
    if (energy === 0) continue;
    fft(re, im);
    // A floor 100 dB under the frame's mean bin power keeps log() finite in empty bins.
    const floor = (energy / N) * 1e-10 + 1e-30;
    for (let k = 0; k <= half; k++) cr[k] = logMag[k] = 0.5 * Math.log(re[k] * re[k] + im[k] * im[k] + floor);
    for (let k = 1; k < half; k++) cr[N - k] = cr[k];
    ci.fill(0);
    fft(cr, ci, true);
    for (let q = 0; q < N; q++) cr[q] /= N;
    // A voiced frame's harmonics show as a cepstral peak at the period; the
    // envelope keeps quefrencies up to 0.6 of it, so formants are resolved as
    // finely as the harmonics allow (a fixed short lifter would smear a
    // formant over ~1 kHz and the warp would hardly move it).
    let qPeak = 0, cMax = 0;
    for (let q = minPeriod; q <= maxPeriod; q++) if (cr[q] > cMax) (cMax = cr[q]), (qPeak = q);
    // The shortest period nearly as strong as the strongest guards against octave errors downwards.
    if (cMax > 0.08) {
      for (let q = minPeriod; q <= maxPeriod; q++) {
        if (cr[q] >= 0.7 * cMax && cr[q] >= cr[q - 1] && cr[q] >= cr[q + 1]) { qPeak = q; break; }
      }
    }
    const L = cMax > 0.08 ? Math.max(lifter, Math.floor(0.6 * qPeak)) : lifter;
    // "True envelope" (Roebel and Rodet): smoothing the log spectrum raised to
    // its own smoothed version a few times makes the envelope rest on the
    // harmonic peaks rather than on the mean of peaks and valleys, whose
    // level changes from frame to frame with the window's position.
    for (let k = 0; k <= half; k++) logEnv[k] = logMag[k];
    for (let it = 0; it < 4; it++) {
      for (let k = 0; k <= half; k++) cr[k] = logEnv[k];
      for (let k = 1; k < half; k++) cr[N - k] = cr[k];
      ci.fill(0);
      fft(cr, ci, true);
      for (let q = 0; q < N; q++) {
        const qq = Math.min(q, N - q);
        ci[q] = 0;
        // Tapered over the top quarter of the kept quefrencies: a hard cut would ripple the envelope.
        if (qq > L) cr[q] = 0;
        else if (qq > 0.75 * L) cr[q] *= (0.5 + 0.5 * Math.cos((Math.PI * (qq - 0.75 * L)) / (0.25 * L))) / N;
        else cr[q] /= N;
      }
      fft(cr, ci);
      for (let k = 0; k <= half; k++) logEnv[k] = it < 3 ? Math.max(logMag[k], cr[k]) : cr[k];
    }
    for (let k = 0; k <= half; k++) {
      const src = Math.min(k / alpha, half);
      const i0 = Math.floor(src), f = src - i0;
      const warped = i0 >= half ? logEnv[half] : logEnv[i0] * (1 - f) + logEnv[i0 + 1] * f;
      let g = Math.exp(warped - logEnv[k]);
      g = Math.min(maxGain, Math.max(1 / maxGain, g));
      if (k > bwBin && g > 1) g = 1;
      gain[k] = g;
    }
    re[0] *= gain[0], im[0] *= gain[0];
    re[half] *= gain[half], im[half] *= gain[half];
    for (let k = 1; k < half; k++) {
      re[k] *= gain[k], im[k] *= gain[k];
      re[N - k] *= gain[k], im[N - k] *= gain[k];
    }
    fft(re, im, true);
    for (let i = 0; i < N; i++) acc[s + i] += (re[i] / N) * win[i] * norm;
  }
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = acc[N + i];
  return out;
}

/**
 * A band-limited channel: down to `rate` and back up to 48 kHz with the
 * builder's resampler (flat to ~0.9 of the lower Nyquist, ~80 dB below
 * beyond it), as a caller on an 8 or 16 kHz line arrives. Same length.
 */
export function bandLimit(x: Float32Array, rate: number, fs = FS): Float32Array {
  const y = resample(resample(x, fs, rate), rate, fs);
  const out = new Float32Array(x.length);
  out.set(y.subarray(0, Math.min(y.length, x.length)));
  return out;
}

/** Highest frequency {@link bandLimit} at `rate` passes essentially unattenuated. */
export function bandLimitEdgeHz(rate: number, fs = FS): number {
  return passbandEdgeHz(rate, fs);
}
