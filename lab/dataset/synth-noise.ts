/**
 * Generated stationary noises for the mixtures: the kinds the network was
 * seen to let through and the recorded corpus holds too little of — coloured
 * hiss, mains hum, steady tonal whines that drift slowly, low rumble and fan
 * noise. Every random choice comes from the Rng passed in, so a generator
 * state gives the same samples on every run. Levels are arbitrary: the mixer
 * scales noise to the drawn SNR.
 */

import { Rng } from "./rng.js";
import { FS } from "./augment.js";
import { applyCascade, butterworth, designBiquad } from "./filters.js";
import { fft, nextPow2 } from "../fft.js";

export const SYNTH_NOISE_KINDS = ["colour", "hum", "whine", "rumble", "fan"] as const;
export type SynthNoiseKind = (typeof SYNTH_NOISE_KINDS)[number];

/** What was drawn for one generated noise, for the mixture metadata. */
export type SynthNoiseInfo =
  | { kind: "colour"; slope: number }
  | { kind: "hum"; mainsHz: number; harmonicsDb: number[]; jitter: number }
  | { kind: "whine"; tones: { startHz: number; endHz: number }[]; driftHzPerS: number }
  | { kind: "rumble"; cutoffHz: number; amRateHz: number; amDepth: number }
  | { kind: "fan"; resonances: { hz: number; db: number; q: number }[]; bladeHz: number };

/** Knobs of the generators (ranges the draws stay within). */
export interface SynthNoiseOptions {
  /** Colour: exponent beta of power ~ f^beta, uniform in this range (white 0, pink -1, brown -2, blue +1). */
  slope: [number, number];
  /** Whine: largest frequency change of each tone, Hz per second. */
  whineDriftHzPerS: number;
  /** Hum: largest relative deviation of the mains frequency (a slow wander). */
  humJitter: number;
}

export const DEFAULT_SYNTH_NOISE_OPTIONS: SynthNoiseOptions = { slope: [-2, 1], whineDriftHzPerS: 20, humJitter: 0.002 };

/**
 * Gaussian noise of length n with power spectral density ~ f^beta, made by
 * shaping a white spectrum (one FFT of the next power of two). Below 20 Hz
 * the shape is held flat so brown noise does not wander off as DC.
 */
export function colouredNoise(rng: Rng, n: number, beta: number, fs = FS): Float32Array {
  const m = nextPow2(Math.max(2, n));
  const re = new Float64Array(m), im = new Float64Array(m);
  for (let i = 0; i < n; i++) re[i] = rng.normal();
  fft(re, im);
  const f0 = 20;
  for (let k = 0; k <= m / 2; k++) {
    const f = Math.max(f0, (k * fs) / m);
    const a = k === 0 ? 0 : Math.pow(f / 1000, beta / 2);
    re[k] *= a, im[k] *= a;
    if (k > 0 && k < m / 2) (re[m - k] *= a), (im[m - k] *= a);
  }
  fft(re, im, true);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = re[i] / m;
  return out;
}

/**
 * A slow random curve in [-1, 1]: a sum of three sinusoids with random
 * rates below maxHz and random phases, normalised by their count. Its
 * derivative is at most 2 pi maxHz per second.
 */
function slowCurve(rng: Rng, maxHz: number): (t: number) => number {
  const parts = [0, 1, 2].map(() => ({ hz: rng.uniform(0.2, 1) * maxHz, ph: rng.uniform(0, 2 * Math.PI) }));
  return (t) => parts.reduce((a, p) => a + Math.sin(2 * Math.PI * p.hz * t + p.ph), 0) / parts.length;
}

/** Mains hum: 50 or 60 Hz and up to 20 harmonics with random levels, its frequency wandering by at most `jitter`. */
function hum(rng: Rng, n: number, o: SynthNoiseOptions, fs: number): { audio: Float32Array; info: SynthNoiseInfo } {
  const mainsHz = rng.chance(0.5) ? 50 : 60;
  const count = rng.int(3, 20);
  // Odd harmonics dominate transformer and rectifier hum; even ones sometimes do (buzz).
  const harmonicsDb = Array.from({ length: count }, (_, i) => (i === 0 ? 0 : rng.uniform(-40, (i + 1) % 2 === 1 ? -3 : -10)));
  const phases = harmonicsDb.map(() => rng.uniform(0, 2 * Math.PI));
  const jitter = rng.uniform(0, o.humJitter);
  const wander = slowCurve(rng, 0.1);
  const audio = new Float32Array(n);
  let phase = 0;
  const amps = harmonicsDb.map((d) => Math.pow(10, d / 20));
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let h = 0; h < count; h++) {
      if ((h + 1) * mainsHz >= fs / 2) break;
      v += amps[h] * Math.sin((h + 1) * phase + phases[h]);
    }
    audio[i] = v;
    phase += (2 * Math.PI * mainsHz * (1 + jitter * wander(i / fs))) / fs;
    if (phase > 2 * Math.PI * 1e3) phase -= 2 * Math.PI * 1e3;
  }
  return { audio, info: { kind: "hum", mainsHz, harmonicsDb, jitter } };
}

/**
 * Tonal whine: 1-3 sinusoids starting in 1-7 kHz, each drifting with a slow
 * random rate of at most whineDriftHzPerS (reflected at the 1 and 7 kHz
 * edges), with a slight slow level change.
 */
