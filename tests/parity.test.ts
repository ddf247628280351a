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
import { PnfWriter } from "../host/pnf.js";
import { parseModelFile } from "../host/model-file.js";
import { NetworkRunner } from "../host/model.js";
import { ROOT, readSample, wasmInstance } from "./util.js";

const CKPT = join(ROOT, "training/checkpoints/default.pt");
const MODEL = join(ROOT, "weights/default.pnm");
const PY = process.env.PYTHON ?? "python3";
const hasTorch = spawnSync(PY, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

test("shipped int8 model matches its float checkpoint on real features", { skip: !hasTorch ? "python3 with torch not installed (.ci/run installs it)" : false }, async () => {
  assert.ok(existsSync(CKPT) && existsSync(MODEL), "training/checkpoints/default.pt and weights/default.pnm must both be committed");
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

  const net = new NetworkRunner((await wasmInstance()) as any, parseModelFile(readFileSync(MODEL)));
  let maxG = 0, maxR = 0, sumG = 0, sumR = 0, maxV = 0;
  for (let t = 0; t < frames; t++) {
    const y = net.step(d.features.subarray(t * 70, t * 70 + 70));
    for (let b = 0; b < 34; b++) {
      const eg = Math.abs(y.gains[b] - ref[t * 69 + b]), er = Math.abs(y.strengths[b] - ref[t * 69 + 34 + b]);
      maxG = Math.max(maxG, eg); maxR = Math.max(maxR, er); sumG += eg; sumR += er;
    }
    maxV = Math.max(maxV, Math.abs(y.vad - ref[t * 69 + 68]));
  }
  const meanG = sumG / (frames * 34), meanR = sumR / (frames * 34);
  // int8 weights (per-row scale: relative error <= 1/254 per weight) and
  // activations rounded to 1/127 perturb each pre-activation by well under 1 %,
  // and the recurrence can accumulate it: a sigmoid output moves by at most
  // 0.25 x that perturbation, so mean errors stay below 0.01; single frames
  // near a decision edge may move more, and the VAD (one logit at the end of
  // the recurrent trunk) most of all.
  console.log(`parity: mean gain diff ${meanG.toFixed(5)}, strength ${meanR.toFixed(5)}; max ${maxG.toFixed(4)} ${maxR.toFixed(4)} vad ${maxV.toFixed(4)}`);
  assert.ok(meanG < 0.01 && meanR < 0.01, `mean |gain diff| ${meanG.toFixed(4)}, mean |strength diff| ${meanR.toFixed(4)}`);
  assert.ok(maxG < 0.1 && maxR < 0.1 && maxV < 0.15, `max diffs: gain ${maxG.toFixed(3)}, strength ${maxR.toFixed(3)}, vad ${maxV.toFixed(3)}`);
});
