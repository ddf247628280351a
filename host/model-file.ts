/**
 * The `.pnm` model file (docs/FORMATS.md section 3): parser with strict
 * validation, and a writer that quantises float weights per row.
 *
 * No TextDecoder, no Node APIs: the parser runs unchanged in an
 * AudioWorkletGlobalScope or a Worker.
 */
import { describe } from "./options.js";

/** The network configuration (docs/FORMATS.md section 1). */
export interface ModelConfig {
  nFeatures: number;
  nBands: number;
  lookahead: number;
  dense: number;
  conv1: { k: number; out: number };
  conv2: { k: number; out: number };
  gru: number;
  gruLayers: number;
  gruR: number;
  vad: boolean;
}

/** A tensor entry of the JSON header. */
export interface TensorInfo {
  name: string;
  dtype: "i8" | "f32" | "i32";
  shape: number[];
  offset: number;
  bytes: number;
}

/**
 * One tensor the configuration requires, with its engine id (layer * 8 +
 * kind). In a parsed file a sparse matrix `M` appears as two specs with
 * M's id: `M.blocks` (dtype i32, the block index, loaded first) and `M`
 * (dtype i8, shape [nBlocks, 4, 16]).
 */
export interface TensorSpec {
  name: string;
  dtype: "i8" | "f32" | "i32";
  shape: number[];
  id: number;
}

/**
 * A layer of the graph, in engine order (index = engine layer index, the
 * `layer` of a tensor id). This list is the one description of the network
 * that the wasm engine (tests/topology.test.ts), the float reference
 * (host/nnet-ref.ts) and the trainer (training/percepnet/topology.py, via
 * training/percepnet/layers.json) are tested against.
 */
export interface LayerSpec {
  name: string;
  kind: "dense" | "gru";
  /** dense: output width; gru: hidden width */
  out: number;
  /** width of one step's input: k x the summed widths of `inputs` */
  in: number;
  /** frames of its input a layer sees at once, oldest first: the conv kernel, else 1 */
  k: number;
  /** layers whose outputs, concatenated in this order, form the input ("features": the network input) */
  inputs: string[];
  activation: "tanh" | "sigmoid" | "gru";
  present: boolean;
}

/** A validated model file. */
export interface ParsedModel {
  version: number;
  config: ModelConfig;
  meta: Record<string, unknown>;
  tensors: Map<string, Int8Array | Float32Array | Int32Array>;
  /** Tensors in engine order, for loading (a block index right before its matrix). */
  specs: TensorSpec[];
  /**
   * 8, or 7 when the file promises (and the parser checked) that every int8
   * matrix the kernels run (all but fc_in.w) is in [-64, 63]: such a model
   * runs relaxed SIMD's dot product in percepnet-relaxed.wasm
   * (docs/FORMATS.md `weightBits`).
   */
  weightBits: WeightBits;
}

/** Bits of the int8 kernel matrices' weights: 8 ([-127, 127]) or 7 ([-64, 63], written as [-63, 63]). */
export type WeightBits = 7 | 8;
/** Range of a weight in a 7-bit model (assembly/nnet.ts W7_MIN, W7_MAX). */
export const W7_MIN = -64;
export const W7_MAX = 63;

export const MODEL_MAGIC = "PNM1";
/** The newest format version this parser reads: 2 adds block-sparse matrices; a writer without sparse matrices still writes 1. */
export const MODEL_VERSION = 2;
/** Block shape of sparse matrices (rows x columns), fixed by format version 2 (assembly/nnet.ts SPARSE_ROWS, SPARSE_COLS). */
export const SPARSE_ROWS = 4;
export const SPARSE_COLS = 16;
/** Suffix of a block-index tensor: `gru1.w_hh.blocks` indexes `gru1.w_hh`. */
export const BLOCKS_SUFFIX = ".blocks";

/** Matrices that may be stored sparse: every int8 matrix but fc_in's, which the engine turns into f32. */
export function sparseCapable(name: string): boolean {
  return name !== "fc_in.w" && /\.w(_ih|_hh)?$/.test(name);
}
/** Caps checked before anything is allocated (the engine checks the same). */
export const MAX_WIDTH = 4096;
export const MAX_KERNEL = 16;
export const MAX_GRU_LAYERS = 16;
export const MAX_JSON_BYTES = 1 << 20;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, reflected, as zlib.crc32). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const pad16 = (n: number) => (n + 15) & ~15;

