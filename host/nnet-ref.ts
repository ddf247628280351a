/**
 * Plain-TypeScript float reference of the PercepNet network (same graph as
 * assembly/model.ts), for tests. Computes in float64 with exact tanh and
 * sigmoid and stores layer outputs as float32.
 *
 * With `quantizeActivations` it rounds every activation that enters an int8
 * layer to the engine's grid (round(127 x) / 127), which isolates the
 * kernel arithmetic from the activation-quantisation error.
 */
import type { FloatTensors, ModelConfig } from "./model-file.js";
import { layerSpecs } from "./model-file.js";

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

/** The whole network, frame by frame, from float weights. */
export class RefNetwork {
  private hist1: Float32Array[];
  private hist2: Float32Array[];
  private h: Float32Array[];
  private readonly q: (v: ArrayLike<number>) => Float32Array;

  constructor(readonly config: ModelConfig, readonly w: FloatTensors, opts: { quantizeActivations?: boolean } = {}) {
    this.q = opts.quantizeActivations ? (v) => Float32Array.from(v, quantizeActivation) : (v) => Float32Array.from(v);
    this.hist1 = []; this.hist2 = []; this.h = [];
    this.reset();
  }

  /** Zero conv histories and GRU states. */
  reset(): void {
    const c = this.config;
    this.hist1 = Array.from({ length: c.conv1.k }, () => new Float32Array(c.dense));
    this.hist2 = Array.from({ length: c.conv2.k }, () => new Float32Array(c.conv1.out));
    this.h = Array.from({ length: c.gruLayers + 2 }, (_, i) => new Float32Array(i === c.gruLayers + 1 ? c.gruR : c.gru));
  }

  private dense(name: string, x: ArrayLike<number>, act: "tanh" | "sigmoid"): Float32Array {
    const l = layerSpecs(this.config).find((s) => s.name === name)!;
    return denseRef(this.w[`${name}.w`], this.w[`${name}.b`], l.out, l.in, x, act);
  }

  private gru(name: string, idx: number, x: ArrayLike<number>): Float32Array {
    const l = layerSpecs(this.config).find((s) => s.name === name)!;
    const w = this.w;
    const h = gruRef(w[`${name}.w_ih`], w[`${name}.w_hh`], w[`${name}.b_ih`], w[`${name}.b_hh`], l.out, l.in,
      x, this.h[idx], this.q(this.h[idx]));
    this.h[idx] = h;
    return h;
  }

  /** One frame: returns outputs and every layer's output (engine layer order). */
  step(features: ArrayLike<number>): { gains: Float32Array; strengths: Float32Array; vad: number; layers: Float32Array[] } {
    const c = this.config;
    const cat = (parts: ArrayLike<number>[]) => {
      const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) { out.set(p as ArrayLike<number>, o); o += p.length; }
      return out;
    };
    const fcIn = this.dense("fc_in", features, "tanh");
    this.hist1.shift(); this.hist1.push(this.q(fcIn));
    const conv1 = this.dense("conv1", cat(this.hist1), "tanh");
    this.hist2.shift(); this.hist2.push(this.q(conv1));
    const conv2 = this.dense("conv2", cat(this.hist2), "tanh");
    const trunk: Float32Array[] = [];
    let x: Float32Array = this.q(conv2);
    for (let i = 0; i < c.gruLayers; i++) {
      trunk.push(this.gru(`gru${i + 1}`, i, x));
      x = this.q(trunk[i]);
    }
    const gruG = this.gru("gru_g", c.gruLayers, x);
    const last = this.q(trunk[c.gruLayers - 1]);
    const gruR = this.gru("gru_r", c.gruLayers + 1, cat([this.q(conv2), last]));
    const gains = this.dense("fc_g", cat([this.q(conv2), ...trunk.map((t) => this.q(t)), this.q(gruG)]), "sigmoid");
    const strengths = this.dense("fc_r", this.q(gruR), "sigmoid");
    const vadOut = c.vad ? this.dense("fc_vad", last, "sigmoid") : new Float32Array(1);
    const layers = [fcIn, conv1, conv2, ...trunk, gruG, gruR, gains, strengths, vadOut];
    return { gains, strengths, vad: vadOut[0], layers };
  }
}
