/**
 * Room impulse responses: an image-method shoebox simulator (with a
 * statistically matched exponential tail past the image-source horizon), the
 * normalisation of measured responses, the early/late split used for
 * dereverberation targets, and a Schroeder RT60 estimate.
 *
 * All responses are normalised so that the direct path has amplitude 1 and
 * they start a couple of milliseconds before it, so convolving speech with
 * them keeps its level and (almost) its timing.
 */

import { Rng } from "./rng.js";
import { applyCascade, butterworth } from "./filters.js";

/** Speed of sound, m/s. */
export const SOUND_SPEED = 343;

/** Geometry and target decay of a shoebox room. */
export interface RoomParams {
  /** Length, width, height in metres. */
  dims: [number, number, number];
  src: [number, number, number];
  mic: [number, number, number];
  /** Target reverberation time (s); wall absorption follows from Sabine's formula. */
  rt60: number;
  fs: number;
}

/** A response ready to convolve, with where its direct path is. */
export interface Rir {
  rir: Float32Array;
  /** Sample index of the direct-path peak. */
  directIndex: number;
  fs: number;
}

/** Draws a room: floor dimensions 3-12 m, height 2.4-5 m, RT60 0.2-1.0 s, source 0.3-4 m from the mic. */
export function randomRoom(rng: Rng, fs = 48000, rt60Range: [number, number] = [0.2, 1.0]): RoomParams {
  const dims: [number, number, number] = [rng.uniform(3, 12), rng.uniform(3, 12), rng.uniform(2.4, 5)];
  const margin = 0.4;
  const inside = (): [number, number, number] => [
    rng.uniform(margin, dims[0] - margin),
    rng.uniform(margin, dims[1] - margin),
    rng.uniform(0.8, Math.min(2.0, dims[2] - margin)),
  ];
  const mic = inside();
  let src = inside();
  for (let tries = 0; tries < 100; tries++) {
    const d = Math.hypot(src[0] - mic[0], src[1] - mic[1], src[2] - mic[2]);
    if (d >= 0.3 && d <= 4) break;
    src = inside();
  }
  return { dims, src, mic, rt60: rng.uniform(rt60Range[0], rt60Range[1]), fs };
}

// Fractional-delay kernel: Kaiser-windowed sinc, +-HALF taps, tabulated at
// TABLE_RES points per sample and linearly interpolated.
const HALF = 16;
const TABLE_RES = 256;
let fdTable: Float32Array | null = null;

function fractionalDelayTable(): Float32Array {
  if (fdTable) return fdTable;
  const n = HALF * TABLE_RES + 2;
  const t = new Float32Array(n);
  const beta = 7;
  const i0 = (x: number) => {
    let s = 1, term = 1;
    for (let k = 1; k < 40; k++) {
      term *= (x * x) / (4 * k * k);
      s += term;
    }
    return s;
  };
  // A slight low-pass (0.95 Nyquist) keeps the kernel's images out of the top band.
  const c = 0.95;
  for (let i = 0; i < n; i++) {
    const x = i / TABLE_RES;
    if (x >= HALF) continue;
    const u = c * x;
    const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
    const r = x / HALF;
    t[i] = c * sinc * (i0(beta * Math.sqrt(1 - r * r)) / i0(beta));
  }
  fdTable = t;
  return t;
}

function addImpulse(out: Float32Array, pos: number, amp: number, table: Float32Array): void {
  const i0 = Math.floor(pos);
  const lo = Math.max(0, i0 - HALF + 1);
  const hi = Math.min(out.length - 1, i0 + HALF);
  for (let i = lo; i <= hi; i++) {
    const u = Math.abs(i - pos) * TABLE_RES;
    const k = u | 0;
    const f = u - k;
    out[i] += amp * (table[k] + f * (table[k + 1] - table[k]));
  }
}

/** Options for {@link imageMethodRir}. */
export interface ImageMethodOptions {
  /** Images are summed up to this many seconds after the direct path; an exponential tail follows. */
  imageSeconds?: number;
  /** Total length after the direct path, seconds (default min(1.2 RT60, 1.5) + 0.05). */
  lengthSeconds?: number;
  /** Seeds the late tail's noise. */
  tailSeed?: number;
  /**
   * Keep propagation time: the direct path arrives at distance / c (the
   * default moves it to 2 ms after the start, whatever the distance).
   */
  absoluteTime?: boolean;
}

/**
 * Image-method response of a shoebox room with uniform wall absorption.
 *
 * Sabine's a = 0.161 V / (S RT60) assumes a diffuse field. In an image sum the
 * energy is an average over directions of beta^(2 n(direction)), and the
 * directions that meet few walls (along the long axis) dominate later on, so
 * beta = sqrt(1 - a) decays markedly slower than the target. The reflection
 * coefficient is therefore solved from the directional average directly
 * ({@link reflectionCoefficient}), which keeps the simulated T20 near RT60.
 */
