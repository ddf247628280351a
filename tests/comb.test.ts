// The pitch comb filter: harmonics of the tuned period pass, white noise is
// reduced to sigma^2 = sum w_k^2 of its power.
import { test } from "node:test";
import assert from "node:assert/strict";
import { wasmInstance, f32, rng, TEST_WASM } from "./util.js";

test("comb taps: Hann-shaped, symmetric with enough look-ahead, sum to 1; dropped future taps renormalised", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const C = f32(ex, ex.scratchCPtr(), 11);
  const s2 = ex.testCombTaps(100, 960);
  const w = Array.from(C);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(w[k] - w[10 - k]) < 1e-7);
  assert.ok(w[5] > w[4] && w[4] > w[3]);
  assert.ok(Math.abs(s2 - w.reduce((a, b) => a + b * b, 0)) < 1e-6);
  // the paper's M = 5: about 9 dB between harmonics
  assert.ok(Math.abs(10 * Math.log10(s2) + 9.3) < 0.6, `sigma2 ${s2}`);
  // T = 400 with 960 samples of look-ahead: only taps k = -1, -2 of the future survive
  ex.testCombTaps(400, 960);
  const v = Array.from(C);
  assert.equal(v[0], 0); assert.equal(v[1], 0); assert.equal(v[2], 0);
  assert.ok(v[3] > 0 && v[4] > 0);
  // causal: no future taps at all
  ex.testCombTaps(100, 0);
  for (let k = 0; k < 5; k++) assert.equal(C[k], 0);
});

function power(x: Float32Array): number { let p = 0; for (const v of x) p += v * v; return p / x.length; }

test("comb response: harmonics of the tuned pitch pass within 0.5 dB, white noise drops by 10 log10(sum w^2)", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 4096), B = f32(ex, ex.scratchBPtr(), 960), C = f32(ex, ex.scratchCPtr(), 11);
  for (const T of [96, 160, 240]) {
    const s2 = ex.testCombTaps(T, 4096);
    const start = 1800;
    // harmonics at multiples of 48000/T
    for (const h of [1, 3, 7]) {
      const f = (h * 48000) / T;
      for (let i = 0; i < 4096; i++) A[i] = Math.sin((2 * Math.PI * f * i) / 48000 + 0.3);
      const ref = A.slice(start, start + 960);
      ex.testCombFilter(start, T);
      const dB = 10 * Math.log10(power(B) / power(ref));
      assert.ok(Math.abs(dB) < 0.5, `T ${T} harmonic ${h}: ${dB.toFixed(2)} dB`);
    }
    // white noise: the floor between harmonics drops to sigma^2
    const r = rng(T);
    let acc = 0, n = 0;
    for (let trial = 0; trial < 20; trial++) {
      for (let i = 0; i < 4096; i++) A[i] = r() * 2 - 1;
      const ref = power(A.slice(start, start + 960));
      ex.testCombFilter(start, T);
      acc += power(B) / ref; n++;
    }
    const got = 10 * Math.log10(acc / n), want = 10 * Math.log10(s2);
    assert.ok(Math.abs(got - want) < 0.5, `T ${T}: noise ${got.toFixed(2)} dB vs sigma2 ${want.toFixed(2)} dB`);
    void C;
  }
});

test("comb filter uses exactly the taps it is given: p(n) = sum_k w_k x(n - kT)", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 4096), B = f32(ex, ex.scratchBPtr(), 960), C = f32(ex, ex.scratchCPtr(), 11);
  const r = rng(5);
  for (let i = 0; i < 4096; i++) A[i] = r() * 2 - 1;
  const T = 150, start = 1800;
  // taps written by hand, not by testCombTaps: a past tap (k = 2) and a future one (k = -1)
  C.fill(0); C[5 + 2] = 0.25; C[5 - 1] = 0.5;
  ex.testCombFilter(start, T);
  for (let n = 0; n < 960; n++) {
    const want = Math.fround(Math.fround(0.25 * A[start + n - 2 * T]) + Math.fround(0.5 * A[start + n + T]));
    assert.ok(Math.abs(B[n] - want) <= 1e-6, `n ${n}: ${B[n]} vs ${want}`);
  }
});
