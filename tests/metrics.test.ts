import { test } from "node:test";
import assert from "node:assert/strict";
import { siSdr } from "../bench/metrics/sisdr.js";
import { stoi, estoi, thirdOctaveBands } from "../bench/metrics/stoi.js";
import { mulberry32 as rng } from "../lab/dataset/rng.js";

function gaussian(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12), v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    x[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) x[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return x;
}

/**
 * Speech-like test signal: harmonic voiced bursts (pitch glides, formant-ish
 * amplitude per harmonic) separated by pauses, so STOI has envelopes to track
 * and silent frames to drop.
 */
function pseudoSpeech(fs: number, seconds: number, seed: number): Float32Array {
  const r = rng(seed);
  const n = Math.round(fs * seconds);
  const x = new Float32Array(n);
  let i = 0;
  while (i < n) {
    const len = Math.round(fs * (0.12 + 0.25 * r()));
    const f0 = 100 + 120 * r();
    const glide = (r() - 0.5) * 60;
    const formant = 400 + 2000 * r();
    let phase = 0;
    for (let j = 0; j < len && i + j < n; j++) {
      const f = f0 + (glide * j) / len;
      phase += (2 * Math.PI * f) / fs;
      const env = Math.sin((Math.PI * j) / len);
      let s = 0;
      for (let h = 1; h * f < 4500; h++) s += Math.sin(h * phase) * Math.exp(-Math.abs(h * f - formant) / 600) / Math.sqrt(h);
      x[i + j] = 0.3 * env * s;
    }
    i += len + Math.round(fs * 0.08 * r());
  }
  return x;
}

function power(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s / x.length;
}

/** x + noise scaled to the given SNR (dB). */
function addNoise(x: Float32Array, snrDb: number, seed: number): Float32Array {
  const n = gaussian(x.length, seed);
  const g = Math.sqrt(power(x) / (power(n) * Math.pow(10, snrDb / 10)));
  return x.map((v, i) => v + g * n[i]);
}

const FS = 16000;
const speech = pseudoSpeech(FS, 3, 7);

test("SI-SDR: identical -> +inf; scaled copy still +inf-ish", () => {
  assert.equal(siSdr(speech, speech), Infinity);
  assert.ok(siSdr(speech, speech.map((v) => 0.3 * v)) > 100);
});

test("SI-SDR of x vs x+noise equals the SNR within 0.1 dB", () => {
  for (const snr of [-5, 0, 10, 25]) {
    const x = gaussian(48000, 11);
    const y = addNoise(x, snr, 100 + snr);
    // Exact identity needs noise orthogonal to x; random noise is nearly so,
    // and 48000 samples put the leak well under 0.1 dB.
    const got = siSdr(x, y);
    assert.ok(Math.abs(got - snr) < 0.1, `snr ${snr}: got ${got}`);
  }
});

test("SI-SDR ignores gain but not a one-sample shift", () => {
  const y = addNoise(speech, 10, 3);
  assert.ok(Math.abs(siSdr(speech, y) - siSdr(speech, y.map((v) => 4 * v))) < 1e-6);
  const shifted = new Float32Array(speech.length);
  shifted.set(speech.subarray(0, speech.length - 1), 1);
  assert.ok(siSdr(speech, shifted) < 10);
});

test("third-octave bands: 15 bands from 150 Hz, contiguous, below 5 kHz", () => {
  const { lo, hi, center } = thirdOctaveBands();
  assert.equal(lo.length, 15);
  assert.ok(Math.abs(center[0] - 150) < 1e-9);
  assert.ok(Math.abs(center[14] - 150 * 2 ** (14 / 3)) < 1e-6);
  for (let b = 1; b < 15; b++) assert.equal(lo[b], hi[b - 1]);
  assert.ok(hi[14] <= 257 && lo[0] > 0);
});

test("STOI/ESTOI of identical signals is 1", () => {
  assert.ok(Math.abs(stoi(speech, speech, FS) - 1) < 1e-6);
  assert.ok(Math.abs(estoi(speech, speech, FS) - 1) < 1e-6);
});

test("STOI and ESTOI decrease monotonically with added noise", () => {
  const snrs = [30, 15, 5, 0, -5, -10, -15];
  const s = snrs.map((snr) => stoi(speech, addNoise(speech, snr, 42), FS));
  const e = snrs.map((snr) => estoi(speech, addNoise(speech, snr, 42), FS));
  for (let i = 1; i < snrs.length; i++) {
    assert.ok(s[i] < s[i - 1], `STOI not decreasing at ${snrs[i]} dB: ${s}`);
    assert.ok(e[i] < e[i - 1], `ESTOI not decreasing at ${snrs[i]} dB: ${e}`);
  }
  // White noise at -15 dB SNR leaves little intelligibility; at 30 dB almost all.
  assert.ok(s[0] > 0.95 && s[s.length - 1] < 0.6, `range ${s}`);
  assert.ok(e[0] > 0.9 && e[e.length - 1] < 0.4, `range ${e}`);
});

test("STOI is gain-invariant and needs a time-aligned signal", () => {
  const y = addNoise(speech, 5, 9);
  assert.ok(Math.abs(stoi(speech, y, FS) - stoi(speech, y.map((v) => 0.1 * v), FS)) < 1e-6);
  const late = new Float32Array(speech.length);
  late.set(speech.subarray(0, speech.length - 1600), 1600); // 100 ms late
  assert.ok(stoi(speech, late, FS) < 0.8);
});

test("STOI clipping: a degraded signal louder in some bands is not rewarded", () => {
  // Boosting a band region by a large factor changes the normalised envelope,
  // STOI must stay below 1, while the clean itself gives 1.
  const y = speech.map((v, i) => v * (1 + 30 * (Math.floor(i / 4000) % 2)));
  const v = stoi(speech, y, FS);
  assert.ok(v < 0.999 && v > 0.3, `${v}`);
});

test("STOI returns 1e-5 when too short", () => {
  const short = speech.subarray(0, 2000);
  assert.equal(stoi(short, short, FS), 1e-5);
});

test("intelligibility() matches stoi() and estoi()", async () => {
  const { intelligibility } = await import("../bench/metrics/stoi.js");
  const y = addNoise(speech, 3, 5);
  const both = intelligibility(speech, y, FS);
  assert.equal(both.stoi, stoi(speech, y, FS));
  assert.equal(both.estoi, estoi(speech, y, FS));
});