export function imageMethodRir(p: RoomParams, opts: ImageMethodOptions = {}): Rir {
  const [Lx, Ly, Lz] = p.dims;
  const fs = p.fs;
  const beta = reflectionCoefficient(p.dims, p.rt60);
  const d0 = Math.hypot(p.src[0] - p.mic[0], p.src[1] - p.mic[1], p.src[2] - p.mic[2]);
  const delay = (d0 / SOUND_SPEED) * fs;
  const pre = opts.absoluteTime ? Math.round(delay) : Math.round(0.002 * fs) + HALF;
  // Shift so the direct path lands `pre` samples in, whatever the distance.
  const shift = opts.absoluteTime ? 0 : pre - delay;
  const lengthS = opts.lengthSeconds ?? Math.min(1.2 * p.rt60, 1.5) + 0.05;
  const imageS = Math.min(opts.imageSeconds ?? 0.15, lengthS);
  const n = pre + Math.ceil(lengthS * fs);
  const rir = new Float32Array(n);
  const table = fractionalDelayTable();
  const maxDist = d0 + imageS * SOUND_SPEED;
  const N = [Math.ceil(maxDist / (2 * Lx)) + 1, Math.ceil(maxDist / (2 * Ly)) + 1, Math.ceil(maxDist / (2 * Lz)) + 1];
  const [sx, sy, sz] = p.src;
  const [mx, my, mz] = p.mic;
  for (let qx = 0; qx < 2; qx++)
    for (let nx = -N[0]; nx <= N[0]; nx++) {
      const dx = 2 * nx * Lx + (qx ? -sx : sx) - mx;
      const rx = Math.abs(nx - qx) + Math.abs(nx);
      for (let qy = 0; qy < 2; qy++)
        for (let ny = -N[1]; ny <= N[1]; ny++) {
          const dy = 2 * ny * Ly + (qy ? -sy : sy) - my;
          const dxy2 = dx * dx + dy * dy;
          if (dxy2 > maxDist * maxDist) continue;
          const rxy = rx + Math.abs(ny - qy) + Math.abs(ny);
          for (let qz = 0; qz < 2; qz++)
            for (let nz = -N[2]; nz <= N[2]; nz++) {
              const dz = 2 * nz * Lz + (qz ? -sz : sz) - mz;
              const d = Math.sqrt(dxy2 + dz * dz);
              if (d > maxDist) continue;
              const refl = rxy + Math.abs(nz - qz) + Math.abs(nz);
              // Direct path amplitude 1: scale spherical spreading by d0.
              const amp = (Math.pow(beta, refl) * d0) / Math.max(d, 1e-3);
              addImpulse(rir, (d / SOUND_SPEED) * fs + shift, amp, table);
            }
        }
    }
  // The image sum is all-positive pulses: strong DC and sub-audio content,
  // which must go before the tail is level-matched to it.
  applyCascade(rir, butterworth("highpass", 2, 40, fs));
  addTail(rir, pre + Math.round(imageS * fs), p.rt60, fs, opts.tailSeed ?? 1);
  return renormalise(rir, pre, fs);
}

/** Sabine mean absorption coefficient of a shoebox for a target RT60 (may exceed 1 for tiny, dry rooms). */
export function sabineAbsorption(dims: readonly number[], rt60: number): number {
  const [Lx, Ly, Lz] = dims;
  const V = Lx * Ly * Lz;
  const S = 2 * (Lx * Ly + Lx * Lz + Ly * Lz);
  return (0.161 * V) / (S * rt60);
}

/**
 * Wall amplitude reflection coefficient for which the image sum's reverberant
 * energy, averaged over arrival directions, is 20 dB down at RT60 / 3 (the
 * slope a T20 fit sees). An image reached along unit direction u after
 * travelling r metres has met r * sum_i |u_i| / L_i walls; spherical
 * spreading cancels against the growing number of images per shell.
 */
export function reflectionCoefficient(dims: readonly number[], rt60: number): number {
  const dirs = 256;
  const g = new Float64Array(dirs);
  // Fibonacci lattice on the sphere: near-uniform directions without randomness.
  for (let i = 0; i < dirs; i++) {
    const z = 1 - (2 * (i + 0.5)) / dirs;
    const rr = Math.sqrt(1 - z * z);
    const phi = i * Math.PI * (3 - Math.sqrt(5));
    g[i] = Math.abs(rr * Math.cos(phi)) / dims[0] + Math.abs(rr * Math.sin(phi)) / dims[1] + Math.abs(z) / dims[2];
  }
  const dist = (SOUND_SPEED * rt60) / 3;
  const levelDb = (lnBeta: number) => {
    let e = 0;
    for (let i = 0; i < dirs; i++) e += Math.exp(2 * lnBeta * dist * g[i]);
    return 10 * Math.log10(e / dirs);
  };
  let lo = -30; // ln(beta): very absorbing
  let hi = 0;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (levelDb(mid) < -20) lo = mid;
    else hi = mid;
  }
  return Math.exp(0.5 * (lo + hi));
}

