// The noise-floor block (assembly/noise-floor.ts): equal, bit for bit, to a
// plain float reference on the engine's own features; tracks the floor under
// intermittent loud sound and follows a rise of the noise; and reaches the
// network of a model that takes it (config nFeatures 104).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModelFile, writeModelFile } from "../host/model-file.js";
import { makeConfig, randomFloatTensors } from "../lab/random-model.js";
import { NetworkRunner } from "../lab/network-runner.js";
import { readSample, rng, wasmEngine } from "./util.js";
import type { Engine } from "../host/engine.js";

const NB = 34, SMOOTH = Math.fround(0.7), BLOCK = 80;

/** The estimator in plain TS (float32 rounding after every operation, as wasm f32 does). */
function noiseFloorRef(logE: Float32Array[]): Float32Array[] {
  const f = Math.fround, a = SMOOTH, b1 = f(1 - SMOOTH);
  const out: Float32Array[] = [];
  let s = new Float32Array(NB), cur = new Float32Array(NB), prev = new Float32Array(NB), pos = 0;
  for (const l of logE) {
    const o = new Float32Array(NB);
    for (let b = 0; b < NB; b++) {
      if (pos === 0) { s[b] = l[b]; cur[b] = l[b]; prev[b] = l[b]; }
      else {
        s[b] = f(f(a * s[b]) + f(b1 * l[b]));
        if (pos === BLOCK) { prev[b] = cur[b]; cur[b] = s[b]; } else cur[b] = Math.min(cur[b], s[b]);
      }
      o[b] = Math.min(cur[b], prev[b]);
    }
    pos = pos === BLOCK ? 1 : pos + 1;
    out.push(o);
  }
  return out;
}

/** Run `x` through `eng` frame by frame; the per-frame features (70) and noise floor (34). */
function run(eng: Engine, x: Float32Array): { feats: Float32Array[]; floor: Float32Array[] } {
  const feats: Float32Array[] = [], floor: Float32Array[] = [];
  for (let t = 0; t + 480 <= x.length; t += 480) {
    eng.input.set(x.subarray(t, t + 480));
    eng.runFrame();
    feats.push(eng.featureVector.slice());
    floor.push(eng.noiseFloor.slice());
  }
  return { feats, floor };
}

function noise(n: number, amp: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => amp * (2 * r() - 1));
}

test("noise floor equals its float reference bit for bit on a real recording, and again after reset()", async () => {
  const eng = await wasmEngine();
  eng.configure({ mode: "unity" });
  const x = readSample("speech_noisy_snr0.wav");
  const a = run(eng, x);
  const ref = noiseFloorRef(a.feats.map((f) => f.subarray(0, NB)));
  assert.ok(a.floor.length > 2 * BLOCK, "the recording spans several blocks");
  a.floor.forEach((f, t) => assert.deepEqual(f, ref[t], `frame ${t}`));
  eng.reset();
  const b = run(eng, x);
  b.floor.forEach((f, t) => assert.deepEqual(f, a.floor[t], `frame ${t} after reset`));
});

test("noise floor stays on steady noise under loud bursts, and follows a rise of the noise within two blocks", async () => {
  const eng = await wasmEngine();
  eng.configure({ mode: "unity" });
  const sr = 48000, n = 6 * sr;
  // Steady noise, with 0.4 s bursts 30 dB louder every 0.6 s (a talker who rarely pauses).
  const x = noise(n, 0.003, 1);
  const loud = noise(n, 0.1, 2);
  for (let i = 0; i < n; i++) if (i % (0.6 * sr) < 0.4 * sr) x[i] += loud[i];
  const { feats, floor } = run(eng, x);
  // Band 20 (about 3 kHz): the floor from 2 s on lies within 3 dB (0.3 in log10) of the
  // quiet gaps' energy and far below the bursts'.
  const gaps: number[] = [], bursts: number[] = [];
  for (let t = 0; t < feats.length; t++) ((t * 480) % (0.6 * sr) >= 0.4 * sr ? gaps : bursts).push(feats[t][20]);
  const med = (v: number[]) => v.slice().sort((p, q) => p - q)[v.length >> 1];
  for (let t = 200; t < floor.length; t++) {
    assert.ok(Math.abs(floor[t][20] - med(gaps)) < 0.3, `frame ${t}: floor ${floor[t][20].toFixed(2)}, gaps ${med(gaps).toFixed(2)}`);
    assert.ok(floor[t][20] < med(bursts) - 2, `frame ${t}: floor ${floor[t][20].toFixed(2)} near the bursts ${med(bursts).toFixed(2)}`);
  }

  // A 20 dB rise of steady noise at 2 s shows in the floor within 2 x 80 frames (+ the smoothing).
  eng.reset();
  const y = noise(5 * sr, 0.001, 3);
  for (let i = 2 * sr; i < y.length; i++) y[i] *= 10;
  const r = run(eng, y).floor;
  const before = r[190][20], after = r[r.length - 1][20];
  assert.ok(after - before > 1.8 && after - before < 2.2, `rise ${(after - before).toFixed(2)} in log10 (20 dB = 2)`);
  const risen = r.findIndex((f, t) => t >= 200 && f[20] > before + 1.8);
  assert.ok(risen > 200 && risen <= 200 + 2 * BLOCK + 5, `risen at frame ${risen}`);
});

test("a model with nFeatures 104 gets the noise floor after the 70 features, in the engine's own frame loop", async () => {
  const config = { ...makeConfig(48, { dense: 32, gruR: 16 }), nFeatures: 104 };
  const model = parseModelFile(writeModelFile(config, randomFloatTensors(config, 5)));
  const eng = await wasmEngine();
  eng.loadModel(model);
  eng.configure({ mode: "network", minGain: 0 });
  const net = new NetworkRunner(await wasmEngine(), model);
  // The same network fed zeros where the floor goes: its gains must differ, or the floor reaches nothing.
  const blind = new NetworkRunner(await wasmEngine(), model);
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 480 * 300);
  let moved = 0;
  for (let t = 0; t + 480 <= x.length; t += 480) {
    eng.input.set(x.subarray(t, t + 480));
    eng.runFrame();
    const input = new Float32Array(104);
    input.set(eng.featureVector, 0);
    input.set(eng.noiseFloor, 70);
    const y = net.step(input);
    assert.deepEqual(eng.gains, y.gains.map((g) => Math.min(1, Math.max(0, g))), `frame ${t / 480}`);
    input.fill(0, 70);
    const z = blind.step(input);
    moved = Math.max(moved, ...z.gains.map((g, b) => Math.abs(g - y.gains[b])));
  }
  assert.ok(moved > 1e-2, `gains moved by at most ${moved} without the floor`);
});