/**
 * The configuration of weights/default.pnm and of the trainer's default
 * (training/percepnet/topology.py DEFAULT_CONFIG, held equal by its test).
 * Not the parser's defaults for keys a file leaves out: those are part of
 * the file format and must not follow a new default model.
 */
export const DEFAULT_CONFIG: Readonly<ModelConfig> = Object.freeze({
  nFeatures: 70, nBands: 34, lookahead: 2,
  dense: 128, conv1: Object.freeze({ k: 5, out: 512 }), conv2: Object.freeze({ k: 3, out: 512 }),
  gru: 512, gruLayers: 3, gruR: 128, vad: true,
});

/** The layers of a configuration in engine order (fc_vad present only when config.vad). */
export function layerSpecs(c: ModelConfig): LayerSpec[] {
  const L: LayerSpec[] = [];
  const width = new Map<string, number>([["features", c.nFeatures]]);
  // `in` is derived from the wiring so that widths and wiring cannot disagree.
  const add = (name: string, kind: LayerSpec["kind"], out: number, inputs: string[],
    activation: LayerSpec["activation"], k = 1, present = true) => {
    const sum = inputs.reduce((s, n) => {
      const w = width.get(n);
      if (w === undefined) throw new Error(`layerSpecs: ${name} reads ${n}, which is not an earlier layer`);
      return s + w;
    }, 0);
    L.push({ name, kind, out, in: k * sum, k, inputs, activation, present });
    width.set(name, out);
  };
  const trunk = Array.from({ length: c.gruLayers }, (_, i) => `gru${i + 1}`);
  const last = trunk[trunk.length - 1];
  add("fc_in", "dense", c.dense, ["features"], "tanh");
  add("conv1", "dense", c.conv1.out, ["fc_in"], "tanh", c.conv1.k);
  add("conv2", "dense", c.conv2.out, ["conv1"], "tanh", c.conv2.k);
  trunk.forEach((name, i) => add(name, "gru", c.gru, [i === 0 ? "conv2" : trunk[i - 1]], "gru"));
  add("gru_g", "gru", c.gru, [last], "gru");
  add("gru_r", "gru", c.gruR, ["conv2", last], "gru");
  add("fc_g", "dense", c.nBands, ["conv2", ...trunk, "gru_g"], "sigmoid");
  add("fc_r", "dense", c.nBands, ["gru_r"], "sigmoid");
  add("fc_vad", "dense", 1, [last], "sigmoid", 1, c.vad);
  return L;
}

/** Every tensor a configuration requires, in engine order. */
export function tensorSpecs(c: ModelConfig): TensorSpec[] {
  const out: TensorSpec[] = [];
  layerSpecs(c).forEach((l, li) => {
    if (!l.present) return;
    if (l.kind === "dense") {
      out.push({ name: `${l.name}.w`, dtype: "i8", shape: [l.out, l.in], id: li * 8 });
      out.push({ name: `${l.name}.w_scale`, dtype: "f32", shape: [l.out], id: li * 8 + 1 });
      out.push({ name: `${l.name}.b`, dtype: "f32", shape: [l.out], id: li * 8 + 2 });
    } else {
      const r = 3 * l.out;
      out.push({ name: `${l.name}.w_ih`, dtype: "i8", shape: [r, l.in], id: li * 8 });
      out.push({ name: `${l.name}.w_ih_scale`, dtype: "f32", shape: [r], id: li * 8 + 1 });
      out.push({ name: `${l.name}.b_ih`, dtype: "f32", shape: [r], id: li * 8 + 2 });
      out.push({ name: `${l.name}.w_hh`, dtype: "i8", shape: [r, l.out], id: li * 8 + 3 });
      out.push({ name: `${l.name}.w_hh_scale`, dtype: "f32", shape: [r], id: li * 8 + 4 });
      out.push({ name: `${l.name}.b_hh`, dtype: "f32", shape: [r], id: li * 8 + 5 });
    }
  });
  return out;
}

/** Total number of weights (matrix entries) of a configuration. */
export function weightCount(c: ModelConfig): number {
  return tensorSpecs(c).filter((t) => t.dtype === "i8").reduce((s, t) => s + t.shape[0] * t.shape[1], 0);
}

