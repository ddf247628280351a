/**
 * Signal-level augmentations for the mixture synthesiser: random EQ and
 * tilt, speed/pitch change by resampling, band limitation, gain, clipping,
 * fitting a recording to a clip length, and babble from other speakers.
 * Every random choice goes through the Rng passed in.
 */

import { Rng } from "./rng.js";
import { applyCascade, butterworth, designBiquad, type Biquad } from "./filters.js";
import { FAST_QUALITY, DEFAULT_QUALITY, passbandEdgeHz, resampleRational } from "./resample.js";
import type { Corpus, Entry } from "./corpus.js";

/** Sample rate of everything the synthesiser produces. */
export const FS = 48000;

/** Describes a random EQ for the metadata. */
export interface EqInfo {
  lowShelf: { hz: number; db: number };
  highShelf: { hz: number; db: number };
  peaks: { hz: number; db: number; q: number }[];
}

/** A tilt (low and high shelf, +-maxDb) plus zero to two peaking sections, as second-order sections. */
export function randomEq(rng: Rng, maxDb = 6): { sections: Biquad[]; info: EqInfo } {
  const lowShelf = { hz: Math.exp(rng.uniform(Math.log(80), Math.log(500))), db: rng.uniform(-maxDb, maxDb) };
  const highShelf = { hz: Math.exp(rng.uniform(Math.log(1500), Math.log(10000))), db: rng.uniform(-maxDb, maxDb) };
  const peaks = [];
  const np = rng.int(0, 2);
  for (let i = 0; i < np; i++) {
    peaks.push({ hz: Math.exp(rng.uniform(Math.log(150), Math.log(12000))), db: rng.uniform(-maxDb, maxDb), q: rng.uniform(0.5, 2.5) });
  }
  const sections = [
    designBiquad("lowshelf", lowShelf.hz, FS, Math.SQRT1_2, lowShelf.db),
    designBiquad("highshelf", highShelf.hz, FS, Math.SQRT1_2, highShelf.db),
    ...peaks.map((p) => designBiquad("peak", p.hz, FS, p.q, p.db)),
  ];
  return { sections, info: { lowShelf, highShelf, peaks } };
}

/** 8th-order Butterworth low-pass with a log-uniform cutoff in [loHz, hiHz]. */
export function randomLowpass(rng: Rng, loHz = 4000, hiHz = 20000): { sections: Biquad[]; cutoffHz: number } {
  const cutoffHz = Math.exp(rng.uniform(Math.log(loHz), Math.log(hiHz)));
  return { sections: butterworth("lowpass", 8, cutoffHz, FS), cutoffHz };
}

/**
 * Converts to 48 kHz and changes speed (and pitch) by speedPct percent in one
 * resampling pass: the result plays (1 + speedPct/100) times faster. Integer
 * percentages keep the polyphase ratio small (at most a few hundred phases).
 * `fast` halves the kernel (for noise and babble).
 */
export function toFs(x: Float32Array, fromRate: number, speedPct = 0, fast = false): Float32Array {
  return resampleRational(x, FS * 100, fromRate * (100 + speedPct), fast ? FAST_QUALITY : DEFAULT_QUALITY);
}

/**
 * Content bandwidth (Hz) after {@link toFs}: the recording's measured
 * bandwidth, limited by the resampler's pass band, scaled by the speed change.
 * Infinity means full band.
 */
export function bandwidthAfter(e: Entry, speedPct: number): number {
  if (e.folder === "speech48") return Infinity;
  const bw = Math.min(e.bandwidthKhz * 1000, passbandEdgeHz(e.sampleRate, (FS * 100) / (100 + speedPct)));
  return bw * (1 + speedPct / 100);
}

/** Multiplies in place by a gain in dB. */
export function applyGainDb(x: Float32Array, db: number): Float32Array {
  const g = Math.pow(10, db / 20);
  for (let i = 0; i < x.length; i++) x[i] *= g;
  return x;
}

/** Hard-clips in place at +-level; returns the fraction of samples clipped. */
export function hardClip(x: Float32Array, level: number): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > level) (x[i] = level), n++;
    else if (x[i] < -level) (x[i] = -level), n++;
  }
  return n / Math.max(1, x.length);
}

/** Mean power over 10 ms frames no more than 40 dB below the loudest frame (a simple active-speech level). */
export function activePower(x: Float32Array, frame = 480): number {
  const nf = Math.floor(x.length / frame);
  if (nf === 0) return meanPower(x);
  const e = new Float64Array(nf);
  let max = 0;
  for (let f = 0; f < nf; f++) {
    let s = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) s += x[i] * x[i];
    e[f] = s / frame;
    if (e[f] > max) max = e[f];
  }
  const thr = Math.max(max * 1e-4, 1e-14);
  let sum = 0;
  let n = 0;
  for (let f = 0; f < nf; f++) if (e[f] >= thr) (sum += e[f]), n++;
  return n ? sum / n : 0;
}

