// The STFT/band core of the .wasm against its defining properties.
import { test } from "node:test";
import assert from "node:assert/strict";
import { wasmInstance, f32, rng, TEST_WASM } from "./util.js";

const BAND_CENTER = [0, 2, 4, 6, 8, 10, 12, 15, 18, 21, 24, 28, 32, 36, 41, 47, 53, 60, 68, 77, 87, 98, 110, 124, 140, 157, 176, 198, 223, 251, 282, 317, 356, 400];

function naiveRdft(x: Float32Array): Float64Array {
  const N = x.length, out = new Float64Array(N + 2);
  for (let k = 0; k <= N / 2; k++) {
    let re = 0, im = 0;
    for (let n = 0; n < N; n++) { const a = (-2 * Math.PI * k * n) / N; re += x[n] * Math.cos(a); im += x[n] * Math.sin(a); }
    out[2 * k] = re / N; out[2 * k + 1] = im / N;
  }
  return out;
}

test("real FFT of 960 matches a naive DFT (scaled 1/N) and round-trips", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 960), B = f32(ex, ex.scratchBPtr(), 962);
  const r = rng(1);
  for (let trial = 0; trial < 3; trial++) {
    for (let i = 0; i < 960; i++) A[i] = r() * 2 - 1;
    const x = A.slice();
    const ref = naiveRdft(x);
    ex.testRfft();
    let maxErr = 0, maxRef = 0;
    for (let i = 0; i < 962; i++) { maxErr = Math.max(maxErr, Math.abs(B[i] - ref[i])); maxRef = Math.max(maxRef, Math.abs(ref[i])); }
    assert.ok(maxErr / maxRef < 1e-4, `FFT relative error ${maxErr / maxRef}`);
    A.fill(0);
    ex.testIrfft();
    let rt = 0;
    for (let i = 0; i < 960; i++) rt = Math.max(rt, Math.abs(A[i] - x[i]));
    assert.ok(rt < 1e-5, `round trip error ${rt}`);
  }
  // a pure tone lands in its bin with amplitude 1/2
  for (let i = 0; i < 960; i++) A[i] = Math.cos((2 * Math.PI * 37 * i) / 960);
  ex.testRfft();
  assert.ok(Math.abs(B[74] - 0.5) < 1e-5 && Math.abs(B[75]) < 1e-5);
});

test("complex 480-point FFT matches a naive DFT for every radix stage", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 960);
  const r = rng(2);
  for (let i = 0; i < 960; i++) A[i] = r() - 0.5;
  const x = A.slice();
  ex.testCfft();
  let maxErr = 0, maxRef = 0;
  for (let k = 0; k < 480; k++) {
    let re = 0, im = 0;
    for (let n = 0; n < 480; n++) {
      const a = (-2 * Math.PI * k * n) / 480, c = Math.cos(a), s = Math.sin(a);
      re += x[2 * n] * c - x[2 * n + 1] * s; im += x[2 * n] * s + x[2 * n + 1] * c;
    }
    maxErr = Math.max(maxErr, Math.abs(A[2 * k] - re), Math.abs(A[2 * k + 1] - im));
    maxRef = Math.max(maxRef, Math.abs(re), Math.abs(im));
  }
  assert.ok(maxErr / maxRef < 1e-4, `relative error ${maxErr / maxRef}`);
});

test("band weights: a unit gain per band interpolates to 1 everywhere, and each band's triangle peaks at its centre", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 34), C = f32(ex, ex.scratchCPtr(), 481);
  A.fill(1);
  ex.testInterp();
  for (let k = 0; k <= 400; k++) assert.ok(Math.abs(C[k] - 1) < 1e-6, `bin ${k}: ${C[k]}`);
  for (let b = 0; b < 34; b++) {
    A.fill(0); A[b] = 1; ex.testInterp();
    assert.ok(Math.abs(C[BAND_CENTER[b]] - 1) < 1e-6);
    if (b > 0) assert.equal(C[BAND_CENTER[b - 1]], 0);
    if (b < 33) assert.equal(C[BAND_CENTER[b + 1]], 0);
  }
});

test("Parseval: band energies sum to the one-sided spectrum energy, and relate to the time-domain energy", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 960), B = f32(ex, ex.scratchBPtr(), 962), C = f32(ex, ex.scratchCPtr(), 34);
  const r = rng(3);
  for (let i = 0; i < 960; i++) A[i] = r() * 2 - 1;
  let time = 0;
  for (let i = 0; i < 960; i++) time += A[i] * A[i];
  ex.testRfft();
  let oneSided = 0, twoSided = 0;
  for (let k = 0; k <= 480; k++) {
    const p = B[2 * k] ** 2 + B[2 * k + 1] ** 2;
    oneSided += p;
    twoSided += k === 0 || k === 480 ? p : 2 * p;
  }
  ex.testBandEnergy();
  let bands = 0;
  for (let b = 0; b < 34; b++) { assert.ok(C[b] >= 0); bands += C[b]; }
  assert.ok(Math.abs(bands - oneSided) / oneSided < 1e-5, `bands ${bands} vs bins ${oneSided}`);
  // with the 1/N forward scaling: sum x^2 = N * sum_k |X_k|^2 (two-sided)
  assert.ok(Math.abs(time - 960 * twoSided) / time < 1e-4);
});

test("band correlation of a spectrum with itself equals its band energy", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 962), B = f32(ex, ex.scratchBPtr(), 962), C = f32(ex, ex.scratchCPtr(), 34);
  const r = rng(4);
  for (let i = 0; i < 962; i++) B[i] = r() - 0.5;
  A.set(B);
  ex.testBandEnergy();
  const e = C.slice();
  ex.testBandCorr();
  for (let b = 0; b < 34; b++) assert.ok(Math.abs(C[b] - e[b]) <= 1e-6 * Math.max(1, e[b]));
});

test("the window is power complementary", async () => {
  const ex = await wasmInstance(TEST_WASM);
  const A = f32(ex, ex.scratchAPtr(), 960), B = f32(ex, ex.scratchBPtr(), 962), C = f32(ex, ex.scratchCPtr(), 480);
  // analysis + synthesis of a constant over successive hops reproduces it after one hop
  for (let hop = 0; hop < 3; hop++) {
    A.fill(1);
    ex.testAnalyze();
    ex.testSynthesize();
  }
  for (let i = 0; i < 480; i++) assert.ok(Math.abs(C[i] - 1) < 1e-5, `sample ${i}: ${C[i]}`);
});
