/** Pieces of the speed benchmark (bench/): interleaving, the mixing export, the worker pool. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCurrent, makeMixturesArgs } from "../bench/default-testset.js";
import { DENSITIES, RELAXED_NODE_FLAGS, densitySection, densityShapes, densityTable, planRelaxed } from "../bench/density.js";
import { rawInstance, rotate } from "../bench/speed.js";
import { runPool } from "../bench/throughput.js";
import { median, quantile } from "../bench/timing.js";
import { parseModelFile } from "../host/model-file.js";
import { encodeWav } from "../host/wav.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { f32, readSample, wasmModule, SAMPLES, TEST_WASM } from "./util.js";

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

test("density section: the shapes are the paper size and each shipped model's, coinciding shapes merged", () => {
  const shapes = densityShapes();
  assert.deepEqual(shapes.map((s) => s.label), ["width 512 (paper size, default.pnm)", "width 192 (small.pnm)"]);
  assert.deepEqual(shapes[0].config, makeConfig(512));
});

test("density section: where the relaxed build is timed", () => {
  assert.equal(planRelaxed({ chooseBuild: () => "relaxed" }).kind, "in-process");
  const seen: string[][] = [];
  const flagged = planRelaxed({ chooseBuild: () => "simd", probeChild: (_n, a) => { seen.push(a); return a.length ? "v20.20.2" : null; } });
  assert.deepEqual(flagged.kind === "child" && flagged.args, RELAXED_NODE_FLAGS);
  assert.match(flagged.kind === "child" ? flagged.runtime : "", /node v20\.20\.2 .*Liftoff off/);
  assert.deepEqual(seen, [RELAXED_NODE_FLAGS], "this Node is only tried with the flags");
  const named = planRelaxed({ chooseBuild: () => "simd", node: "/opt/node24", probeChild: (n, a) => (n === "/opt/node24" && !a.length ? "v24.1.0" : null) });
  assert.deepEqual(named.kind === "child" && [named.node, named.args], ["/opt/node24", []], "a named Node 22+ runs unflagged");
  const none = planRelaxed({ chooseBuild: () => "simd", probeChild: () => null });
  assert.equal(none.kind, "skip");
  assert.match(none.kind === "skip" ? none.why : "", /does not validate relaxed SIMD/);
});

// Tiny models and signals: the shape of the section, not its figures.
const tiny = { audio: `${SAMPLES}/speech_noisy_snr0.wav`, rounds: 1, groups: 2,
  shapes: [{ label: "width 32", config: makeConfig(32) }, { label: "width 48", config: makeConfig(48) }] };

test("density section: a row per shape and density, ratios to RNNoise, and a skip line when no runtime runs relaxed SIMD", async () => {
  const r = await densitySection({ ...tiny, relaxedEnv: { chooseBuild: () => "simd", probeChild: () => null } });
  assert.deepEqual(r.rows.map((x) => `${x.width}/${x.density}`), [32, 48].flatMap((w) => DENSITIES.map((d) => `${w}/${d}`)));
  for (const x of r.rows) {
    assert.ok(Number.isFinite(x.plainUs) && Number.isFinite(x.plainRatio), `plain figures of ${x.width}/${x.density}`);
    assert.ok(Math.abs(x.plainRatio * r.rnnoiseUs.plain - x.plainUs) < 1e-6 * Math.abs(x.plainUs) + 1e-9, "ratio = ours / RNNoise of the same run");
    assert.equal(x.relaxedUs, null);
    assert.equal(x.relaxedRatio, null);
  }
  // Block-sparse files shrink with the density: the size column is the files'.
  const w32 = r.rows.filter((x) => x.width === 32).map((x) => x.mb);
  assert.ok(w32.every((v, i) => i === 0 || v < w32[i - 1]), `sizes ${w32}`);
  assert.equal(r.relaxed.how, "skip");
  const [title, head, rows, note] = densityTable(r);
  assert.match(title, /Cost against density/);
  assert.equal(rows.length, 10);
  assert.ok(rows.every((row) => row.length === head.length && row[head.indexOf("relaxed us")] === "-" && row[head.indexOf("plain / RNNoise")] !== "-"));
  assert.match(note, /relaxed: skipped \(.*does not validate relaxed SIMD/);
});

test("density section: the relaxed column from this runtime or its child process", { timeout: 120_000 }, async () => {
  const plan = planRelaxed();
  const r = await densitySection({ ...tiny, shapes: tiny.shapes.slice(0, 1), densities: [1, 0.3] });
  assert.equal(r.rows.length, 2);
  if (plan.kind === "skip") {
    assert.equal(r.relaxed.how, "skip");
    assert.match(densityTable(r)[3], /relaxed: skipped/);
    return;
  }
  assert.equal(r.relaxed.how, plan.kind);
  assert.ok(r.rnnoiseUs.relaxed !== null && Number.isFinite(r.rnnoiseUs.relaxed));
  for (const x of r.rows) {
    assert.ok(x.relaxedUs !== null && Number.isFinite(x.relaxedUs) && x.relaxedRatio !== null && Number.isFinite(x.relaxedRatio));
    assert.ok((x.relaxedMatrices ?? 0) > 0, "7-bit models run on the relaxed kernels");
  }
  assert.match(densityTable(r)[3], new RegExp(`Relaxed: ${plan.kind === "child" ? "child process" : "node"}`));
});
