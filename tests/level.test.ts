// The level normaliser of the network's features (assembly/level.ts): its
// gain follows a plain float reference; at a level inside its range it
// changes nothing, bit for bit; a quiet input is heard as a louder one (the
// output moves toward what the same speech at a normal level gives); digital
// silence, NaN and very loud input keep it bounded; and the option is
// checked, switchable live and reset exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Denoiser, denoiseBuffer } from "../host/index.js";
import { LEVEL_RANGE_DB } from "../host/engine.js";
import { readSample, snrDb, wasmEngine } from "./util.js";

const HOP = 480;
const [LO, HI] = LEVEL_RANGE_DB;

/** Each whole 480-sample frame's level, dB FS (mean square of the 16-bit-scaled samples, as the engine takes it). */
function frameLevelsDb(x: Float32Array): number[] {
  const out: number[] = [];
  for (let t = 0; t + HOP <= x.length; t += HOP) {
    let s = 0;
    for (let i = t; i < t + HOP; i++) { const v = Math.fround(x[i] * 32768); s += v * v; }
    const p = s / (HOP * 32768 * 32768);
    out.push(p > 0 ? 10 * Math.log10(p) : -Infinity);
  }
  return out;
}

/** The tracker of assembly/level.ts in plain TS (doubles; the engine's f32 differs in the last bits). */
function levelRef(x: Float32Array, lo = LO, hi = HI): number[] {
  const BINS = 110, MIN_DB = -100, FORGET = 1 - 1 / 1500, MIN_FRAMES = 300, SLEW = 0.2, BOOST = 30, CUT = 20;
  const h = new Float64Array(BINS);
  let mass = 0, frames = 0, g = 0;
  const out: number[] = [];
  for (const l of frameLevelsDb(x)) {
    if (l > MIN_DB) {
      for (let i = 0; i < BINS; i++) h[i] *= FORGET;
      mass = mass * FORGET + 1;
      h[Math.min(BINS - 1, Math.floor(l - MIN_DB))] += 1;
      if (frames < MIN_FRAMES) frames++;
    }
    let target = 0;
    if (frames >= MIN_FRAMES) {
      let c = 0, i = BINS - 1;
      for (; i > 0; i--) { c += h[i]; if (c >= 0.1 * mass) break; }
      const p90 = MIN_DB + i + 0.5;
      if (p90 < lo) target = Math.min(BOOST, lo - p90);
      else if (p90 > hi) target = -Math.min(CUT, p90 - hi);
    }
    g += Math.max(-SLEW, Math.min(SLEW, target - g));
    out.push(g);
  }
  return out;
}

const scaled = (x: Float32Array, db: number) => x.map((v) => v * 10 ** (db / 20));

/** Per-frame features, outputs and normaliser gains of `x` through a fresh network-less engine. */
async function frames(x: Float32Array, levelNormalize: boolean) {
  const eng = await wasmEngine();
  eng.configure({ mode: "unity", levelNormalize });
  const feats: Float32Array[] = [], outs: Float32Array[] = [], gains: number[] = [];
  for (let t = 0; t + HOP <= x.length; t += HOP) {
    eng.input.set(x.subarray(t, t + HOP));
    eng.runFrame();
    feats.push(eng.featureVector.slice()); outs.push(eng.output.slice()); gains.push(eng.levelGainDb);
  }
  return { feats, outs, gains, eng };
}

const speech = readSample("speech_noisy_snr0.wav");

test("the normaliser's gain follows its float reference on a quiet and a loud recording", async () => {
  for (const db of [-45, 25]) {
    const x = scaled(speech, db);
    const { gains } = await frames(x, true);
    const ref = levelRef(x);
    let worst = 0;
    gains.forEach((g, t) => { worst = Math.max(worst, Math.abs(g - ref[t])); });
    assert.ok(worst < 0.01, `${db} dB: largest difference ${worst} dB`);
    // It acted: a boost for the quiet input, a cut for the loud one, within the limits.
    const last = gains[gains.length - 1];
    assert.ok(db < 0 ? last > 10 && last <= 30 : last < -10 && last >= -20, `${db} dB: final gain ${last}`);
  }
});

