/**
 * Random-weight PercepNet models of any width, for tests and benchmarks.
 *
 *   node dist/lab/random-model.js OUT.pnm [--width 512] [--dense 128] [--gru-r 128] [--layers 3] [--seed 1] [--density 0.3]
 *
 * `--density` (< 1) prunes random 4 x 16 blocks of the GRU and conv matrices
 * and writes them block-sparse (format v2); the other layers stay dense.
 * `--width` sets conv1, conv2 and gru. Weights are uniform with variance
 * 1/fan_in (pre-activations of order 1, so tanh/sigmoid are exercised over
 * their whole range), biases uniform in +-0.1.
 */
import {
  DEFAULT_CONFIG, SPARSE_COLS, SPARSE_ROWS, dequantize, layerSpecs, writeModelFile, type FloatTensors, type ModelConfig,
  type ParsedModel,
} from "../host/model-file.js";
import { mulberry32 as rng } from "./dataset/rng.js";
/** Seeded uniform PRNG (mulberry32). */
export { rng };

/** DEFAULT_CONFIG with conv1, conv2 and gru set to `width` (the one knob the trainer's --width turns). */
export function makeConfig(width: number, opts: { dense?: number; gruR?: number; gruLayers?: number; vad?: boolean } = {}): ModelConfig {
  const d = DEFAULT_CONFIG;
  return {
    nFeatures: d.nFeatures, nBands: d.nBands, lookahead: d.lookahead, dense: opts.dense ?? d.dense,
    conv1: { k: d.conv1.k, out: width }, conv2: { k: d.conv2.k, out: width },
    gru: width, gruLayers: opts.gruLayers ?? d.gruLayers, gruR: opts.gruR ?? d.gruR, vad: opts.vad ?? d.vad,
  };
}

/**
 * The file of `m` re-quantised to 7-bit weights (what `training.export
 * --weight-bits 7` writes from the floats, here from the dequantised ones),
 * for running a trained model on the relaxed-SIMD kernels in tests and benches.
 */
export function to7BitFile(m: ParsedModel): Uint8Array {
  return writeModelFile(m.config, dequantize(m), m.meta, { weightBits: 7 });
}

/** Random float tensors for a configuration. */
export function randomFloatTensors(c: ModelConfig, seed = 1): FloatTensors {
  const rand = rng(seed);
  const mat = (rows: number, cols: number) => {
    const a = Math.sqrt(3 / cols);
    return Float32Array.from({ length: rows * cols }, () => (2 * rand() - 1) * a);
  };
  const vec = (n: number) => Float32Array.from({ length: n }, () => (2 * rand() - 1) * 0.1);
  const out: FloatTensors = {};
  for (const l of layerSpecs(c)) {
    if (!l.present) continue;
    if (l.kind === "dense") {
      out[`${l.name}.w`] = mat(l.out, l.in);
      out[`${l.name}.b`] = vec(l.out);
    } else {
      out[`${l.name}.w_ih`] = mat(3 * l.out, l.in);
      out[`${l.name}.w_hh`] = mat(3 * l.out, l.out);
      out[`${l.name}.b_ih`] = vec(3 * l.out);
      out[`${l.name}.b_hh`] = vec(3 * l.out);
    }
  }
  return out;
}

/** The matrices a sparse random model stores sparse: every GRU matrix and the two convs (the bulk of the weights). */
export function sparseMatrixNames(c: ModelConfig): string[] {
  const out: string[] = [];
  for (const l of layerSpecs(c)) {
    if (l.kind === "gru") out.push(`${l.name}.w_ih`, `${l.name}.w_hh`);
    else if (l.name === "conv1" || l.name === "conv2") out.push(`${l.name}.w`);
  }
  return out;
}

/**
 * Zero each 4 x 16 block of the named matrices with probability
 * 1 - density (in place), as block pruning would; returns `t`. Blocks are
 * drawn from their own PRNG stream, so the kept weights are those of
 * randomFloatTensors(c, seed) at every density.
 */
export function pruneBlocks(c: ModelConfig, t: FloatTensors, names: string[], density: number, seed = 1): FloatTensors {
  const rand = rng(seed + 7919);
  const shapes = new Map<string, [number, number]>();
  for (const l of layerSpecs(c)) {
    if (l.kind === "dense") shapes.set(`${l.name}.w`, [l.out, l.in]);
    else { shapes.set(`${l.name}.w_ih`, [3 * l.out, l.in]); shapes.set(`${l.name}.w_hh`, [3 * l.out, l.out]); }
  }
  for (const name of names) {
    const [rows, cols] = shapes.get(name)!;
    const w = t[name];
    for (let r0 = 0; r0 < rows; r0 += SPARSE_ROWS) {
      for (let c0 = 0; c0 < cols; c0 += SPARSE_COLS) {
        if (rand() < density) continue;
        for (let r = r0; r < Math.min(rows, r0 + SPARSE_ROWS); r++) w.fill(0, r * cols + c0, r * cols + Math.min(cols, c0 + SPARSE_COLS));
      }
    }
  }
  return t;
}

/**
 * A complete random model file. With `density` the GRU and conv matrices
 * are block-pruned to about that fraction of blocks and stored sparse
 * (format v2; density 1 keeps every block but still stores them sparse).
 * `weightBits: 7` quantises the kernel matrices to 7 bits (weightBits 7).
 */
export function randomModelFile(c: ModelConfig, seed = 1, opts: { density?: number; weightBits?: 7 | 8 } = {}): Uint8Array {
  const t = randomFloatTensors(c, seed);
  const bits = opts.weightBits === 7 ? { weightBits: 7 as const } : {};
  if (opts.density === undefined) return writeModelFile(c, t, { source: "lab/random-model.ts", seed }, bits);
  const names = sparseMatrixNames(c);
  pruneBlocks(c, t, names, opts.density, seed);
  return writeModelFile(c, t, { source: "lab/random-model.ts", seed, density: opts.density }, { sparse: names, ...bits });
}

/** Plausible random feature frames: a smooth random walk per feature, kept in [-3, 3]. */
export function randomFeatures(frames: number, nFeatures: number, seed = 7): Float32Array[] {
  const rand = rng(seed);
  const cur = new Float64Array(nFeatures).map(() => 2 * rand() - 1);
  const out: Float32Array[] = [];
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < nFeatures; i++) cur[i] = Math.max(-3, Math.min(3, cur[i] + 0.6 * (rand() - 0.5)));
    out.push(Float32Array.from(cur));
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const out = argv[0];
  if (!out || out.startsWith("--")) {
    console.error("usage: random-model OUT.pnm [--width N] [--dense N] [--gru-r N] [--layers N] [--seed N]");
    process.exit(2);
  }
  const arg = (name: string, d: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const dc = DEFAULT_CONFIG;
  const c = makeConfig(arg("--width", dc.gru), { dense: arg("--dense", dc.dense), gruR: arg("--gru-r", dc.gruR), gruLayers: arg("--layers", dc.gruLayers) });
  const density = arg("--density", NaN);
  const bytes = randomModelFile(c, arg("--seed", 1), Number.isNaN(density) ? {} : { density });
  const fs = await import("node:fs");
  fs.writeFileSync(out, bytes);
  console.log(`wrote ${out}: ${bytes.length} bytes`);
}

if (typeof process !== "undefined" && process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, "/"))) {
  await main(process.argv.slice(2));
}