function intField(o: Record<string, unknown>, key: string, lo: number, hi: number, dflt?: number): number {
  const v = o[key] === undefined ? dflt : o[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    throw new Error(`model file: config.${key} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Check a config object and fill defaults; throws on anything out of range. */
export function validateConfig(raw: unknown): ModelConfig {
  if (typeof raw !== "object" || raw === null) throw new Error("model file: missing config object");
  const o = raw as Record<string, unknown>;
  const conv = (key: string) => {
    const v = o[key];
    if (typeof v !== "object" || v === null) throw new Error(`model file: config.${key} must be {"k": int, "out": int}`);
    const cv = v as Record<string, unknown>;
    return { k: intField(cv, "k", 1, MAX_KERNEL), out: intField(cv, "out", 1, MAX_WIDTH) };
  };
  const vad = o.vad === undefined ? true : o.vad;
  if (typeof vad !== "boolean") throw new Error("model file: config.vad must be a boolean");
  const c: ModelConfig = {
    nFeatures: intField(o, "nFeatures", 1, MAX_WIDTH),
    nBands: intField(o, "nBands", 1, MAX_WIDTH),
    lookahead: intField(o, "lookahead", 0, 64, 2),
    dense: intField(o, "dense", 1, MAX_WIDTH),
    conv1: conv("conv1"),
    conv2: conv("conv2"),
    gru: intField(o, "gru", 1, MAX_WIDTH),
    gruLayers: intField(o, "gruLayers", 1, MAX_GRU_LAYERS, 3),
    gruR: intField(o, "gruR", 1, MAX_WIDTH),
    vad,
  };
  // 70: the paper's features; 104: those and the per-band noise floor (docs/FORMATS.md).
  if ((c.nFeatures !== 70 && c.nFeatures !== 104) || c.nBands !== 34) {
    throw new Error(`model file: this engine expects nFeatures 70 (or 104, with the noise floor) and nBands 34, got ${c.nFeatures} and ${c.nBands}`);
  }
  return c;
}

function asciiToString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    const chunk = b.subarray(i, Math.min(b.length, i + 4096));
    for (let j = 0; j < chunk.length; j++) {
      const ch = chunk[j];
      if (ch > 0x7e || (ch < 0x20 && ch !== 9 && ch !== 10 && ch !== 13)) {
        throw new Error(`model file: JSON header has a non-ASCII byte 0x${ch.toString(16)} at ${16 + i + j}`);
      }
    }
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/** A shape for a message; the file's own may be any JSON value. */
function shapeStr(s: unknown): string { return Array.isArray(s) ? `[${s.join(", ")}]` : JSON.stringify(s) ?? String(s); }

/** Visit a block index: (block row, column block, block number) per kept block. */
function forEachBlock(index: Int32Array, rows: number, fn: (br: number, cb: number, k: number) => void): void {
  let at = 0, k = 0;
  for (let br = 0; br < Math.ceil(rows / SPARSE_ROWS); br++) {
    const cnt = index[at++];
    for (let j = 0; j < cnt; j++) fn(br, index[at++], k++);
  }
}

/**
 * Validate a block index for a [rows, cols] matrix (docs/FORMATS.md
 * "Sparse matrices"): per block row a count in [0, column blocks], then
 * that many column blocks, strictly increasing and in range; nothing left
 * over. Returns the number of kept blocks.
 */
function checkBlockIndex(name: string, index: Int32Array, rows: number, cols: number): number {
  const nbr = Math.ceil(rows / SPARSE_ROWS), ncb = Math.ceil(cols / SPARSE_COLS);
  let at = 0;
  for (let br = 0; br < nbr; br++) {
    if (at >= index.length) throw new Error(`model file: block index ${name} ends before block row ${br} of ${nbr}`);
    const cnt = index[at++];
    if (cnt < 0 || cnt > ncb) throw new Error(`model file: block index ${name}: block row ${br} has count ${cnt}, must be in [0, ${ncb}]`);
    if (cnt > index.length - at) throw new Error(`model file: block index ${name}: block row ${br} has count ${cnt} but only ${index.length - at} entries are left`);
    for (let j = 0; j < cnt; j++, at++) {
      const c = index[at];
      if (c < 0 || c >= ncb) throw new Error(`model file: block index ${name}: block row ${br} names column block ${c}, out of range [0, ${ncb})`);
      if (j > 0 && c <= index[at - 1]) {
        throw new Error(`model file: block index ${name}: block row ${br} column blocks are not strictly increasing (${index[at - 1]} then ${c})`);
      }
    }
  }
  if (at !== index.length) throw new Error(`model file: block index ${name} has ${index.length - at} entries past its last block row`);
  return index.length - nbr;
}

/** Weights of kept blocks outside the [rows, cols] matrix must be zero: the engine would otherwise multiply them with a neighbour's activations. */
function checkBlockPadding(name: string, index: Int32Array, w: Int8Array, rows: number, cols: number): void {
  forEachBlock(index, rows, (br, cb, k) => {
    for (let i = 0; i < SPARSE_ROWS; i++) {
      for (let j = 0; j < SPARSE_COLS; j++) {
        const r = br * SPARSE_ROWS + i, c = cb * SPARSE_COLS + j;
        if ((r >= rows || c >= cols) && w[k * SPARSE_ROWS * SPARSE_COLS + i * SPARSE_COLS + j] !== 0) {
          throw new Error(`model file: sparse matrix ${name}: block ${k} has a nonzero weight outside the ${rows} x ${cols} matrix (row ${r}, column ${c})`);
        }
      }
    }
  });
}

/** Expand a block-sparse matrix to dense row-major [rows, cols] (dropped blocks are zero). */
export function expandBlocks(index: Int32Array, w: Int8Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(rows * cols);
  forEachBlock(index, rows, (br, cb, k) => {
    for (let i = 0; i < SPARSE_ROWS; i++) {
      const r = br * SPARSE_ROWS + i;
      if (r >= rows) break;
      for (let j = 0; j < SPARSE_COLS; j++) {
        const c = cb * SPARSE_COLS + j;
        if (c < cols) out[r * cols + c] = w[k * SPARSE_ROWS * SPARSE_COLS + i * SPARSE_COLS + j];
      }
    }
  });
  return out;
}

/**
 * Keep the blocks of a quantised [rows, cols] matrix that hold a nonzero
 * weight: its block index and the kept blocks (docs/FORMATS.md).
 */
export function toBlocks(q: Int8Array, rows: number, cols: number): { index: Int32Array; w: Int8Array } {
  const nbr = Math.ceil(rows / SPARSE_ROWS), ncb = Math.ceil(cols / SPARSE_COLS);
  const index: number[] = [];
  const blocks: Int8Array[] = [];
  for (let br = 0; br < nbr; br++) {
    const at = index.push(0) - 1;
    for (let cb = 0; cb < ncb; cb++) {
      const blk = new Int8Array(SPARSE_ROWS * SPARSE_COLS);
      let any = false;
      for (let i = 0; i < SPARSE_ROWS; i++) {
        const r = br * SPARSE_ROWS + i;
        if (r >= rows) break;
        for (let j = 0; j < SPARSE_COLS; j++) {
          const c = cb * SPARSE_COLS + j;
          if (c >= cols) break;
          const v = q[r * cols + c];
          blk[i * SPARSE_COLS + j] = v;
          if (v !== 0) any = true;
        }
      }
      if (!any) continue;
      index[at]++;
      index.push(cb);
      blocks.push(blk);
    }
  }
  const w = new Int8Array(blocks.length * SPARSE_ROWS * SPARSE_COLS);
  blocks.forEach((blk, k) => w.set(blk, k * blk.length));
  return { index: Int32Array.from(index), w };
}

/**
 * Parse and validate a `.pnm` file. Throws an Error naming the problem:
 * truncation, wrong magic, newer version, size mismatch, bad checksum,
 * bad JSON/config, missing/unexpected tensor, shape or dtype mismatch,
 * misaligned or out-of-bounds offset, non-finite float.
 */
export function parseModelFile(input: Uint8Array | ArrayBuffer): ParsedModel {
  if (!(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) {
    throw new TypeError(`percepnet: parseModelFile() takes the .pnm bytes as a Uint8Array or ArrayBuffer, got ${describe(input)}`);
  }
  const b = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (b.length < 20) throw new Error(`model file: truncated (${b.length} bytes, header needs 20)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = String.fromCharCode(b[0], b[1], b[2], b[3]);
  if (magic !== MODEL_MAGIC) throw new Error(`model file: wrong magic ${JSON.stringify(magic)} (expected "${MODEL_MAGIC}")`);
  const version = dv.getUint32(4, true);
  if (version > MODEL_VERSION) throw new Error(`model file: format version ${version} is newer than this engine supports (${MODEL_VERSION})`);
  if (version < 1) throw new Error(`model file: invalid format version ${version}`);
  const jsonLen = dv.getUint32(8, true);
  const dataLen = dv.getUint32(12, true);
  if (jsonLen > MAX_JSON_BYTES) throw new Error(`model file: JSON header of ${jsonLen} bytes exceeds ${MAX_JSON_BYTES}`);
  const dataStart = pad16(16 + jsonLen);
  const expected = dataStart + dataLen + 4;
  if (b.length < expected) throw new Error(`model file: truncated: header implies ${expected} bytes, file has ${b.length}`);
  if (b.length > expected) throw new Error(`model file: size mismatch: header implies ${expected} bytes, file has ${b.length}`);
  const stored = dv.getUint32(expected - 4, true);
  const actual = crc32(b.subarray(0, expected - 4));
  if (stored !== actual) {
    throw new Error(`model file: bad checksum (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})`);
  }

  let header: Record<string, unknown>;
  try {
    header = JSON.parse(asciiToString(b.subarray(16, 16 + jsonLen)));
  } catch (e) {
    throw new Error(`model file: bad JSON header: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null) throw new Error("model file: JSON header is not an object");
  const config = validateConfig(header.config);
  const weightBits = header.weightBits === undefined ? 8 : header.weightBits;
  if (weightBits !== 7 && weightBits !== 8) throw new Error(`model file: weightBits must be 7 or 8, got ${JSON.stringify(weightBits)}`);
  const meta = (typeof header.meta === "object" && header.meta !== null ? header.meta : {}) as Record<string, unknown>;
  if (!Array.isArray(header.tensors)) throw new Error("model file: JSON header has no tensors array");

  const listed = new Map<string, TensorInfo>();
  for (const t of header.tensors as TensorInfo[]) {
    if (typeof t !== "object" || t === null || typeof t.name !== "string") throw new Error("model file: tensor entry without a name");
    if (listed.has(t.name)) throw new Error(`model file: tensor ${t.name} listed twice`);
    listed.set(t.name, t);
  }
  const tensors = new Map<string, Int8Array | Float32Array | Int32Array>();
  const specs: TensorSpec[] = [];
  /** Check an entry against the dtype and shape it must have; its bytes, copied. */
  const take = (name: string, t: TensorInfo, dtype: TensorSpec["dtype"], shape: number[]): Int8Array | Float32Array | Int32Array => {
    if (t.dtype !== dtype) throw new Error(`model file: tensor ${name} has dtype ${t.dtype}, expected ${dtype}`);
    if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new Error(`model file: shape mismatch for ${name}: file has ${shapeStr(t.shape)}, config implies ${shapeStr(shape)}`);
    }
    const count = shape.reduce((p, v) => p * v, 1);
    const size = dtype === "i8" ? 1 : 4;
    if (t.bytes !== count * size) throw new Error(`model file: tensor ${name} has ${t.bytes} bytes, shape implies ${count * size}`);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 16 !== 0) {
      throw new Error(`model file: tensor ${name} offset ${t.offset} is not a non-negative multiple of 16`);
    }
    if (t.offset + t.bytes > dataLen) throw new Error(`model file: tensor ${name} (offset ${t.offset}, ${t.bytes} bytes) runs past the data section (${dataLen} bytes)`);
    const at = dataStart + t.offset;
    if (dtype === "i8") return new Int8Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + count));
    if (dtype === "i32") return Int32Array.from({ length: count }, (_, i) => dv.getInt32(at + 4 * i, true));
    const f = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = dv.getFloat32(at + 4 * i, true);
      if (!Number.isFinite(v)) throw new Error(`model file: tensor ${name} has a non-finite value at ${i}`);
      f[i] = v;
    }
    return f;
  };
  if (version < 2) {
    for (const name of listed.keys()) {
      if (name.endsWith(BLOCKS_SUFFIX)) throw new Error(`model file: block index ${name} in a version ${version} file (sparse matrices need version 2)`);
    }
  }
  for (const s of tensorSpecs(config)) {
    const t = listed.get(s.name);
    if (!t) throw new Error(`model file: missing tensor ${s.name}`);
    listed.delete(s.name);
    const bname = s.name + BLOCKS_SUFFIX;
    const bt = version >= 2 && sparseCapable(s.name) ? listed.get(bname) : undefined;
    if (!bt) {
      tensors.set(s.name, take(s.name, t, s.dtype, s.shape));
      specs.push(s);
      continue;
    }
    listed.delete(bname);
    const [rows, cols] = s.shape;
    const nbr = Math.ceil(rows / SPARSE_ROWS);
    const n = Array.isArray(bt.shape) && bt.shape.length === 1 ? bt.shape[0] : NaN;
    if (!Number.isInteger(n) || n < nbr) {
      throw new Error(`model file: block index ${bname} must have shape [n] with n >= ${nbr} (one count per block row), got ${shapeStr(bt.shape)}`);
    }
    const index = take(bname, bt, "i32", [n]) as Int32Array;
    const nBlocks = checkBlockIndex(bname, index, rows, cols);
    const w = take(s.name, t, "i8", [nBlocks, SPARSE_ROWS, SPARSE_COLS]) as Int8Array;
    checkBlockPadding(s.name, index, w, rows, cols);
    tensors.set(bname, index);
    tensors.set(s.name, w);
    specs.push({ name: bname, dtype: "i32", shape: [n], id: s.id });
    specs.push({ name: s.name, dtype: "i8", shape: [nBlocks, SPARSE_ROWS, SPARSE_COLS], id: s.id });
  }
  for (const name of listed.keys()) {
    if (!name.endsWith(BLOCKS_SUFFIX)) continue;
    const m = name.slice(0, -BLOCKS_SUFFIX.length);
    throw new Error(`model file: block index ${name}: ${m} cannot be stored sparse`);
  }
  if (listed.size > 0) throw new Error(`model file: unexpected tensor(s) ${[...listed.keys()].join(", ")}`);
  if (weightBits === 7) {
    for (const s of specs) {
      if (s.dtype !== "i8" || !sparseCapable(s.name)) continue;
      const w = tensors.get(s.name) as Int8Array;
      const i = w.findIndex((v) => v < W7_MIN || v > W7_MAX);
      if (i >= 0) throw new Error(`model file: weightBits is 7 but ${s.name} has weight ${w[i]} at ${i}, outside [${W7_MIN}, ${W7_MAX}]`);
    }
  }
  return { version, config, meta, tensors, specs, weightBits };
}

/** Round to nearest, ties to even (as numpy.round and torch.round). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per-row quantisation to `bits` (8: [-127, 127], 7: [-63, 63]): scale =
 * max|row| / 127 (or / 63), 1 for a zero row.
 */
export function quantizeRows(w: Float32Array, rows: number, cols: number, bits: WeightBits = 8): { q: Int8Array; scale: Float32Array } {
  const top = bits === 7 ? 63 : 127;
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    const s = m > 0 ? m / top : 1;
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-top, Math.min(top, roundHalfEven(w[r * cols + c] / s)));
  }
  return { q, scale };
}

/**
 * Float tensors a writer takes: per dense layer `L.w` ([out, in] row-major)
 * and `L.b`; per GRU `L.w_ih`, `L.w_hh`, `L.b_ih`, `L.b_hh`.
 */
export type FloatTensors = Record<string, Float32Array>;

/** Options of {@link writeModelFile}. */
export interface WriteOptions {
  /**
   * Matrices to store block-sparse (format version 2), e.g. "gru1.w_hh":
   * only their 4 x 16 blocks holding a nonzero quantised weight are kept.
   * Without any, the file is version 1, byte for byte as before v2.
   */
  sparse?: string[];
  /**
   * 7: quantise every matrix but fc_in.w to [-63, 63] (scale max|row| / 63)
   * and mark the file `"weightBits": 7`, so percepnet-relaxed.wasm runs it
   * with relaxed SIMD's dot product. Default 8 (no mark, bytes as before).
   */
  weightBits?: WeightBits;
}

/** Serialise a model: quantise matrices per row, lay out, checksum. */
export function writeModelFile(config: ModelConfig, floats: FloatTensors, meta: Record<string, unknown> = {}, opts: WriteOptions = {}): Uint8Array {
  const c = validateConfig(config);
  const sparse = new Set(opts.sparse ?? []);
  const bits = opts.weightBits ?? 8;
  if (bits !== 7 && bits !== 8) throw new Error(`writeModelFile: weightBits must be 7 or 8, got ${describe(bits)}`);
  const all = tensorSpecs(c);
  for (const name of sparse) {
    if (!sparseCapable(name) || !all.some((s) => s.name === name)) throw new Error(`writeModelFile: ${name} is not a matrix that can be stored sparse`);
  }
  const blobs: { spec: TensorSpec; bytes: Uint8Array }[] = [];
  const scales = new Map<string, Float32Array>();
  for (const s of tensorSpecs(c)) {
    let data: Int8Array | Float32Array;
    if (s.dtype === "i8") {
      const src = floats[s.name];
      const n = s.shape[0] * s.shape[1];
      if (!src || src.length !== n) throw new Error(`writeModelFile: ${s.name} needs ${n} floats, got ${src?.length}`);
      const { q, scale } = quantizeRows(src, s.shape[0], s.shape[1], sparseCapable(s.name) ? bits : 8);
      scales.set(s.name.replace(/\.w(_ih|_hh)?$/, (m) => `${m}_scale`), scale);
      data = q;
      if (sparse.has(s.name)) {
        const { index, w } = toBlocks(q, s.shape[0], s.shape[1]);
        blobs.push({ spec: { name: s.name + BLOCKS_SUFFIX, dtype: "i32", shape: [index.length], id: s.id }, bytes: new Uint8Array(index.buffer) });
        blobs.push({ spec: { ...s, shape: [w.length / (SPARSE_ROWS * SPARSE_COLS), SPARSE_ROWS, SPARSE_COLS] }, bytes: new Uint8Array(w.buffer) });
        continue;
      }
    } else if (s.name.endsWith("_scale")) {
      data = scales.get(s.name)!;
    } else {
      const src = floats[s.name];
      if (!src || src.length !== s.shape[0]) throw new Error(`writeModelFile: ${s.name} needs ${s.shape[0]} floats, got ${src?.length}`);
      data = Float32Array.from(src);
    }
    blobs.push({ spec: s, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  }
  let off = 0;
  const entries: TensorInfo[] = blobs.map(({ spec, bytes }) => {
    const e = { name: spec.name, dtype: spec.dtype, shape: spec.shape, offset: off, bytes: bytes.length };
    off = pad16(off + bytes.length);
    return e;
  });
  const dataLen = off;
  const json = JSON.stringify(bits === 7 ? { config: c, weightBits: 7, tensors: entries, meta } : { config: c, tensors: entries, meta });
  const jsonBytes = Uint8Array.from(json, (ch) => {
    const v = ch.charCodeAt(0);
    if (v > 0x7e) throw new Error("writeModelFile: JSON must be ASCII");
    return v;
  });
  const dataStart = pad16(16 + jsonBytes.length);
  const total = dataStart + dataLen + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x50, 0x4e, 0x4d, 0x31], 0);
  dv.setUint32(4, sparse.size > 0 ? 2 : 1, true);
  dv.setUint32(8, jsonBytes.length, true);
  dv.setUint32(12, dataLen, true);
  out.set(jsonBytes, 16);
  out.fill(0x20, 16 + jsonBytes.length, dataStart);
  blobs.forEach(({ bytes }, i) => out.set(bytes, dataStart + entries[i].offset));
  dv.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/** Float weights of a parsed model (w * w_scale per row), keyed like FloatTensors. */
export function dequantize(m: ParsedModel): FloatTensors {
  const out: FloatTensors = {};
  for (const s of m.specs) {
    if (s.name.endsWith("_scale")) continue;
    if (s.dtype === "i32") continue;
    let t = m.tensors.get(s.name)!;
    if (s.dtype === "f32") { out[s.name] = t as Float32Array; continue; }
    const scale = m.tensors.get(`${s.name}_scale`) as Float32Array;
    const [rows, cols] = tensorSpecs(m.config).find((d) => d.name === s.name)!.shape;
    const index = m.tensors.get(s.name + BLOCKS_SUFFIX) as Int32Array | undefined;
    if (index) t = expandBlocks(index, t as Int8Array, rows, cols);
    const f = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) f[r * cols + c] = t[r * cols + c] * scale[r];
    out[s.name] = f;
  }
  return out;
}
