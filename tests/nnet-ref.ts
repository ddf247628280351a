/**
 * Plain-TypeScript float reference of the PercepNet network (same graph as
 * assembly/model.ts), for tests. Computes in float64 with exact tanh and
 * sigmoid and stores layer outputs as float32.
 *
 * With `quantizeActivations` it rounds every activation that enters an int8
 * layer to the engine's grid (round(127 x) / 127), which isolates the
 * kernel arithmetic from the activation-quantisation error.
 */
import type { FloatTensors, LayerSpec, ModelConfig } from "../host/model-file.js";
import { layerSpecs } from "../host/model-file.js";

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * round(127 x) / 127 clamped to [-1, 1], exactly the engine's activation grid
 * (x * 127 rounded to f32, ties to even).
 */
export function quantizeActivation(x: number): number {
  const v = Math.fround(Math.fround(x) * 127);
  if (Number.isNaN(v)) return 0;
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return Math.max(-127, Math.min(127, r)) / 127;
}

/** y = act(W x + b) for row-major W [rows, cols]. */
export function denseRef(w: Float32Array, b: Float32Array, rows: number, cols: number, x: ArrayLike<number>,
  act: "tanh" | "sigmoid" | "none" = "none"): Float32Array {
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b[r];
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    y[r] = act === "tanh" ? Math.tanh(s) : act === "sigmoid" ? sigmoid(s) : s;
  }
  return y;
}

/**
 * y = W x for a block-sparse W (docs/FORMATS.md "Sparse matrices": per
 * block row a count, then its column blocks; `blocks` the kept blocks,
 * `br x bc` each, row-major), walked straight from the file layout. One
 * entry per padded row (a multiple of `br`), like the engine's output.
 * Exact for integer inputs (float64 sums of int8 x int16 products).
 */
export function sparseRef(index: Int32Array, blocks: Int8Array, rows: number, x: ArrayLike<number>, br = 4, bc = 16): Float64Array {
  const nbr = Math.ceil(rows / br);
  const y = new Float64Array(nbr * br);
  let at = 0, k = 0;
  for (let b = 0; b < nbr; b++) {
    const cnt = index[at++];
    for (let j = 0; j < cnt; j++, k++) {
      const c0 = index[at++] * bc;
      for (let i = 0; i < br; i++) {
        for (let c = 0; c < bc; c++) y[b * br + i] += blocks[k * br * bc + i * bc + c] * (x[c0 + c] ?? 0);
      }
    }
  }
  return y;
}

/** One PyTorch-layout GRU step (gates r, z, n); returns the new state. */
export function gruRef(wih: Float32Array, whh: Float32Array, bih: Float32Array, bhh: Float32Array,
  hidden: number, inCols: number, x: ArrayLike<number>, hIn: ArrayLike<number>, hQuant?: ArrayLike<number>): Float32Array {
  const gi = denseRef(wih, bih, 3 * hidden, inCols, x);
  const gh = denseRef(whh, bhh, 3 * hidden, hidden, hQuant ?? hIn);
  const h = new Float32Array(hidden);
  for (let j = 0; j < hidden; j++) {
    const r = sigmoid(gi[j] + gh[j]);
    const z = sigmoid(gi[hidden + j] + gh[hidden + j]);
    const n = Math.tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
    h[j] = (1 - z) * n + z * hIn[j];
  }
  return h;
}

/**
 * The whole network, frame by frame, from float weights. Every width, conv
 * history and concatenation comes from `layerSpecs`, so the engine's
 * agreement with this reference (tests/nnet.test.ts) is its agreement with
 * that description; only the roles of the heads (fc_g gains, fc_r
 * strengths, fc_vad VAD) are named here.
 */
export class RefNetwork {
  private readonly specs: LayerSpec[];
  /** conv layers: the last k inputs, oldest first */
  private hist = new Map<string, ArrayLike<number>[]>();
  /** GRU states */
  private h = new Map<string, Float32Array>();
  private readonly q: (v: ArrayLike<number>) => Float32Array;

  constructor(readonly config: ModelConfig, readonly w: FloatTensors, opts: { quantizeActivations?: boolean } = {}) {
    this.q = opts.quantizeActivations ? (v) => Float32Array.from(v, quantizeActivation) : (v) => Float32Array.from(v);
    this.specs = layerSpecs(config);
    this.reset();
  }

  /** Zero conv histories and GRU states. */
  reset(): void {
    this.hist.clear(); this.h.clear();
    for (const l of this.specs) {
      if (l.k > 1) this.hist.set(l.name, Array.from({ length: l.k }, () => new Float32Array(l.in / l.k)));
      if (l.kind === "gru") this.h.set(l.name, new Float32Array(l.out));
    }
  }

  /** One frame: returns outputs and every layer's output (engine layer order; zeros for an absent layer). */
  step(features: ArrayLike<number>): { gains: Float32Array; strengths: Float32Array; vad: number; layers: Float32Array[] } {
    const out = new Map<string, Float32Array>();
    const w = this.w;
    for (const l of this.specs) {
      if (!l.present) continue;
      // Only fc_in reads float features; every other input is an activation the engine keeps as int8-grid int16.
      const parts = l.inputs.map((n) => (n === "features" ? features : this.q(out.get(n)!)));
      let x: ArrayLike<number> = parts.length === 1 ? parts[0] : cat(parts);
      const hist = this.hist.get(l.name);
      if (hist) { hist.shift(); hist.push(x); x = cat(hist); }
      let y: Float32Array;
      if (l.kind === "dense") {
        y = denseRef(w[`${l.name}.w`], w[`${l.name}.b`], l.out, l.in, x, l.activation as "tanh" | "sigmoid");
      } else {
        const h = this.h.get(l.name)!;
        y = gruRef(w[`${l.name}.w_ih`], w[`${l.name}.w_hh`], w[`${l.name}.b_ih`], w[`${l.name}.b_hh`], l.out, l.in, x, h, this.q(h));
        this.h.set(l.name, y);
      }
      out.set(l.name, y);
    }
    const layers = this.specs.map((l) => out.get(l.name) ?? new Float32Array(l.out));
    return { gains: out.get("fc_g")!, strengths: out.get("fc_r")!, vad: out.get("fc_vad")?.[0] ?? 0, layers };
  }
}

function cat(parts: ArrayLike<number>[]): Float32Array {
  const r = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { r.set(p, o); o += p.length; }
  return r;
}
