// host/engine.ts: the one typed wrapper over a percepnet.wasm instance, and
// the helpers built on it leaving a caller's Denoiser alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ALGORITHMIC_DELAY, Denoiser, FRAME_SIZE, NB_BANDS, NB_FEATURES } from "../host/denoiser.js";
import { Engine, HOST_ABI_VERSION } from "../host/engine.js";
import { dumpFeatures, enhanceOracle } from "../host/offline.js";
import { parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { readSample, wasmModule } from "./util.js";

const noisy = readSample("speech_noisy_snr0.wav").subarray(0, 24000);
const clean = noisy.map((v) => 0.5 * v);

test("dumpFeatures given a Denoiser leaves it as it was: its later output equals a fresh one's, bit for bit", async () => {
  const module = await wasmModule();
  const model = parseModelFile(randomModelFile(makeConfig(32), 13));
  const used = new Denoiser(module, { model });
  used.process(noisy.subarray(0, 4800));
  used.reset();
  await dumpFeatures(clean, noisy, used);
  const fresh = new Denoiser(module, { model });
  assert.deepEqual(used.process(noisy), fresh.process(noisy));
});

test("enhanceOracle and dumpFeatures leave a Denoiser created beside them untouched", async () => {
  const module = await wasmModule();
  const d = new Denoiser(module, { mode: "unity" });
  const first = d.process(noisy);
  d.reset();
  await enhanceOracle(clean, noisy);
  await dumpFeatures(clean, noisy);
  assert.deepEqual(d.process(noisy), first);
});

/** A module exporting only immutable i32 globals (values 0..63: one LEB128 byte), hand-assembled. */
function fakeModule(globals: Record<string, number> = {}): WebAssembly.Module {
  const head = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const names = Object.keys(globals);
  if (names.length === 0) return new WebAssembly.Module(new Uint8Array(head));
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const g = [names.length, ...names.flatMap((n) => [0x7f, 0x00, 0x41, globals[n], 0x0b])];
  const e = [names.length, ...names.flatMap((n, i) => [n.length, ...[...n].map((c) => c.charCodeAt(0)), 0x03, i])];
  return new WebAssembly.Module(new Uint8Array([...head, ...section(0x06, g), ...section(0x07, e)]));
}

test("the ABI version is checked at instantiation, naming both versions", async () => {
  assert.throws(() => new Engine(fakeModule({ ABI_VERSION: 1 })), /percepnet\.wasm has ABI version 1 but this host expects version 4/);
  assert.throws(() => new Engine(fakeModule()), /exports no ABI_VERSION.*ABI 4/);
  assert.throws(() => new Denoiser(fakeModule({ ABI_VERSION: 7 }), { model: null }), /ABI version 7 but this host expects version 4/);
  // Same ABI number, other constants: refused too (the host sizes buffers with its own).
  assert.throws(() => new Engine(fakeModule({ ABI_VERSION: 4, FRAME_SIZE: 40 })), /has FRAME_SIZE 40 but this host expects 480/);
  assert.equal(HOST_ABI_VERSION, 4);
  const e = new Engine(await wasmModule());
  // Constants read from the module agree with the host's published ones.
  assert.deepEqual([e.frameSize, e.bands, e.features, e.delay], [FRAME_SIZE, NB_BANDS, NB_FEATURES, ALGORITHMIC_DELAY]);
});

test("Engine.reset() restores the configured mode even after the raw configure export was called behind its back", async () => {
  const module = await wasmModule();
  const run = (e: Engine) => {
    const y = new Float32Array(noisy.length);
    for (let t = 0; t + 480 <= noisy.length; t += 480) { e.input.set(noisy.subarray(t, t + 480)); e.runFrame(); y.set(e.output, t); }
    return y;
  };
  const fresh = new Engine(module);
  fresh.configure({ comb: false, minGain: 0.1 });
  const e = new Engine(module);
  e.configure({ comb: false, minGain: 0.1 });
  e.exports.configure(2, 1, 1, 0, 1);
  e.exports.configureLevel(1, -30, -10);
  run(e);
  e.reset();
  assert.deepEqual(e.config, { mode: "unity", comb: false, postfilter: true, minGain: 0.1, levelNormalize: false });
  assert.deepEqual(run(e), run(fresh));
  assert.throws(() => e.configure({ mode: "network" }), /needs a model/);
  assert.throws(() => e.configure({ mode: "loud" as any }), /unknown mode loud/);
});
