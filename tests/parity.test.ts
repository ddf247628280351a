// Parity between the trainer (PyTorch, float) and the engine (wasm, int8):
// the committed float checkpoint and the shipped int8 model, run on the same
// features (dumped by the wasm signal path from a real recording), must give
// the same gains and strengths within the int8 quantisation error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpFeatures } from "../host/offline.js";
import { PnfWriter } from "../lab/pnf.js";
import { parseModelFile } from "../host/model-file.js";
import { NetworkRunner } from "../lab/network-runner.js";
import { ROOT, readSample, wasmEngine } from "./util.js";

const PY = process.env.PYTHON ?? "python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
// CI sets this so that a missing torch fails there instead of skipping (as in scripts/run-py-tests.mjs).
const requireTorch = process.env.PERCEPNET_REQUIRE_TORCH === "1";

const skip = !hasTorch && !requireTorch ? `${PY} has no torch (set PYTHON to one that has; .ci/run installs it)` : false;

// Both shipped models: the default (width 512) and the small one (width 192).
for (const name of ["default", "small"]) {
  const CKPT = join(ROOT, `training/checkpoints/${name}.pt`);
  const MODEL = join(ROOT, `weights/${name}.pnm`);
  test(`shipped int8 model ${name}.pnm matches its float checkpoint on real features`, { skip }, async () => {
    assert.ok(hasTorch, `${PY} has no torch, and PERCEPNET_REQUIRE_TORCH=1 requires this test to run`);
    assert.ok(existsSync(CKPT) && existsSync(MODEL), `training/checkpoints/${name}.pt and weights/${name}.pnm must both be committed`);
    await checkParity(name, CKPT, MODEL);
  });
}