function whine(rng: Rng, n: number, o: SynthNoiseOptions, fs: number): { audio: Float32Array; info: SynthNoiseInfo } {
  const count = rng.int(1, 3);
  const audio = new Float32Array(n);
  const tones: { startHz: number; endHz: number }[] = [];
  const drift = o.whineDriftHzPerS;
  for (let c = 0; c < count; c++) {
    let f = rng.uniform(1000, 7000);
    const startHz = f;
    const rate = slowCurve(rng, 0.2);
    const level = slowCurve(rng, 0.3);
    const amp = Math.pow(10, rng.uniform(-12, 0) / 20);
    let ph = rng.uniform(0, 2 * Math.PI);
    let dir = 1;
    for (let i = 0; i < n; i++) {
      audio[i] += amp * (1 + 0.2 * level(i / fs)) * Math.sin(ph);
      ph += (2 * Math.PI * f) / fs;
      if (ph > 2 * Math.PI) ph -= 2 * Math.PI;
      f += (dir * drift * rate(i / fs)) / fs;
      if (f > 7000) (f = 14000 - f), (dir = -dir);
      else if (f < 1000) (f = 2000 - f), (dir = -dir);
    }
    tones.push({ startHz, endHz: f });
  }
  return { audio, info: { kind: "whine", tones, driftHzPerS: drift } };
}

/** Low rumble: noise low-passed at 40-300 Hz (and steeply at 500 Hz), slowly amplitude-modulated. */
function rumble(rng: Rng, n: number, fs: number): { audio: Float32Array; info: SynthNoiseInfo } {
  const cutoffHz = Math.exp(rng.uniform(Math.log(40), Math.log(300)));
  const audio = new Float32Array(n);
  for (let i = 0; i < n; i++) audio[i] = rng.normal();
  // The shaping low-pass sets the colour; the second one guarantees the 500 Hz ceiling.
  applyCascade(audio, [...butterworth("lowpass", 4, cutoffHz, fs), ...butterworth("lowpass", 8, 400, fs)]);
  const amRateHz = rng.uniform(0.05, 2);
  const amDepth = rng.uniform(0, 0.7);
  const ph = rng.uniform(0, 2 * Math.PI);
  for (let i = 0; i < n; i++) audio[i] *= 1 + amDepth * Math.sin((2 * Math.PI * amRateHz * i) / fs + ph);
  return { audio, info: { kind: "rumble", cutoffHz, amRateHz, amDepth } };
}

/**
 * Fan: pinkish noise through 2-4 resonant peaks (200 Hz-5 kHz, +6 to +18 dB)
 * plus the blade-pass tone (3-9 blades at 600-3000 rpm: 30-450 Hz) and two
 * of its harmonics.
 */
function fan(rng: Rng, n: number, fs: number): { audio: Float32Array; info: SynthNoiseInfo } {
  const audio = colouredNoise(rng, n, rng.uniform(-1.2, -0.5), fs);
  const resonances = Array.from({ length: rng.int(2, 4) }, () => ({
    hz: Math.exp(rng.uniform(Math.log(200), Math.log(5000))),
    db: rng.uniform(6, 18),
    q: rng.uniform(2, 8),
  }));
  applyCascade(audio, resonances.map((r) => designBiquad("peak", r.hz, fs, r.q, r.db)));
  let p = 0;
  for (let i = 0; i < n; i++) p += audio[i] * audio[i];
  const rms = Math.sqrt(p / Math.max(1, n));
  const bladeHz = (rng.int(3, 9) * rng.uniform(600, 3000)) / 60;
  // The blade tone about as loud as the broadband part: audible as a steady pitch.
  const amps = [1, rng.uniform(0.1, 0.6), rng.uniform(0.05, 0.4)].map((a) => a * rms * rng.uniform(0.5, 1.5));
  const phases = amps.map(() => rng.uniform(0, 2 * Math.PI));
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * bladeHz * i) / fs;
    for (let h = 0; h < 3; h++) audio[i] += amps[h] * Math.sin((h + 1) * t + phases[h]);
  }
  return { audio, info: { kind: "fan", resonances, bladeHz } };
}

/** n samples of one generated noise of the given kind (at fs, 48 kHz by default), peak-normalised to 0.5. */
export function synthNoise(
  rng: Rng,
  kind: SynthNoiseKind,
  n: number,
  options: Partial<SynthNoiseOptions> = {},
  fs = FS,
): { audio: Float32Array; info: SynthNoiseInfo } {
  const o = { ...DEFAULT_SYNTH_NOISE_OPTIONS, ...options };
  let r: { audio: Float32Array; info: SynthNoiseInfo };
  switch (kind) {
    case "colour": {
      const slope = rng.uniform(o.slope[0], o.slope[1]);
      r = { audio: colouredNoise(rng, n, slope, fs), info: { kind, slope } };
      break;
    }
    case "hum": r = hum(rng, n, o, fs); break;
    case "whine": r = whine(rng, n, o, fs); break;
    case "rumble": r = rumble(rng, n, fs); break;
    case "fan": r = fan(rng, n, fs); break;
    default: throw new Error(`synthNoise: unknown kind ${kind as string}`);
  }
  let peak = 0;
  for (const v of r.audio) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) for (let i = 0; i < n; i++) r.audio[i] *= 0.5 / peak;
  return r;
}

/** Parses a comma-separated list of kinds ("all" for every kind); throws on an unknown name. */
export function parseSynthNoiseKinds(s: string): SynthNoiseKind[] {
  if (s.trim() === "all") return [...SYNTH_NOISE_KINDS];
  const kinds = s.split(",").map((k) => k.trim()).filter((k) => k.length);
  for (const k of kinds) {
    if (!(SYNTH_NOISE_KINDS as readonly string[]).includes(k)) throw new Error(`unknown noise kind ${k} (kinds: ${SYNTH_NOISE_KINDS.join(", ")}, all)`);
  }
  if (!kinds.length) throw new Error("no noise kind given");
  return kinds as SynthNoiseKind[];
}
