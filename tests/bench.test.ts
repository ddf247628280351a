/** Pieces of the speed benchmark (bench/): interleaving, the mixing export, the worker pool. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCurrent, makeMixturesArgs } from "../bench/default-testset.js";
import { rawInstance, rotate } from "../bench/speed.js";
import { runPool } from "../bench/throughput.js";
import { median, quantile } from "../bench/timing.js";
import { parseModelFile } from "../host/model-file.js";
import { encodeWav } from "../host/wav.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { f32, readSample, wasmModule, TEST_WASM } from "./util.js";

test("median and quantile", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
});

test("rotate interleaves the samplers round by round and drops the warm-up round", () => {
  const order: string[] = [];
  let a = 0, b = 100;
  const t = rotate({ a: () => { order.push("a"); return [a++]; }, b: () => { order.push("b"); return [b++, b++]; } }, 3);
  assert.deepEqual(order, ["a", "b", "a", "b", "a", "b", "a", "b"]);
  assert.deepEqual(t.a, [1, 2, 3]);
  assert.deepEqual(t.b, [102, 103, 104, 105, 106, 107]);
});

test("testMixPostfilter (timed between frames) leaves processFrame's output unchanged", async () => {
  const mod = await wasmModule(TEST_WASM);
  const model = parseModelFile(randomModelFile(makeConfig(32), 2));
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 480 * 40);
  const run = (poke: boolean) => {
    const eng = rawInstance(mod, model);
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i += 480) {
      eng.input.set(x.subarray(i, i + 480));
      eng.runFrame();
      y.set(eng.output, i);
      if (poke) eng.hooks.testMixPostfilter();
    }
    return y;
  };
  const plain = run(false);
  assert.ok(plain.some((v) => v !== 0));
  assert.deepEqual(run(true), plain);
});

test("runPool denoises every file through the CLI in worker threads", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-test-"));
  try {
    const wav = join(dir, "in.wav");
    writeFileSync(wav, encodeWav([readSample("speech_noisy_snr0.wav").slice(0, 24000)], { sampleRate: 48000, format: "pcm16" }).bytes);
    const model = join(dir, "m.pnm");
    writeFileSync(model, randomModelFile(makeConfig(32), 1));
    const r = await runPool([wav, wav, wav], 2, model);
    assert.equal(r.failures, 0);
    assert.equal(r.files, 3);
    assert.ok(Math.abs(r.audioSeconds - 1.5) < 1e-9);
    assert.ok(r.filesPerSecond > 0 && Math.abs(r.xRealTimePerCore - r.xRealTime / 2) < 1e-9);
    const bad = await runPool([join(dir, "missing.wav")], 1, model);
    assert.equal(bad.failures, 1, "a failing file is counted, not hidden");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the default eval test set is reused only while its parameters match", () => {
  const dir = mkdtempSync(join(tmpdir(), "testset-test-"));
  try {
    const spec = { n: 2, seed: 3, snrs: [0, 5] };
    assert.equal(isCurrent(dir, spec), false, "empty folder");
    mkdirSync(join(dir, "clean")); mkdirSync(join(dir, "noisy"));
    const clips = [{ name: "val_0000_snr0.wav" }, { name: "val_0001_snr5.wav" }];
    for (const c of clips) for (const d of ["clean", "noisy"]) writeFileSync(join(dir, d, c.name), "");
    writeFileSync(join(dir, "mixtures.json"), JSON.stringify({ split: "val", seed: 3, n: 2, options: { reverb: true, snrs: [0, 5] }, clips }));
    assert.equal(isCurrent(dir, spec), true);
    assert.equal(isCurrent(dir, { ...spec, n: 3 }), false);
    assert.equal(isCurrent(dir, { ...spec, seed: 4 }), false);
    assert.equal(isCurrent(dir, { ...spec, snrs: [0] }), false);
    rmSync(join(dir, "noisy", clips[1].name));
    assert.equal(isCurrent(dir, spec), false, "a missing file means an interrupted run");
    assert.deepEqual(makeMixturesArgs(spec, "D"), ["--out", "D", "--split", "val", "--snrs", "0,5", "--reverb", "--n", "2", "--seed", "3"]);
    // The reverb mode is part of a set's identity: a mixed set is neither a dry nor a reverb-only one.
    assert.equal(isCurrent(dir, { ...spec, reverb: "none" as const }), false);
    assert.equal(isCurrent(dir, { ...spec, reverb: "only" as const }), false);
    assert.equal(makeMixturesArgs({ ...spec, reverb: "none" as const }, "D")[6], "--no-reverb");
    assert.equal(makeMixturesArgs({ ...spec, reverb: "only" as const }, "D")[6], "--reverb-only");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
