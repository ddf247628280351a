// What each build exports, and that the test build runs the shipped frame loop.
//
// build/percepnet.wasm and percepnet-scalar.wasm ship (and percepnet-relaxed.wasm,
// whose exports tests/relaxed-checks.ts holds equal to percepnet.wasm's where
// relaxed SIMD runs): their exports are the
// ABI the host is written against, and nothing else. The hooks that reach
// single blocks (assembly/test-hooks.ts) exist only in the test builds, which
// the DSP, kernel and fuzz tests load; those tests speak for the shipped
// module only because the test build computes the same bits, checked here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadModelIntoWasm } from "../host/engine.js";
import { parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { ROOT, readSample, TEST_WASM, SCALAR_TEST_WASM } from "./util.js";

const SHIPPED = ["build/percepnet.wasm", "build/percepnet-scalar.wasm"];
const TEST_BUILDS = [TEST_WASM, SCALAR_TEST_WASM];

/** The product ABI (assembly/index.ts, docs/ARCHITECTURE.md "ABI"). A new export must be added here on purpose. */
const SHIPPED_EXPORTS: Record<string, string> = {
  memory: "memory",
  ABI_VERSION: "global", FRAME_SIZE: "global", BANDS: "global", FEATURES: "global", DELAY: "global",
  inputPtr: "function", cleanPtr: "function", outputPtr: "function", featuresPtr: "function", noiseFloorPtr: "function",
  gainsPtr: "function", strengthsPtr: "function", oracleGainsPtr: "function", oracleStrengthsPtr: "function",
  configure: "function", configureLevel: "function", reset: "function", processFrame: "function",
  frameVad: "function", frameCleanEnergy: "function", frameNoisyEnergy: "function", frameSanitised: "function", frameLevelGainDb: "function",
  pitchCurrent: "function", pitchCurrentCorr: "function", pitchDelayed: "function", pitchDelayedCorr: "function",
  modelConfigure: "function", modelLayerCount: "function", modelReserve: "function", modelLoadTensor: "function", modelLoadBlocks: "function",
  modelReady: "function", modelReset: "function", modelInputPtr: "function", modelRun: "function",
  modelGainsPtr: "function", modelStrengthsPtr: "function", modelVad: "function", modelHasVad: "function",
  modelBands: "function", modelRelaxedMatrices: "function",
};

/** assembly/test-hooks.ts: all functions. */
const HOOKS = [
  "scratchAPtr", "scratchBPtr", "scratchCPtr",
  "testRfft", "testIrfft", "testCfft", "testAnalyze", "testSynthesize", "testBandEnergy", "testBandCorr",
  "testInterp", "testCombTaps", "testCombFilter", "testPitch", "testMixPostfilter",
  "nnetAlloc", "nnetPackI8", "nnetPackedBytes", "nnetMatvecI8", "nnetMatvecI8Repeat", "nnetMatvecSparseI8", "nnetMatvecSparseI8Repeat", "nnetMatvecF32",
  "nnetMatvecF32Repeat", "nnetPackI7", "nnetOffsetI7", "nnetPrepI7", "nnetMatvecI7", "nnetMatvecI7Repeat", "nnetMatvecSparseI7",
  "nnetMatvecSparseI7Repeat", "nnetTanh", "nnetSigmoid", "nnetQuantize", "modelRunRepeat", "modelLayerOutPtr",
];

const compile = (file: string) => new WebAssembly.Module(readFileSync(ROOT + file));
const exportsOf = (file: string) =>
  Object.fromEntries(WebAssembly.Module.exports(compile(file)).map((e) => [e.name, e.kind as string]));
const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

test("the shipped builds export the product ABI and no test hook", () => {
  for (const file of SHIPPED) assert.deepEqual(sorted(exportsOf(file)), sorted(SHIPPED_EXPORTS), file);
});

test("the test builds export the product ABI plus every hook", () => {
  const expected = { ...SHIPPED_EXPORTS, ...Object.fromEntries(HOOKS.map((h) => [h, "function"])) };
  for (const file of TEST_BUILDS) assert.deepEqual(sorted(exportsOf(file)), sorted(expected), file);
});

type Ex = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory; ABI_VERSION: WebAssembly.Global };

/** Per-frame results of 150 frames of speech in network mode with the clean channel (so the oracle targets are computed too). */
function frameResults(file: string): Record<string, Float32Array> {
  const noisy = readSample("speech_noisy_snr0.wav").subarray(48000, 48000 + 480 * 150);
  const clean = readSample("speech_clean_freesound_33711.wav").subarray(48000, 48000 + 480 * 150);
  const ex = new WebAssembly.Instance(compile(file), { env: { abort: () => { throw new Error("abort"); }, seed: () => 1 } }).exports as unknown as Ex;
  assert.equal(ex.ABI_VERSION.value, 4, file);
  loadModelIntoWasm(ex as any, parseModelFile(randomModelFile(makeConfig(32), 5)));
  ex.configure(1, 1, 1, 0, 1);
  const v = (p: number, n: number) => new Float32Array(ex.memory.buffer, p, n);
  const r: Record<string, number[]> = {};
  const put = (k: string, x: ArrayLike<number>) => { (r[k] ??= []).push(...Array.from(x)); };
  for (let i = 0; i + 480 <= noisy.length; i += 480) {
    v(ex.inputPtr(), 480).set(noisy.subarray(i, i + 480));
    v(ex.cleanPtr(), 480).set(clean.subarray(i, i + 480));
    ex.processFrame();
    const f = v(ex.featuresPtr(), 70);
    put("output", v(ex.outputPtr(), 480)); put("features 0-68", f.subarray(0, 69)); put("feature 69", f.subarray(69));
    put("gains", v(ex.gainsPtr(), 34)); put("strengths", v(ex.strengthsPtr(), 34));
    put("oracle", v(ex.oracleGainsPtr(), 34)); put("oracle", v(ex.oracleStrengthsPtr(), 34));
    put("scalars", [ex.frameVad(), ex.frameCleanEnergy(), ex.frameNoisyEnergy(), ex.pitchCurrent(), ex.pitchDelayed()]);
    put("pitch corr", [ex.pitchCurrentCorr(), ex.pitchDelayedCorr()]);
  }
  return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, Float32Array.from(x)]));
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

test("each test build runs its shipped build's frame loop bit for bit", () => {
  for (const [shipped, testBuild] of [[SHIPPED[0], TEST_WASM], [SHIPPED[1], SCALAR_TEST_WASM]]) {
    const a = frameResults(shipped), b = frameResults(testBuild);
    assert.ok(a.output.some((x) => x !== 0) && a.output.every(Number.isFinite));
    for (const k of Object.keys(a)) assert.ok(same(a[k], b[k]), `${testBuild} vs ${shipped}: ${k}`);
  }
});

test("SIMD and scalar builds: same output, gains, oracle targets and pitch; the pitch correlation only to rounding", () => {
  const a = frameResults(SHIPPED[0]), b = frameResults(SHIPPED[1]);
  for (const k of Object.keys(a)) {
    // vec.ts dot() sums in 8 lanes with SIMD and in order without: the
    // normalised pitch correlation (feature 69) may differ in its last bits.
    if (k === "feature 69" || k === "pitch corr") {
      for (let i = 0; i < a[k].length; i++) assert.ok(Math.abs(a[k][i] - b[k][i]) < 1e-5, `${k} [${i}]: ${a[k][i]} vs ${b[k][i]}`);
    } else {
      assert.ok(same(a[k], b[k]), `scalar vs SIMD: ${k}`);
    }
  }
});
