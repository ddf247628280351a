// build/percepnet-relaxed.wasm against build/percepnet.wasm, for a runtime
// that runs relaxed SIMD. tests/relaxed.test.ts registers these in-process
// where this Node runs relaxed SIMD (22+), and otherwise runs this file as
// a script in a child process with the flags that enable it:
//
//   node --experimental-wasm-relaxed-simd --no-liftoff dist/tests/relaxed-checks.js
//
// (Node 20's baseline compiler, Liftoff, gets the relaxed dot product wrong:
// it must be off there.) tests/browser.test.ts runs the same comparison in
// headless Chromium. Not named *.test.js: `node --test dist/tests/` must
// not load it into a runtime without relaxed SIMD.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Engine } from "../host/engine.js";
import { parseModelFile, sparseCapable, tensorSpecs, type ModelConfig, type ParsedModel } from "../host/model-file.js";
import { relaxedSimdSupported } from "../host/wasm-select.js";
import { makeConfig, randomModelFile, to7BitFile } from "../lab/random-model.js";
import { checkI7Kernels } from "./relaxed-kernels.js";
import { ROOT, readSample } from "./util.js";

const RELAXED = "build/percepnet-relaxed.wasm", SIMD = "build/percepnet.wasm";
const RELAXED_TEST = "build/percepnet-relaxed-test.wasm", SIMD_TEST = "build/percepnet-test.wasm";

const modules = new Map<string, WebAssembly.Module>();
const compiled = (file: string) => {
  let m = modules.get(file);
  if (!m) modules.set(file, (m = new WebAssembly.Module(readFileSync(ROOT + file))));
  return m;
};

/** Matrices the int8 kernels run (all int8 matrices but fc_in.w): the relaxed build's count for a 7-bit model. */
export function kernelMatrices(c: ModelConfig): number {
  return tensorSpecs(c).filter((s) => s.dtype === "i8" && sparseCapable(s.name)).length;
}

/** Every output of `frames` frames of speech in network mode, and the engine's relaxed-matrix count. */
function frameLoop(file: string, model: ParsedModel, frames: number): { out: Float32Array; relaxed: number } {
  const e = new Engine(compiled(file));
  e.loadModel(model);
  e.configure({ mode: "network" });
  const x = readSample("speech_noisy_snr0.wav");
  const acc: number[] = [];
  for (let f = 0; f < frames; f++) {
    e.input.set(x.subarray(48000 + f * 480, 48000 + (f + 1) * 480));
    e.runFrame();
    acc.push(...e.output, ...e.gains, ...e.strengths, e.vad);
  }
  return { out: Float32Array.from(acc), relaxed: e.relaxedMatrices };
}

/** Index of the first differing float (bitwise), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer), ub = new Uint32Array(b.buffer);
  if (ua.length !== ub.length) return 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** The model `m` re-quantised to 7 bits (what `training.export --weight-bits 7` writes from floats). */
export function to7Bit(bytes: Uint8Array): ParsedModel {
  return parseModelFile(to7BitFile(parseModelFile(bytes)));
}

function assertSame(model: ParsedModel, frames: number, label: string): void {
  const plain = frameLoop(SIMD, model, frames), relaxed = frameLoop(RELAXED, model, frames);
  assert.equal(plain.relaxed, 0, `${label}: the plain build runs no relaxed kernel`);
  assert.equal(relaxed.relaxed, model.weightBits === 7 ? kernelMatrices(model.config) : 0, `${label}: relaxed matrices`);
  assert.ok(plain.out.some((v) => v !== 0) && plain.out.every(Number.isFinite), label);
  const d = firstDiff(plain.out, relaxed.out);
  assert.equal(d, -1, `${label}: relaxed differs from plain at float ${d}: ${relaxed.out[d]} vs ${plain.out[d]}`);
}

export function registerRelaxedChecks(): void {
  const where = `${process.version} ${process.execArgv.filter((a) => /wasm|liftoff/.test(a)).join(" ")}`.trim();

  test(`[${where}] this runtime validates relaxed SIMD`, () => {
    assert.ok(relaxedSimdSupported(), "WebAssembly.validate refuses the relaxed-SIMD probe: these checks would prove nothing");
  });

  test(`[${where}] the relaxed builds export what the plain builds do`, () => {
    const names = (f: string) => WebAssembly.Module.exports(compiled(f)).map((e) => `${e.name}:${e.kind}`).sort();
    assert.deepEqual(names(RELAXED), names(SIMD));
    assert.deepEqual(names(RELAXED_TEST), names(SIMD_TEST));
  });

  test(`[${where}] relaxed 7-bit kernels: exact integer sums (i32x4.relaxed_dot_i8x16_i7x16_add_s)`, () => {
    assert.ok(checkI7Kernels(new Engine(compiled(RELAXED_TEST)).hooks, "relaxed") > 0);
  });

  test(`[${where}] random 7-bit models, dense and block-sparse: relaxed build == plain build, bit for bit`, () => {
    const cases: [number, { gruLayers?: number; vad?: boolean }, number | undefined][] = [
      [32, {}, undefined], [48, { vad: false }, undefined], [40, { gruLayers: 2 }, 0.3], [64, {}, 0.5], [24, { gruLayers: 1 }, 1],
    ];
    cases.forEach(([width, opts, density], i) => {
      const m = parseModelFile(randomModelFile(makeConfig(width, opts), 40 + i, { weightBits: 7, density }));
      assert.equal(m.weightBits, 7);
      assertSame(m, 120, `random width ${width} ${JSON.stringify(opts)} density ${density}`);
    });
  });

  test(`[${where}] an 8-bit model on the relaxed build: plain kernels, same bits`, () => {
    const m = parseModelFile(randomModelFile(makeConfig(32), 9));
    assert.equal(m.weightBits, 8);
    assertSame(m, 80, "random 8-bit");
  });

  test(`[${where}] a model mixing 7-bit and 8-bit matrices: only the 7-bit ones on the relaxed kernels, same bits`, () => {
    const m = parseModelFile(randomModelFile(makeConfig(32), 12, { weightBits: 7, density: 0.5 }));
    // The engine decides per matrix from the weights it receives (the file's flag is the parser's business).
    (m.tensors.get("gru2.w_hh") as Int8Array)[3] = 100;
    (m.tensors.get("conv1.w") as Int8Array)[0] = -128;
    const plain = frameLoop(SIMD, m, 80), relaxed = frameLoop(RELAXED, m, 80);
    assert.equal(relaxed.relaxed, kernelMatrices(m.config) - 2);
    assert.equal(firstDiff(plain.out, relaxed.out), -1);
  });

  test(`[${where}] shipped models re-quantised to 7 bits: relaxed build == plain build, bit for bit`, () => {
    assertSame(to7Bit(readFileSync(`${ROOT}weights/small.pnm`)), 150, "small.pnm at 7 bits");
    assertSame(to7Bit(readFileSync(`${ROOT}weights/default.pnm`)), 40, "default.pnm at 7 bits");
  });

  test(`[${where}] the relaxed test build runs the relaxed build's frame loop bit for bit`, () => {
    const m = parseModelFile(randomModelFile(makeConfig(32), 5, { weightBits: 7 }));
    const a = frameLoop(RELAXED, m, 60), b = frameLoop(RELAXED_TEST, m, 60);
    assert.equal(firstDiff(a.out, b.out), -1);
    assert.equal(a.relaxed, b.relaxed);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) registerRelaxedChecks();
