/**
 * Inference-engine benchmark: kernel throughput (int8 SIMD, int8 scalar,
 * f32 SIMD) and the per-frame cost of the whole network at widths 256 and
 * 512 (the paper's ~8 M weights), single thread.
 *
 *   npm run build:wasm   (the test builds: build/percepnet-test.wasm, percepnet-scalar-test.wasm)
 *   npx tsc -p tsconfig.json && node dist/bench/nnet-bench.js [--quick]
 *
 * Times are the median (and best) of several repeats of a loop run entirely inside
 * wasm, so JS call overhead is excluded (it is < 1 us per frame anyway).
 */
import { performance } from "node:perf_hooks";
import { compileWasm } from "../host/wasm.js";
import { Engine, type TestHookExports } from "../host/engine.js";
import { NetworkRunner } from "../lab/network-runner.js";
import { parseModelFile, weightCount } from "../host/model-file.js";
import { makeConfig, randomFeatures, randomModelFile, rng } from "../lab/random-model.js";

type KernelExports = TestHookExports;

const quick = process.argv.includes("--quick");
const REPEATS = quick ? 3 : 7;

/**
 * Seconds of fn() over REPEATS runs after a warm-up: the median, and the best
 * run (on a shared machine the best is the least disturbed one).
 */
function timeIt(fn: () => void): { med: number; best: number } {
  fn();
  const t: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const a = performance.now();
    fn();
    t.push((performance.now() - a) / 1000);
  }
  t.sort((x, y) => x - y);
  return { med: t[Math.floor(t.length / 2)], best: t[0] };
}

function kernelI8(ex: KernelExports, rows: number, cols: number): number {
  const rand = rng(1);
  const src = ex.nnetAlloc(rows * cols), w = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
  new Int8Array(ex.memory.buffer, src, rows * cols).set(Int8Array.from({ length: rows * cols }, () => Math.floor(rand() * 255) - 127));
  ex.nnetPackI8(w, src, rows, cols);
  const x = ex.nnetAlloc(cols * 2 + 64), out = ex.nnetAlloc(rows * 4 + 16);
  const scale = ex.nnetAlloc(rows * 4 + 16), bias = ex.nnetAlloc(rows * 4 + 16);
  new Float32Array(ex.memory.buffer, scale, rows).fill(1 / 127);
  new Int16Array(ex.memory.buffer, x, cols).set(Int16Array.from({ length: cols }, () => Math.floor(rand() * 255) - 127));
  const reps = Math.max(1, Math.round((quick ? 2e8 : 6e8) / (rows * cols)));
  const s = timeIt(() => ex.nnetMatvecI8Repeat(out, w, scale, bias, rows, cols, x, reps));
  return (rows * cols * reps) / s.med;
}

function kernelF32(ex: KernelExports, rows: number, cols: number): number {
  const w = ex.nnetAlloc(rows * cols * 4), x = ex.nnetAlloc(cols * 4), b = ex.nnetAlloc(rows * 4), out = ex.nnetAlloc(rows * 4);
  const rand = rng(2);
  new Float32Array(ex.memory.buffer, w, rows * cols).set(Float32Array.from({ length: rows * cols }, () => rand() - 0.5));
  new Float32Array(ex.memory.buffer, x, cols).set(Float32Array.from({ length: cols }, () => rand() - 0.5));
  const reps = Math.max(1, Math.round((quick ? 1e8 : 3e8) / (rows * cols)));
  const s = timeIt(() => ex.nnetMatvecF32Repeat(out, w, b, rows, cols, x, reps));
  return (rows * cols * reps) / s.med;
}

function frameCost(mod: WebAssembly.Module, width: number): { us: number; best: number; weights: number } {
  const c = makeConfig(width);
  const net = new NetworkRunner(new Engine(mod), parseModelFile(randomModelFile(c, 1)));
  for (const f of randomFeatures(50, 70, 3)) net.step(f);
  const frames = quick ? 100 : 300;
  const s = timeIt(() => (net.exports as TestHookExports).modelRunRepeat(frames));
  return { us: (s.med / frames) * 1e6, best: (s.best / frames) * 1e6, weights: weightCount(c) };
}

async function main(): Promise<void> {
  const root = new URL("../../build/", import.meta.url);
  // the test builds: the kernels (nnet*) and modelRunRepeat are test hooks
  const simd = await compileWasm(new URL("percepnet-test.wasm", root));
  const scalar = await compileWasm(new URL("percepnet-scalar-test.wasm", root));
  const exS = new Engine(simd).hooks;
  const exC = new Engine(scalar).hooks;
  const G = (v: number) => (v / 1e9).toFixed(2).padStart(7);
  console.log(`node ${process.version}, ${process.arch}; median of ${REPEATS} runs (kernels: median)\n`);
  console.log("kernel throughput (multiply-adds per second, 1 thread)");
  console.log("matrix          int8 SIMD   int8 scalar   f32 SIMD   [GMAC/s]");
  for (const [rows, cols] of [[384, 512], [1536, 512], [1536, 1024]]) {
    const a = kernelI8(exS, rows, cols), b = kernelI8(exC, rows, cols), f = kernelF32(exS, rows, cols);
    console.log(`${`${rows}x${cols}`.padEnd(14)} ${G(a)}     ${G(b)}      ${G(f)}`);
  }
  console.log("\nfull network per 10 ms frame (SIMD build; scalar build for comparison)");
  console.log("width  weights    SIMD us   % core  (best us  % core)   scalar us   % core");
  for (const width of [256, 512]) {
    const a = frameCost(simd, width);
    const b = frameCost(scalar, width);
    const pct = (us: number) => ((us / 10000) * 100).toFixed(2).padStart(6);
    console.log(`${String(width).padEnd(6)} ${(a.weights / 1e6).toFixed(2).padStart(5)} M  ${a.us.toFixed(0).padStart(8)}  ${pct(a.us)}  (${a.best.toFixed(0).padStart(7)}  ${pct(a.best)})   ${b.us.toFixed(0).padStart(9)}  ${pct(b.us)}`);
  }
}

await main();
