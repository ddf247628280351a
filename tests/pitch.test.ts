// Pitch tracker on synthetic harmonic signals (gross pitch error = more than
// 20 % off the true period).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Denoiser } from "../host/denoiser.js";
import { rng, wasmModule } from "./util.js";

/** Harmonic tone with a decaying spectrum; f0(t) may vary (vibrato). */
function harmonic(f0: (t: number) => number, seconds: number, seed = 1): Float32Array {
  const n = Math.round(48000 * seconds), x = new Float32Array(n);
  let phase = 0;
  const r = rng(seed);
  const phases = Array.from({ length: 40 }, () => r() * 2 * Math.PI);
  for (let i = 0; i < n; i++) {
    const f = f0(i / 48000);
    phase += (2 * Math.PI * f) / 48000;
    let s = 0;
    for (let h = 1; h * f < 8000 && h <= 40; h++) s += Math.sin(h * phase + phases[h - 1]) / h;
    x[i] = 0.1 * s;
  }
  return x;
}

function addNoise(x: Float32Array, snrDb: number, seed: number): Float32Array {
  const r = rng(seed);
  let p = 0;
  for (const v of x) p += v * v;
  p /= x.length;
  const sd = Math.sqrt(p / 10 ** (snrDb / 10));
  // Gaussian white noise (Box-Muller)
  return x.map((v) => v + sd * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

interface Track { delayed: number[]; current: number[]; }
async function track(x: Float32Array): Promise<Track> {
  const d = new Denoiser(await wasmModule(), { mode: "unity" });
  const t: Track = { delayed: [], current: [] };
  d.onFrame = () => { const p = d.engine.pitch; t.delayed.push(p.delayed); t.current.push(p.current); };
  d.process(x);
  return t;
}

/** Gross pitch error rate of the delayed (tracked) period; frame i's window ends at 480 (i - 1) samples. */
function gpe(periods: number[], f0: (t: number) => number, skip = 8): number {
  let bad = 0, n = 0;
  for (let i = skip; i < periods.length; i++) {
    const centre = (480 * (i + 1) - 960 - 480) / 48000; // delayed frame window centre, seconds
    const T = 48000 / f0(centre);
    n++;
    if (Math.abs(periods[i] - T) / T > 0.2) bad++;
  }
  return bad / n;
}

const F0S = [80, 95, 120, 145, 170, 210, 250, 300, 350, 400];

test("pitch: steady harmonic tones 80-400 Hz, GPE < 2 % and no octave jumps", async () => {
  for (const f of F0S) {
    const t = await track(harmonic(() => f, 2));
    const e = gpe(t.delayed, () => f);
    assert.ok(e < 0.02, `f0 ${f} Hz: GPE ${(100 * e).toFixed(1)} %, periods ${t.delayed.slice(10, 20)}`);
    const ps = t.delayed.slice(10);
    for (let i = 1; i < ps.length; i++) assert.ok(Math.abs(ps[i] - ps[i - 1]) < 0.3 * ps[i], `jump at ${f} Hz: ${ps[i - 1]} -> ${ps[i]}`);
  }
});

test("pitch: vibrato (+-6 % at 5 Hz), GPE < 2 %", async () => {
  for (const f of [100, 220, 350]) {
    const f0 = (s: number) => f * (1 + 0.06 * Math.sin(2 * Math.PI * 5 * s));
    const t = await track(harmonic(f0, 2, 3));
    const e = gpe(t.delayed, f0);
    assert.ok(e < 0.02, `vibrato around ${f} Hz: GPE ${(100 * e).toFixed(1)} %`);
  }
});

test("pitch: harmonic tones in white noise at 0 dB SNR, GPE < 10 %", async () => {
  for (const f of F0S) {
    const t = await track(addNoise(harmonic(() => f, 2, 5), 0, f));
    const e = gpe(t.delayed, () => f);
    assert.ok(e < 0.1, `f0 ${f} Hz at 0 dB: GPE ${(100 * e).toFixed(1)} %`);
  }
});