/**
 * Continues the response past the image horizon with Gaussian noise decaying
 * at the RT60 rate, level-matched to the image density just before it, with
 * a 10 ms cross-fade.
 */
function addTail(rir: Float32Array, start: number, rt60: number, fs: number, seed: number): void {
  const fade = Math.round(0.01 * fs);
  const win = Math.round(0.02 * fs);
  if (start >= rir.length || start - win - fade < 0) return;
  const a0 = start - fade - win;
  let e = 0;
  for (let i = a0; i < start - fade; i++) e += rir[i] * rir[i];
  // Mean-square at the window centre, carried to the tail start by the decay.
  const decayPerSample = (6.907755 / rt60) / fs; // amplitude: ln(1000) per RT60
  const ms = (e / win) * Math.exp(-2 * decayPerSample * (fade + win / 2));
  const std = Math.sqrt(ms);
  const rng = new Rng(seed, 0x7a11);
  for (let i = start - fade; i < rir.length; i++) {
    const t = i - (start - fade);
    const w = t < fade ? 0.5 - 0.5 * Math.cos((Math.PI * t) / fade) : 1;
    const env = std * Math.exp(-decayPerSample * (i - start));
    rir[i] = rir[i] * (1 - w) + w * env * rng.normal();
  }
}

/** Scales so the largest magnitude near `around` is +1 (flipping sign if needed). */
function renormalise(rir: Float32Array, around: number, fs: number): Rir {
  const r = Math.round(0.001 * fs);
  let best = around;
  for (let i = Math.max(0, around - r); i < Math.min(rir.length, around + r); i++) {
    if (Math.abs(rir[i]) > Math.abs(rir[best])) best = i;
  }
  const g = 1 / (rir[best] || 1);
  for (let i = 0; i < rir.length; i++) rir[i] *= g;
  return { rir, directIndex: best, fs };
}

/**
 * Normalises a measured response to its direct path: the global peak becomes
 * +1, everything earlier than 2 ms before it is dropped, and the response is
 * cut (with a 50 ms fade) once its remaining energy is 70 dB down or at
 * maxSeconds.
 */
export function normaliseMeasuredRir(x: Float32Array, fs: number, maxSeconds = 2): Rir {
  let peak = 0;
  for (let i = 1; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[peak])) peak = i;
  const start = Math.max(0, peak - Math.round(0.002 * fs));
  let total = 0;
  for (let i = start; i < x.length; i++) total += x[i] * x[i];
  let end = x.length;
  let tail = 0;
  for (let i = x.length - 1; i > peak; i--) {
    tail += x[i] * x[i];
    if (tail > total * 1e-7) {
      end = i + 1;
      break;
    }
  }
  end = Math.min(end, start + Math.round(maxSeconds * fs));
  const out = x.slice(start, end);
  const fade = Math.min(Math.round(0.05 * fs), out.length - (peak - start) - 1);
  for (let i = 0; i < fade; i++) out[out.length - 1 - i] *= 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
  return renormalise(out, peak - start, fs);
}

/**
 * The early part of a response: everything up to `earlyMs` after the direct
 * path, then a raised-cosine fade to zero over `fadeMs`. Convolving speech
 * with this gives a dereverberation target that keeps the direct sound and
 * the early reflections the ear fuses with it.
 */
export function earlyPart(r: Rir, earlyMs: number, fadeMs = 5): Float32Array {
  const e = r.directIndex + Math.round((earlyMs / 1000) * r.fs);
  const f = Math.max(1, Math.round((fadeMs / 1000) * r.fs));
  const n = Math.min(r.rir.length, e + f);
  const out = r.rir.slice(0, n);
  for (let i = e; i < n; i++) out[i] *= 0.5 + 0.5 * Math.cos((Math.PI * (i - e)) / f);
  return out;
}

/**
 * Reverberation time from the Schroeder backward integral, fitted by least
 * squares between -5 and -25 dB and extrapolated to 60 dB (T20).
 */
export function estimateRt60(r: Rir): number {
  const x = r.rir;
  const edc = new Float64Array(x.length);
  let acc = 0;
  for (let i = x.length - 1; i >= r.directIndex; i--) {
    acc += x[i] * x[i];
    edc[i] = acc;
  }
  const e0 = edc[r.directIndex];
  let sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (let i = r.directIndex; i < x.length; i++) {
    const db = 10 * Math.log10(edc[i] / e0 + 1e-30);
    if (db > -5) continue;
    if (db < -25) break;
    const t = (i - r.directIndex) / r.fs;
    sx += t;
    sy += db;
    sxx += t * t;
    sxy += t * db;
    n++;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return -60 / slope;
}
