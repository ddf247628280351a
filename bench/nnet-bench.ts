/**
 * Inference-engine benchmark: kernel throughput (int8 SIMD, int8 scalar,
 * f32 SIMD), the per-frame cost of the whole network at widths 256 and
 * 512 (the paper's ~8 M weights), single thread, and the block-sparse
 * section: the sparse kernel on a 1536 x 512 GRU matrix and one network
 * step at widths 512 and 192 against the density of the GRU and conv
 * matrices, each against the dense kernel / dense model in the same run.
 *
 *   npm run build:wasm   (the test builds: build/percepnet-test.wasm, percepnet-scalar-test.wasm, percepnet-relaxed-test.wasm)
 *   npx tsc -p tsconfig.json && node dist/bench/nnet-bench.js [--quick] [--sparse-only] [--relaxed-only]
 *
 * The relaxed-SIMD section (7-bit kernels on relaxed SIMD's int8 dot product
 * against the plain int8 kernel, shipped models at 8 and 7 bits) needs a
 * runtime with relaxed SIMD: Node 22+, or Node 20 with
 * `--experimental-wasm-relaxed-simd --no-liftoff`.
 *
 * Times are the median (and best) of several repeats of a loop run entirely inside
 * wasm, so JS call overhead is excluded (it is < 1 us per frame anyway).
 */
import { performance } from "node:perf_hooks";
import { compileWasm } from "../host/wasm.js";
import { Engine, type TestHookExports } from "../host/engine.js";
import { NetworkRunner } from "../lab/network-runner.js";
import { readFileSync } from "node:fs";
import { parseModelFile, toBlocks, weightCount, type ParsedModel } from "../host/model-file.js";
import { relaxedSimdSupported } from "../host/wasm-select.js";
import { makeConfig, randomFeatures, randomModelFile, rng, to7BitFile } from "../lab/random-model.js";

type KernelExports = TestHookExports;

const quick = process.argv.includes("--quick");
const sparseOnly = process.argv.includes("--sparse-only");
const relaxedOnly = process.argv.includes("--relaxed-only");
const DENSITIES = [1.0, 0.5, 0.3, 0.2, 0.1];
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

/**
 * Median seconds of each fn over REPEATS rounds, the fns taking turns within
 * a round, so that a load change on a shared machine hits all of them alike.
 */
function timeRounds(fns: (() => void)[]): number[] {
  for (const f of fns) f();
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < REPEATS; i++) {
    fns.forEach((f, k) => {
      const a = performance.now();
      f();
      t[k].push((performance.now() - a) / 1000);
    });
  }
  return t.map((v) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)]);
}

/** Dense vs block-sparse kernel on one rows x cols matrix at each density: microseconds per product. */
function sparseKernel(ex: KernelExports, rows: number, cols: number): { dense: number; sparse: number[] } {
  const rand = rng(4);
  const x = ex.nnetAlloc(cols * 2 + 64), out = ex.nnetAlloc(rows * 4 + 16);
  new Int16Array(ex.memory.buffer, x, cols).set(Int16Array.from({ length: cols }, () => Math.floor(rand() * 255) - 127));
  const full = Int8Array.from({ length: rows * cols }, () => (Math.floor(rand() * 254) - 127) || 1);
  const src = ex.nnetAlloc(rows * cols), wd = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
  new Int8Array(ex.memory.buffer, src, rows * cols).set(full);
  ex.nnetPackI8(wd, src, rows, cols);
  const reps = Math.max(1, Math.round((quick ? 5e7 : 2e8) / (rows * cols)));
  const fns = [() => ex.nnetMatvecI8Repeat(out, wd, 0, 0, rows, cols, x, reps)];
  for (const d of DENSITIES) {
    const q = full.slice();
    for (let r0 = 0; r0 < rows; r0 += 4) for (let c0 = 0; c0 < cols; c0 += 16) {
      if (rand() < d) continue;
      for (let r = r0; r < r0 + 4; r++) q.fill(0, r * cols + c0, r * cols + c0 + 16);
    }
    const { index, w } = toBlocks(q, rows, cols);
    const nbr = rows / 4, nb = index.length - nbr;
    const counts = ex.nnetAlloc(nbr * 4), offs = ex.nnetAlloc(nb * 4 + 16), wp = ex.nnetAlloc(w.length + 16);
    let at = 0, k = 0;
    const cv = new Int32Array(ex.memory.buffer, counts, nbr), ov = new Int32Array(ex.memory.buffer, offs, nb);
    for (let b = 0; b < nbr; b++) { cv[b] = index[at++]; for (let j = 0; j < cv[b]; j++) ov[k++] = index[at++] * 32; }
    new Int8Array(ex.memory.buffer, wp, w.length).set(w);
    fns.push(() => ex.nnetMatvecSparseI8Repeat(out, wp, counts, offs, 0, 0, rows, x, reps));
  }
  const t = timeRounds(fns).map((v) => (v / reps) * 1e6);
  return { dense: t[0], sparse: t.slice(1) };
}