// The trainer's block-sparse path end to end: the small checkpoint pruned
// (training.percepnet.prune, one shot, half the 4x16 blocks of every GRU and
// conv matrix), exported by training.export as format v2, run by the
// engine's sparse kernels against the pruned float checkpoint.
test("pruned small model exported as format v2 matches its pruned float checkpoint", { skip }, async () => {
  assert.ok(hasTorch, `${PY} has no torch, and PERCEPNET_REQUIRE_TORCH=1 requires this test to run`);
  const dir = mkdtempSync(join(tmpdir(), "parity-sparse-"));
  const ckpt = join(dir, "pruned.pt"), model = join(dir, "pruned.pnm");
  for (const args of [
    ["-m", "training.percepnet.prune", join(ROOT, "training/checkpoints/small.pt"), "-o", ckpt, "--density", "gru=0.5,conv=0.5"],
    ["-m", "training.export", ckpt, "-o", model],
  ]) {
    const r = spawnSync(PY, args, { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }
  const m = parseModelFile(readFileSync(model));
  assert.equal(m.version, 2);
  const sparse = [...m.tensors.keys()].filter((n) => n.endsWith(".blocks"));
  assert.equal(sparse.length, 12, `sparse matrices: ${sparse.join(", ")}`);
  await checkParity("small pruned", ckpt, model);
});

// 7-bit weights (training.export --weight-bits 7, docs/FORMATS.md weightBits),
// as the relaxed-SIMD build runs them (tests/relaxed-checks.ts: the same bits
// as the plain build that runs here), held to the same bounds as 8 bits.
for (const name of ["small", "default"]) {
  test(`${name} checkpoint exported with --weight-bits 7 matches its float checkpoint within the 8-bit bounds`, { skip }, async () => {
    assert.ok(hasTorch, `${PY} has no torch, and PERCEPNET_REQUIRE_TORCH=1 requires this test to run`);
    const dir = mkdtempSync(join(tmpdir(), "parity-w7-"));
    const ckpt = join(ROOT, `training/checkpoints/${name}.pt`), model = join(dir, `${name}-w7.pnm`);
    const r = spawnSync(PY, ["-m", "training.export", ckpt, "-o", model, "--weight-bits", "7"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(parseModelFile(readFileSync(model)).weightBits, 7);
    await checkParity(`${name} 7-bit`, ckpt, model);
  });
}

// A model that takes the noise floor (nFeatures 104): the trainer computes
// the floor from the 70 dumped features (training/percepnet/noise_floor.py),
// the engine in its frame loop (assembly/noise-floor.ts). The small
// checkpoint gets the 34 inputs (training.widen --noise-floor) with random,
// not zero, weights, so that a floor computed differently shows.
test("small model with noise-floor inputs: trainer and engine agree on the floor and the outputs", { skip }, async () => {
  assert.ok(hasTorch, `${PY} has no torch, and PERCEPNET_REQUIRE_TORCH=1 requires this test to run`);
  const dir = mkdtempSync(join(tmpdir(), "parity-nf-"));
  const ckpt = join(dir, "nf.pt"), model = join(dir, "nf.pnm");
  const perturb = `import torch; c = torch.load("${ckpt}", weights_only=False); g = torch.Generator().manual_seed(1)
w = c["model"]["fc_in.weight"]; w[:, 70:] = 0.3 * torch.randn(w.shape[0], 34, generator=g); torch.save(c, "${ckpt}")`;
  for (const args of [
    ["-m", "training.widen", join(ROOT, "training/checkpoints/small.pt"), "-o", ckpt, "--noise-floor"],
    ["-c", perturb],
    ["-m", "training.export", ckpt, "-o", model],
  ]) {
    const r = spawnSync(PY, args, { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  }
  assert.equal(parseModelFile(readFileSync(model)).config.nFeatures, 104);
  await checkParity("small + noise floor", ckpt, model);
});

async function checkParity(name: string, CKPT: string, MODEL: string): Promise<void> {
  {
    const clean = readSample("speech_clean_freesound_33711.wav"), noisy = readSample("speech_noisy_snr0.wav");
    const d = await dumpFeatures(clean, noisy);
    const frames = Math.min(d.frames, 1000);
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const pnf = join(dir, "f.pnf"), out = join(dir, "out.bin");
    const w = await PnfWriter.create(pnf, 1, frames);
    await w.add(d, 34, 0);
    await w.close();
    const r = spawnSync(PY, ["-m", "training.infer", CKPT, pnf, "-o", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const ref = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
    assert.equal(ref.length, frames * 69);

    const model = parseModelFile(readFileSync(MODEL));
    const net = new NetworkRunner(await wasmEngine(), model);
    const floor = model.config.nFeatures === 104 ? await engineNoiseFloor(noisy, frames) : null;
    const errG = new Float64Array(frames * 34), errR = new Float64Array(frames * 34);
    let maxV = 0;
    for (let t = 0; t < frames; t++) {
      const f = d.features.subarray(t * 70, t * 70 + 70);
      const y = net.step(floor ? Float32Array.from([...f, ...floor[t]]) : f);
      for (let b = 0; b < 34; b++) {
        errG[t * 34 + b] = Math.abs(y.gains[b] - ref[t * 69 + b]);
        errR[t * 34 + b] = Math.abs(y.strengths[b] - ref[t * 69 + 34 + b]);
      }
      maxV = Math.max(maxV, Math.abs(y.vad - ref[t * 69 + 68]));
    }
    errG.sort(); errR.sort();
    const mean = (e: Float64Array) => e.reduce((a, x) => a + x, 0) / e.length;
    const p99 = (e: Float64Array) => e[Math.floor(0.99 * (e.length - 1))];
    const meanG = mean(errG), meanR = mean(errR), maxG = errG[errG.length - 1], maxR = errR[errR.length - 1];
    // int8 weights (per-row scale: relative error <= 1/254 per weight) and
    // activations rounded to 1/127 perturb each pre-activation by well under 1 %,
    // and the recurrence can accumulate it: a sigmoid output moves by at most
    // 0.25 x that perturbation, so mean errors stay below 0.01; single frames
    // near a decision edge may move more, and the VAD (one logit at the end of
    // the recurrent trunk) most of all. So: the mean and the 99th percentile
    // (all but 1 % of the 34,000 cells) are held tight; the single worst cell
    // only has to stay well inside [0, 1] (a model exported wrongly, or a
    // broken int8 kernel, moves the mean and the percentile by far more).
    // Those bounds were set for width 192. Each pre-activation sums fan-in
    // products whose rounding errors are independent, so its error grows as
    // sqrt(fan-in): a wider model gets bounds scaled by sqrt(width / 192)
    // (measured: width 192 mean 0.0063, p99 0.030; width 512 mean 0.0110,
    // p99 0.055, i.e. 1.75x and 1.8x for a predicted 1.63x).
    const k = Math.max(1, Math.sqrt(model.config.gru / 192));
    console.log(`parity (${name}, width ${model.config.gru}, bounds x${k.toFixed(2)}): mean gain diff ${meanG.toFixed(5)}, strength ${meanR.toFixed(5)}; 99th percentile ${p99(errG).toFixed(4)} ${p99(errR).toFixed(4)}; max ${maxG.toFixed(4)} ${maxR.toFixed(4)} vad ${maxV.toFixed(4)}`);
    assert.ok(meanG < 0.01 * k && meanR < 0.01 * k, `mean |gain diff| ${meanG.toFixed(4)}, mean |strength diff| ${meanR.toFixed(4)}`);
    assert.ok(p99(errG) < 0.04 * k && p99(errR) < 0.04 * k, `99th percentile diffs: gain ${p99(errG).toFixed(3)}, strength ${p99(errR).toFixed(3)}`);
    assert.ok(maxG < 0.2 && maxR < 0.2 && maxV < 0.15, `max diffs: gain ${maxG.toFixed(3)}, strength ${maxR.toFixed(3)}, vad ${maxV.toFixed(3)}`);
  }
}

/** The engine's own noise floor per frame of `noisy` (the frame loop's, as a denoiser computes it). */
async function engineNoiseFloor(noisy: Float32Array, frames: number): Promise<Float32Array[]> {
  const eng = await wasmEngine();
  eng.configure({ mode: "unity" });
  const out: Float32Array[] = [];
  for (let t = 0; t < frames; t++) {
    eng.input.set(noisy.subarray(t * 480, (t + 1) * 480));
    eng.runFrame();
    out.push(eng.noiseFloor.slice());
  }
  return out;
}