/** Mean power over all samples. */
export function meanPower(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s / Math.max(1, x.length);
}

/** 10 log10 with a floor, for levels in dB re full scale (power). */
export function powerDb(p: number): number {
  return 10 * Math.log10(Math.max(p, 1e-20));
}

/** Largest absolute sample value. */
export function peakAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m) m = a;
  }
  return m;
}

/**
 * Makes a recording exactly n samples long: long ones are cropped at a
 * random offset; continuous short ones (>= 2 s) are looped from a random
 * start with 20 ms cross-fades; short events are dropped in 1-4 times at
 * random positions.
 */
export function fitLength(rng: Rng, x: Float32Array, n: number): Float32Array {
  if (x.length >= n) {
    const off = rng.int(0, x.length - n);
    return x.slice(off, off + n);
  }
  const out = new Float32Array(n);
  if (x.length < 2 * FS) {
    const count = rng.int(1, 4);
    for (let c = 0; c < count; c++) {
      const at = rng.int(-Math.floor(x.length / 2), n - Math.ceil(x.length / 2));
      for (let i = 0; i < x.length; i++) {
        const j = at + i;
        if (j >= 0 && j < n) out[j] += x[i];
      }
    }
    return out;
  }
  const fade = Math.round(0.02 * FS);
  let pos = -rng.int(0, x.length - 1);
  while (pos < n) {
    for (let i = 0; i < x.length; i++) {
      const j = pos + i;
      if (j < 0) continue;
      if (j >= n) break;
      // Complementary sine-squared ramps over the overlap keep the level smooth.
      let w = 1;
      if (i < fade) w = Math.sin((0.5 * Math.PI * (i + 0.5)) / fade) ** 2;
      else if (i >= x.length - fade) w = Math.sin((0.5 * Math.PI * (x.length - i - 0.5)) / fade) ** 2;
      out[j] += w * x[i];
    }
    pos += x.length - fade;
  }
  return out;
}

/** Result of {@link speechTrack}. */
export interface SpeechTrack {
  audio: Float32Array;
  files: string[];
  /** Content bandwidth in Hz (Infinity for full band). */
  bandwidthHz: number;
}

/**
 * About n samples of one speaker/language: utterances of `pool` (all with the
 * same label) in random order, resampled to 48 kHz with the speed change,
 * separated by 0.1-0.6 s gaps and re-used if the pool is short; a random
 * window of n samples is kept when a single long recording covers it.
 */
export async function speechTrack(
  rng: Rng,
  corpus: Corpus,
  pool: readonly Entry[],
  n: number,
  speedPct: number,
  fast = false,
): Promise<SpeechTrack> {
  const out = new Float32Array(n);
  const order = rng.shuffle([...pool]);
  const files: string[] = [];
  let bandwidthHz = Infinity;
  let pos = Math.floor(rng.uniform(0, 0.5) * FS);
  let k = 0;
  while (pos < n && k < 64) {
    const e = order[k % order.length];
    k++;
    let x = toFs(await corpus.audio(e), e.sampleRate, speedPct, fast);
    // A long first utterance: start anywhere in it, as if the clip were cut from a reading.
    if (files.length === 0 && x.length > n) x = x.subarray(rng.int(0, x.length - n));
    const m = Math.min(x.length, n - pos);
    out.set(x.subarray(0, m), pos);
    files.push(e.file);
    bandwidthHz = Math.min(bandwidthHz, bandwidthAfter(e, speedPct));
    pos += x.length + Math.floor(rng.uniform(0.1, 0.6) * FS);
  }
  return { audio: out, files, bandwidthHz };
}

/**
 * Babble: 3-6 talkers, each a speech track of a different label than
 * `excludeLabel`, at random relative gains within +-3 dB of equal active level.
 */
export async function babble(
  rng: Rng,
  corpus: Corpus,
  speech: readonly Entry[],
  excludeLabel: string,
  n: number,
): Promise<{ audio: Float32Array; labels: string[] }> {
  const byLabel = new Map<string, Entry[]>();
  for (const e of speech) if (e.label !== excludeLabel) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), e]);
  const labels = rng.shuffle([...byLabel.keys()].sort()).slice(0, rng.int(3, 6));
  const out = new Float32Array(n);
  for (const l of labels) {
    const t = await speechTrack(rng, corpus, byLabel.get(l)!, n, rng.int(-5, 5), true);
    const p = activePower(t.audio);
    if (p <= 0) continue;
    const g = Math.pow(10, rng.uniform(-3, 3) / 20) / Math.sqrt(p);
    for (let i = 0; i < n; i++) out[i] += g * t.audio[i];
  }
  return { audio: out, labels };
}

export { applyCascade };