/** One network step (modelRun) of the dense model and of block-sparse models at each density, microseconds. */
function sparseFrameCost(mod: WebAssembly.Module, width: number): { dense: number; sparse: number[] } {
  const c = makeConfig(width);
  const files = [randomModelFile(c, 1), ...DENSITIES.map((d) => randomModelFile(c, 1, { density: d }))];
  const frames = quick ? 50 : 200;
  const nets = files.map((f) => {
    const net = new NetworkRunner(new Engine(mod), parseModelFile(f));
    for (const x of randomFeatures(20, 70, 3)) net.step(x);
    return net;
  });
  const t = timeRounds(nets.map((n) => () => (n.exports as TestHookExports).modelRunRepeat(frames))).map((v) => (v / frames) * 1e6);
  return { dense: t[0], sparse: t.slice(1) };
}

function sparseSection(simd: WebAssembly.Module, exS: KernelExports): void {
  const us = (v: number) => v.toFixed(1).padStart(8);
  const ratio = (v: number, ref: number) => (v / ref).toFixed(2).padStart(6);
  console.log(`\nblock-sparse int8 (4 x 16 blocks), SIMD build; medians of ${REPEATS} interleaved rounds; ratio = sparse / dense`);
  console.log("kernel 1536x512 (a width-512 GRU matrix), us per product");
  const k = sparseKernel(exS, 1536, 512);
  console.log(`  dense kernel ${us(k.dense)}`);
  DENSITIES.forEach((d, i) => console.log(`  density ${d.toFixed(1)}  ${us(k.sparse[i])}  ratio ${ratio(k.sparse[i], k.dense)}`));
  for (const width of [512, 192]) {
    console.log(`network step, width ${width} (makeConfig(${width}); GRU and conv matrices sparse), us per step`);
    const f = sparseFrameCost(simd, width);
    console.log(`  dense model  ${us(f.dense)}`);
    DENSITIES.forEach((d, i) => console.log(`  density ${d.toFixed(1)}  ${us(f.sparse[i])}  ratio ${ratio(f.sparse[i], f.dense)}`));
  }
}

/** Plain int8 kernel (test build) vs the 7-bit relaxed kernel with its input prep (relaxed test build), GMAC/s, interleaved. */
function relaxedKernels(exS: KernelExports, exR: KernelExports, rows: number, cols: number): [number, number] {
  const rand = rng(5);
  const w = Int8Array.from({ length: rows * cols }, () => Math.floor(rand() * 127) - 63);
  const x = Int16Array.from({ length: cols }, () => Math.floor(rand() * 255) - 127);
  const reps = Math.max(1, Math.round((quick ? 2e8 : 6e8) / (rows * cols)));
  const setup = (ex: KernelExports, relaxed: boolean) => {
    const src = ex.nnetAlloc(rows * cols), wp = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
    new Int8Array(ex.memory.buffer, src, rows * cols).set(w);
    if (relaxed) ex.nnetPackI7(wp, src, rows, cols); else ex.nnetPackI8(wp, src, rows, cols);
    const xp = ex.nnetAlloc(cols * 2 + 64), x8 = ex.nnetAlloc(cols + 32), out = ex.nnetAlloc(rows * 4 + 16);
    new Int16Array(ex.memory.buffer, xp, cols).set(x);
    return relaxed ? () => ex.nnetMatvecI7Repeat(out, wp, 0, 0, rows, cols, xp, x8, reps) : () => ex.nnetMatvecI8Repeat(out, wp, 0, 0, rows, cols, xp, reps);
  };
  const t = timeRounds([setup(exS, false), setup(exR, true)]);
  return [rows * cols * reps / t[0], rows * cols * reps / t[1]];
}