test("at a level inside its range the normaliser changes nothing, bit for bit", async () => {
  // Move the recording so the 90th percentile of its frame levels sits mid-range.
  const lv = frameLevelsDb(speech).sort((a, b) => a - b);
  const x = scaled(speech, (LO + HI) / 2 - lv[Math.floor(0.9 * lv.length)]);
  const ref = levelRef(x);
  assert.ok(ref.every((g) => g === 0), "precondition: the estimate stays inside the range");
  const on = await frames(x, true), off = await frames(x, false);
  assert.ok(on.gains.every((g) => g === 0));
  on.feats.forEach((f, t) => assert.deepEqual(f, off.feats[t], `features, frame ${t}`));
  on.outs.forEach((o, t) => assert.deepEqual(o, off.outs[t], `output, frame ${t}`));
});

test("a quiet input is denoised much as the same input at a normal level", async () => {
  const x = speech.subarray(0, 48000 * 8);
  const normal = denoiseBuffer(await Denoiser.create({ levelNormalize: false }), x);
  const quiet = scaled(x, -45);
  const back = (y: Float32Array) => scaled(y, 45);
  const withNorm = back(denoiseBuffer(await Denoiser.create({ levelNormalize: true }), quiet));
  const without = back(denoiseBuffer(await Denoiser.create({ levelNormalize: false }), quiet));
  // From 5 s on (the gain starts after 3 s and has settled), against the normal-level output.
  const from = 48000 * 5;
  const sOn = snrDb(normal.subarray(from), withNorm.subarray(from));
  const sOff = snrDb(normal.subarray(from), without.subarray(from));
  assert.ok(sOn > sOff + 6, `closer to the normal-level output with the normaliser: ${sOn.toFixed(1)} dB vs ${sOff.toFixed(1)} dB without`);
});

test("digital silence, NaN and a very loud input keep the gain bounded and the features finite", async () => {
  const n = 48000 * 6;
  const silent = await frames(new Float32Array(n), true);
  assert.ok(silent.gains.every((g) => g === 0), "digital silence is no evidence of a level");
  const nan = new Float32Array(n).fill(NaN);
  const bad = await frames(nan, true);
  assert.ok(bad.gains.every((g) => g === 0));
  const loud = new Float32Array(n).map((_, i) => (i % 96 < 48 ? 4 : -4)); // +12 dB FS square wave
  const l = await frames(loud, true);
  assert.ok(l.gains.every((g) => g <= 0 && g >= -20), "cut, never beyond its limit");
  // The histogram's top bin is +10 dB FS, so the cut settles at 10 - hi.
  assert.ok(Math.abs(l.gains[l.gains.length - 1] - Math.max(-20, HI - 9.5)) < 1e-4, `final cut ${l.gains[l.gains.length - 1]}`);
  for (const f of l.feats) assert.ok(f.every(Number.isFinite));
  // A long quiet hiss: boosted, never beyond +30 dB, and the slew never exceeds 0.2 dB per frame.
  const hiss = new Float32Array(48000 * 4).map((_, i) => 1e-5 * Math.sin(i * 1.3) * Math.sin(i * 0.0071));
  const q = await frames(hiss, true);
  q.gains.forEach((g, t) => {
    assert.ok(g >= 0 && g <= 30);
    if (t) assert.ok(Math.abs(g - q.gains[t - 1]) <= 0.2 + 1e-6);
  });
});

test("levelNormalize is checked, switched live, and reset() starts the estimate over", async () => {
  await assert.rejects(Denoiser.create({ levelNormalize: "yes" as unknown as boolean }), /levelNormalize must be a boolean/);
  const d = await Denoiser.create({ levelNormalize: false });
  assert.throws(() => d.setOptions({ levelNormalize: 1 as unknown as boolean }), /levelNormalize must be a boolean/);
  const x = scaled(speech.subarray(0, 48000 * 2), -45);
  d.process(x);
  assert.equal(d.engine.levelGainDb, 0);
  d.setOptions({ levelNormalize: true });
  d.process(x);
  assert.ok(d.engine.levelGainDb > 0, "on: the estimate gathered while off is used at once");
  d.reset();
  const y1 = denoiseBuffer(d, x); // ends with reset()
  const y2 = denoiseBuffer(d, x);
  assert.deepEqual(y1, y2, "reset() returns the tracker to its first state");
});