/** us per network step of each (module, model) pair, interleaved rounds. */
function stepCosts(pairs: [WebAssembly.Module, ParsedModel][]): number[] {
  const frames = quick ? 50 : 200;
  const nets = pairs.map(([mod, m]) => {
    const net = new NetworkRunner(new Engine(mod), m);
    for (const x of randomFeatures(20, 70, 3)) net.step(x);
    return net;
  });
  return timeRounds(nets.map((n) => () => (n.exports as TestHookExports).modelRunRepeat(frames))).map((v) => (v / frames) * 1e6);
}

function relaxedSection(simd: WebAssembly.Module, exS: KernelExports): void {
  console.log(`\nrelaxed SIMD (build/percepnet-relaxed-test.wasm: 7-bit weights on i32x4.relaxed_dot_i8x16_i7x16_add_s); medians of ${REPEATS} interleaved rounds`);
  if (!relaxedSimdSupported()) {
    console.log(`  skipped: node ${process.version} has no relaxed SIMD here (use Node 22+, or node --experimental-wasm-relaxed-simd --no-liftoff)`);
    return;
  }
  const relaxed = new WebAssembly.Module(readFileSync(new URL("../../build/percepnet-relaxed-test.wasm", import.meta.url)));
  const exR = new Engine(relaxed).hooks;
  const G = (v: number) => (v / 1e9).toFixed(2).padStart(7);
  console.log("kernel           int8 SIMD  7-bit relaxed  ratio  [GMAC/s; relaxed includes its per-product int16 -> int8 input copy]");
  for (const [rows, cols] of [[384, 512], [1536, 512], [1536, 1024]]) {
    const [a, b] = relaxedKernels(exS, exR, rows, cols);
    console.log(`${`${rows}x${cols}`.padEnd(14)} ${G(a)}      ${G(b)}    ${(b / a).toFixed(2).padStart(5)}`);
  }
  const us = (v: number) => v.toFixed(1).padStart(8);
  console.log("network step, us: 8-bit model on plain SIMD | 7-bit model on plain SIMD | 7-bit model on relaxed SIMD (ratio relaxed / plain, same 7-bit model)");
  for (const name of ["default", "small"]) {
    const m8 = parseModelFile(readFileSync(new URL(`../../weights/${name}.pnm`, import.meta.url))), m7 = parseModelFile(to7BitFile(m8));
    const [a, b, c] = stepCosts([[simd, m8], [simd, m7], [relaxed, m7]]);
    console.log(`  ${`${name}.pnm`.padEnd(12)} ${us(a)} ${us(b)} ${us(c)}   ratio ${(c / b).toFixed(2)}`);
  }
  console.log("block-sparse 7-bit models, width 512 (GRU and conv matrices sparse), us per step: plain SIMD | relaxed SIMD");
  const c = makeConfig(512);
  for (const d of DENSITIES) {
    const m = parseModelFile(randomModelFile(c, 1, { density: d, weightBits: 7 }));
    const [a, b] = stepCosts([[simd, m], [relaxed, m]]);
    console.log(`  density ${d.toFixed(1)} ${us(a)} ${us(b)}   ratio ${(b / a).toFixed(2)}`);
  }
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
  if (sparseOnly) { sparseSection(simd, exS); return; }
  if (relaxedOnly) { relaxedSection(simd, exS); return; }
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
  sparseSection(simd, exS);
  relaxedSection(simd, exS);
}

await main();
