/**
 * The PercepNet network graph (docs/FORMATS.md section 1), built at load time
 * from the model configuration, and its ABI for the TypeScript host.
 *
 * fc_in -> conv1 (k1) -> conv2 (k2) -> gru1..gruN -> gru_g -> fc_g (gains)
 *                           |                 \-> fc_vad
 *                           +---- [conv2, gruN] -> gru_r -> fc_r (strengths)
 *
 * Everything (weights, conv histories, GRU states, scratch) is allocated once
 * in `modelConfigure`; `modelRun` allocates nothing. Layers that feed int8
 * layers keep their output twice: as f32 (for the GRU update and debugging)
 * and as int16 `round(127 x)` (the next layer's input). The int16 outputs of
 * conv2, gru1..gruN and gru_g sit side by side in one `trunk` buffer, so
 * fc_g's concatenated input costs no copy.
 *
 * Load sequence (host/model.ts): modelConfigure(...) -> for each tensor:
 * modelReserve(bytes), copy the bytes there, modelLoadTensor(id, bytes) ->
 * modelReady() == 1 -> per frame: write 70 f32 at modelInputPtr(),
 * modelRun(), read modelGainsPtr(), modelStrengthsPtr(), modelVad().
 * The kernel entry points (nnet*) and modelRunRepeat for tests and
 * benchmarks are in assembly/test-hooks.ts.
 */
import {
  allocAligned, pad4, pad16, packI8, packedBytes, matvecI8, matvecSparseI8, matvecF32,
  tanhVec, sigmoidVec, quantizeVec, gruUpdate, ACT_ONE,
  fitsI7, packI7, offsetI7, prepI7, matvecI7, matvecSparseI7,
} from "./nnet";

/** Limits checked before any allocation (the host checks the same ones). */
const MAX_WIDTH = 4096;
const MAX_KERNEL = 16;
const MAX_GRU_LAYERS = 16;

/**
 * int8 weight matrix with per-row scale (already divided by 127) and bias,
 * dense (packI8 layout) or block-sparse (matvecSparseI8) when a block index
 * arrived before the weights (modelLoadBlocks). The weight memory is
 * allocated when the weights (or their index) arrive, so a sparse layer
 * never holds a dense copy.
 */
class QLayer {
  w: usize = 0;
  scale: usize;
  bias: usize;
  /** -1: dense; else the number of kept 4 x 16 blocks */
  nBlocks: i32 = -1;
  counts: usize = 0;
  offs: usize = 0;
  /**
   * Relaxed build only: the weights are 7-bit and stored offset for
   * matvecI7 / matvecSparseI7, which read the int8 copy of the input at
   * `x8` (and, sparse, the chunk sums at `sums`) that prepI7 makes.
   */
  i7: bool = false;
  x8: usize = 0;
  sums: usize = 0;
  constructor(public rows: i32, public cols: i32) {
    this.scale = allocAligned(pad4(rows) << 2);
    this.bias = allocAligned(pad4(rows) << 2);
  }
  /** out (pad4(rows) f32) = W x * scale + bias; x int16, pad16(cols) readable. */
  @inline run(out: usize, x: usize): void {
    if (ASC_FEATURE_RELAXED_SIMD && this.i7) {
      const sparse = this.nBlocks >= 0;
      const total = prepI7(this.x8, sparse ? this.sums : 0, x, pad16(this.cols) >> 4);
      if (sparse) matvecSparseI7(out, this.w, this.counts, this.offs, this.scale, this.bias, this.rows, this.x8, this.sums);
      else matvecI7(out, this.w, this.scale, this.bias, this.rows, this.cols, this.x8, total);
    } else if (this.nBlocks >= 0) matvecSparseI8(out, this.w, this.counts, this.offs, this.scale, this.bias, this.rows, x);
    else matvecI8(out, this.w, this.scale, this.bias, this.rows, this.cols, x);
  }
  /**
   * Take a block index (docs/FORMATS.md: per block row its count, then its
   * column blocks, strictly increasing) of `bytes` at `src`. Checked in
   * full, because the kernel trusts it for every address it reads: false
   * (and nothing kept) when a count or column block is out of range,
   * indices are not strictly increasing, or the length disagrees.
   */
  loadBlocks(src: usize, bytes: i32): bool {
    if (this.nBlocks >= 0 || this.w != 0 || bytes < 0 || (bytes & 3) != 0) return false;
    const nbr = pad4(this.rows) >> 2;
    const ncb = pad16(this.cols) >> 4;
    const n = bytes >> 2;
    let at = 0, total = 0;
    for (let br = 0; br < nbr; br++) {
      if (at >= n) return false;
      const cnt = load<i32>(src + <usize>(at << 2));
      at++;
      if (cnt < 0 || cnt > ncb || cnt > n - at) return false;
      let prev = -1;
      for (let k = 0; k < cnt; k++) {
        const c = load<i32>(src + <usize>((at + k) << 2));
        if (c <= prev || c >= ncb) return false;
        prev = c;
      }
      at += cnt;
      total += cnt;
    }
    if (at != n) return false;
    this.counts = allocAligned(nbr << 2);
    this.offs = allocAligned(max(total, 1) << 2);
    this.w = allocAligned(max(total, 1) << 6);
    at = 0;
    let o = 0;
    for (let br = 0; br < nbr; br++) {
      const cnt = load<i32>(src + <usize>(at << 2));
      store<i32>(this.counts + <usize>(br << 2), cnt);
      for (let k = 0; k < cnt; k++) {
        store<i32>(this.offs + <usize>(o << 2), load<i32>(src + <usize>((at + 1 + k) << 2)) << 5);
        o++;
      }
      at += 1 + cnt;
    }
    this.nBlocks = total;
    return true;
  }
  /** kind 0 weights, 1 row scales, 2 biases; returns false on a size mismatch. */
  load(kind: i32, src: usize, bytes: i32): bool {
    if (kind == 0) {
      if (this.nBlocks >= 0) return this.loadBlockWeights(src, bytes);
      if (bytes != this.rows * this.cols) return false;
      if (this.w == 0) this.w = allocAligned(packedBytes(this.rows, this.cols));
      if (this.useI7(src, bytes)) packI7(this.w, src, this.rows, this.cols);
      else packI8(this.w, src, this.rows, this.cols);
      return true;
    }
    if (bytes != this.rows << 2) return false;
    if (kind == 1) {
      for (let r = 0; r < this.rows; r++) {
        const o = <usize>(r << 2);
        store<f32>(this.scale + o, load<f32>(src + o) / ACT_ONE);
      }
    } else {
      memory.copy(this.bias, src, <usize>bytes);
    }
    return true;
  }
  /**
   * The kept blocks, 64 bytes each (row-major 4 x 16). Weights in padding
   * columns would multiply whatever follows the input (the next layer's
   * output in the trunk buffer), so they are zeroed as in packI8; the host
   * parser rejects such files anyway.
   */
  private loadBlockWeights(src: usize, bytes: i32): bool {
    if (bytes != this.nBlocks << 6) return false;
    memory.copy(this.w, src, <usize>bytes);
    const tail = this.cols & 15;
    if (tail != 0) {
      const lastOff = (pad16(this.cols) >> 4) - 1 << 5;
      for (let b = 0; b < this.nBlocks; b++) {
        if (load<i32>(this.offs + <usize>(b << 2)) != lastOff) continue;
        const bp = this.w + <usize>(b << 6);
        for (let r = 0; r < 4; r++) memory.fill(bp + <usize>(r * 16 + tail), 0, <usize>(16 - tail));
      }
    }
    // Rows past `rows` have scale 0 and bias 0, so their sums never show.
    if (this.useI7(this.w, bytes)) offsetI7(this.w, bytes);
    return true;
  }
  /**
   * Whether this matrix runs the relaxed kernels: in the relaxed build, when
   * all `bytes` weights at `src` are 7-bit (docs/FORMATS.md `weightBits`;
   * decided from the weights themselves, so an 8-bit model runs the plain
   * kernels and the outputs never depend on the choice). Allocates the
   * int8 input copy on first use.
   */
  private useI7(src: usize, bytes: i32): bool {
    this.i7 = ASC_FEATURE_RELAXED_SIMD && fitsI7(src, bytes);
    if (this.i7 && this.x8 == 0) {
      this.x8 = allocAligned(pad16(this.cols));
      this.sums = allocAligned((pad16(this.cols) >> 4) << 2);
    }
    return this.i7;
  }
}

/** A GRU reading int16 input at `x` and writing its int16 output at `hq`. */
class GruLayer {
  ih: QLayer;
  hh: QLayer;
  gi: usize;
  gh: usize;
  /** float state, also the layer's f32 output */
  h: usize;
  constructor(public inCols: i32, public hidden: i32, public x: usize, public hq: usize) {
    this.ih = new QLayer(3 * hidden, inCols);
    this.hh = new QLayer(3 * hidden, hidden);
    this.gi = allocAligned(pad4(3 * hidden) << 2);
    this.gh = allocAligned(pad4(3 * hidden) << 2);
    this.h = allocAligned(pad4(hidden) << 2);
  }
  step(): void {
    this.ih.run(this.gi, this.x);
    this.hh.run(this.gh, this.hq);
    gruUpdate(this.h, this.gi, this.gh, this.hidden);
    // Extreme (but finite) weights can overflow to Inf - Inf = NaN, which a
    // recurrent state would keep forever: start that state afresh instead.
    if (!stateFinite(this.h, this.hidden)) this.reset();
    quantizeVec(this.hq, this.h, this.hidden);
  }
  reset(): void {
    memory.fill(this.h, 0, <usize>(pad4(this.hidden) << 2));
    memory.fill(this.hq, 0, <usize>(this.hidden << 1));
  }
}

/** True when all n f32 at p are finite (x - x is 0 for finite x, NaN otherwise). */
function stateFinite(p: usize, n: i32): bool {
  let acc: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(p + <usize>(i << 2));
    acc += v - v;
  }
  return acc == 0;
}

let configured = false;
let ready = false;
let nFeat = 0, nBands = 0, dense = 0, k1 = 0, c1 = 0, k2 = 0, c2 = 0, hid = 0, nGru = 0, hidR = 0, hasVad = false;

let staging: usize = 0;
let stagingBytes = 0;
let loaded: StaticArray<u8> = new StaticArray<u8>(0);

// fc_in: int8 weights and scales arrive separately; f32 weights are built in modelReady.
let fcInW8: usize = 0, fcInScale: usize = 0, fcInW: usize = 0, fcInB: usize = 0;
let input: usize = 0, fcInOut: usize = 0;
let conv1: QLayer | null = null, conv2: QLayer | null = null;
let hist1: usize = 0, hist2: usize = 0, conv1Out: usize = 0, conv2Out: usize = 0;
let trunk: usize = 0, rIn: usize = 0, rOut: usize = 0;
let grus: StaticArray<GruLayer | null> = new StaticArray<GruLayer | null>(0);
let gruR: GruLayer | null = null;
let fcG: QLayer | null = null, fcR: QLayer | null = null, fcVad: QLayer | null = null;
let gains: usize = 0, strengths: usize = 0, vadOut: usize = 0;

function okWidth(v: i32): bool { return v >= 1 && v <= MAX_WIDTH; }

/**
 * Build the graph for a configuration (docs/FORMATS.md section 1) and
 * allocate all of its memory. Once per instance. Returns 0, -1 when already
 * configured, -2 when a value is out of range.
 */
export function modelConfigure(nFeatures: i32, bands: i32, denseW: i32, kernel1: i32, conv1Out_: i32,
  kernel2: i32, conv2Out_: i32, gru: i32, gruLayers: i32, gruR_: i32, vad: i32): i32 {
  if (configured) return -1;
  if (!okWidth(nFeatures) || !okWidth(bands) || !okWidth(denseW) || !okWidth(conv1Out_) || !okWidth(conv2Out_)
    || !okWidth(gru) || !okWidth(gruR_) || kernel1 < 1 || kernel1 > MAX_KERNEL || kernel2 < 1 || kernel2 > MAX_KERNEL
    || gruLayers < 1 || gruLayers > MAX_GRU_LAYERS) return -2;
  nFeat = nFeatures; nBands = bands; dense = denseW; k1 = kernel1; c1 = conv1Out_; k2 = kernel2; c2 = conv2Out_;
  hid = gru; nGru = gruLayers; hidR = gruR_; hasVad = vad != 0;

  input = allocAligned(pad16(nFeat) << 2);
  fcInW8 = allocAligned(dense * nFeat);
  fcInScale = allocAligned(dense << 2);
  fcInW = allocAligned(dense * pad4(nFeat) << 2);
  fcInB = allocAligned(dense << 2);
  fcInOut = allocAligned(pad4(dense) << 2);
  // int16 inputs get 16 spare elements: kernels read up to pad16(cols).
  hist1 = allocAligned((pad16(k1 * dense) + 16) << 1);
  conv1 = new QLayer(c1, k1 * dense);
  conv1Out = allocAligned(pad4(c1) << 2);
  hist2 = allocAligned((pad16(k2 * c1) + 16) << 1);
  conv2 = new QLayer(c2, k2 * c1);
  conv2Out = allocAligned(pad4(c2) << 2);

  const trunkLen = c2 + (nGru + 1) * hid;
  trunk = allocAligned((pad16(trunkLen) + 32) << 1);
  grus = new StaticArray<GruLayer | null>(nGru + 1);
  let inOff = 0, inCols = c2;
  for (let i = 0; i <= nGru; i++) {
    const outOff = c2 + i * hid;
    grus[i] = new GruLayer(inCols, hid, trunk + <usize>(inOff << 1), trunk + <usize>(outOff << 1));
    inOff = outOff;
    inCols = hid;
  }
  rIn = allocAligned((pad16(c2 + hid) + 16) << 1);
  rOut = allocAligned((pad16(hidR) + 16) << 1);
  gruR = new GruLayer(c2 + hid, hidR, rIn, rOut);
  fcG = new QLayer(nBands, trunkLen);
  fcR = new QLayer(nBands, hidR);
  if (hasVad) fcVad = new QLayer(1, hid);
  gains = allocAligned(pad4(nBands) << 2);
  strengths = allocAligned(pad4(nBands) << 2);
  vadOut = allocAligned(16);
  loaded = new StaticArray<u8>(modelLayerCount() << 3);
  configured = true;
  return 0;
}

/** Number of layers: fc_in, conv1, conv2, gru1..N, gru_g, gru_r, fc_g, fc_r, fc_vad. */
export function modelLayerCount(): i32 { return nGru + 8; }

/**
 * Staging area of at least `bytes` where the host copies one tensor before
 * `modelLoadTensor`. Reused while large enough; load time only.
 */
export function modelReserve(bytes: i32): usize {
  if (bytes > stagingBytes) {
    staging = allocAligned(bytes);
    stagingBytes = bytes;
  }
  return staging;
}

/**
 * Take the tensor `id = layer * 8 + kind` from the staging area. Layer
 * indices as in `modelLayerCount`; kinds: dense/conv 0 w, 1 w_scale, 2 b;
 * GRU 0 w_ih, 1 w_ih_scale, 2 b_ih, 3 w_hh, 4 w_hh_scale, 5 b_hh.
 * Returns 0, -1 not configured, -2 unknown id, -3 byte count mismatch.
 */
export function modelLoadTensor(id: i32, bytes: i32): i32 {
  if (!configured) return -1;
  const layer = id >> 3, kind = id & 7;
  if (id < 0 || layer >= modelLayerCount() || bytes < 0 || bytes > stagingBytes) return -2;
  let ok = false;
  if (layer == 0) {
    if (kind == 0 && bytes == dense * nFeat) { memory.copy(fcInW8, staging, <usize>bytes); ok = true; }
    else if (kind == 1 && bytes == dense << 2) { memory.copy(fcInScale, staging, <usize>bytes); ok = true; }
    else if (kind == 2 && bytes == dense << 2) { memory.copy(fcInB, staging, <usize>bytes); ok = true; }
    else if (kind > 2) return -2;
  } else if (layer == 1 || layer == 2 || layer >= nGru + 5) {
    if (kind > 2) return -2;
    const q = layer == 1 ? conv1 : layer == 2 ? conv2 : layer == nGru + 5 ? fcG : layer == nGru + 6 ? fcR : fcVad;
    if (q === null) return -2;
    ok = q.load(kind, staging, bytes);
  } else {
    if (kind > 5) return -2;
    const g = layer == nGru + 4 ? gruR : grus[layer - 3];
    ok = (kind < 3 ? g!.ih : g!.hh).load(kind % 3, staging, bytes);
  }
  if (!ok) return -3;
  loaded[id] = 1;
  return 0;
}

/** The int8 matrix of weight tensor `id` (kinds 0 and, for GRUs, 3), or null. */
function matrixOf(id: i32): QLayer | null {
  const layer = id >> 3, kind = id & 7;
  if (id < 0 || layer == 0 || layer >= modelLayerCount()) return null;
  if (layer == 1 || layer == 2 || layer >= nGru + 5) {
    if (kind != 0) return null;
    return layer == 1 ? conv1 : layer == 2 ? conv2 : layer == nGru + 5 ? fcG : layer == nGru + 6 ? fcR : fcVad;
  }
  const g = layer == nGru + 4 ? gruR : grus[layer - 3];
  return kind == 0 ? g!.ih : kind == 3 ? g!.hh : null;
}

/**
 * Make weight tensor `id` block-sparse: the staging area holds its block
 * index (`bytes` bytes, docs/FORMATS.md "Sparse matrices"). Must come
 * before that tensor's modelLoadTensor, which then takes the kept blocks.
 * Returns 0, -1 not configured, -2 not an int8 matrix of a sparse-capable
 * layer (fc_in stays dense), -3 weights already loaded, -4 bad index.
 */
export function modelLoadBlocks(id: i32, bytes: i32): i32 {
  if (!configured) return -1;
  if (bytes < 0 || bytes > stagingBytes) return -2;
  const q = matrixOf(id);
  if (q === null) return -2;
  if (loaded[id] != 0 || q.nBlocks >= 0) return -3;
  return q.loadBlocks(staging, bytes) ? 0 : -4;
}

function layerLoaded(layer: i32, count: i32): bool {
  for (let k = 0; k < count; k++) if (loaded[(layer << 3) + k] == 0) return false;
  return true;
}

/**
 * 1 when every tensor of the configuration has been loaded (then the graph
 * is finalised and the state reset), else 0.
 */
export function modelReady(): i32 {
  if (ready) return 1;
  if (!configured) return 0;
  for (let l = 0; l < modelLayerCount(); l++) {
    const isGru = l >= 3 && l <= nGru + 4;
    if (l == nGru + 7 && !hasVad) continue;
    if (!layerLoaded(l, isGru ? 6 : 3)) return 0;
  }
  const cp = pad4(nFeat);
  for (let r = 0; r < dense; r++) {
    const s = load<f32>(fcInScale + <usize>(r << 2));
    for (let c = 0; c < nFeat; c++) {
      const w = <f32>load<i8>(fcInW8 + <usize>(r * nFeat + c));
      store<f32>(fcInW + <usize>((r * cp + c) << 2), w * s);
    }
  }
  ready = true;
  modelReset();
  return 1;
}

/** Zero all recurrent state (conv histories, GRU states): the same as a fresh load. */
export function modelReset(): void {
  if (!configured) return;
  memory.fill(hist1, 0, <usize>(k1 * dense << 1));
  memory.fill(hist2, 0, <usize>(k2 * c1 << 1));
  for (let i = 0; i <= nGru; i++) grus[i]!.reset();
  gruR!.reset();
  memory.fill(input, 0, <usize>(pad16(nFeat) << 2));
}

/** The configured number of input features (0 before modelConfigure). */
export function modelFeatures(): i32 { return nFeat; }

/** Where the host writes the frame's nFeatures f32 features. */
export function modelInputPtr(): usize { return input; }

/** Run one frame. Returns 0, or -1 when the model is not ready. */
export function modelRun(): i32 {
  if (!ready) return -1;
  matvecF32(fcInOut, fcInW, fcInB, dense, nFeat, input);
  tanhVec(fcInOut, dense);
  // Conv inputs are the last k frames oldest first: shift one frame, append.
  const row1 = <usize>(dense << 1);
  memory.copy(hist1, hist1 + row1, <usize>(k1 - 1) * row1);
  quantizeVec(hist1 + <usize>(k1 - 1) * row1, fcInOut, dense);
  conv1!.run(conv1Out, hist1);
  tanhVec(conv1Out, c1);
  const row2 = <usize>(c1 << 1);
  memory.copy(hist2, hist2 + row2, <usize>(k2 - 1) * row2);
  quantizeVec(hist2 + <usize>(k2 - 1) * row2, conv1Out, c1);
  conv2!.run(conv2Out, hist2);
  tanhVec(conv2Out, c2);
  quantizeVec(trunk, conv2Out, c2);
  for (let i = 0; i <= nGru; i++) grus[i]!.step();
  const last = grus[nGru - 1]!;
  memory.copy(rIn, trunk, <usize>(c2 << 1));
  memory.copy(rIn + <usize>(c2 << 1), last.hq, <usize>(hid << 1));
  gruR!.step();
  fcG!.run(gains, trunk);
  sigmoidVec(gains, nBands);
  fcR!.run(strengths, rOut);
  sigmoidVec(strengths, nBands);
  if (hasVad) {
    fcVad!.run(vadOut, last.hq);
    sigmoidVec(vadOut, 1);
  }
  return 0;
}

/** nBands f32 gains in [0, 1] of the last run. */
export function modelGainsPtr(): usize { return gains; }
/** nBands f32 comb-filter strengths in [0, 1] of the last run. */
export function modelStrengthsPtr(): usize { return strengths; }
/** Voice-activity probability of the last run; 0 when the model has no VAD head. */
export function modelVad(): f32 { return hasVad ? load<f32>(vadOut) : 0; }
/** 1 when the model has a VAD head. */
export function modelHasVad(): i32 { return hasVad ? 1 : 0; }
/**
 * Number of int8 matrices that run the relaxed-SIMD kernels (7-bit weights
 * in the relaxed build); 0 in the other builds or for an 8-bit model.
 */
export function modelRelaxedMatrices(): i32 {
  if (!configured) return 0;
  let n = 0;
  if (conv1!.i7) n++;
  if (conv2!.i7) n++;
  for (let i = 0; i <= nGru; i++) {
    if (grus[i]!.ih.i7) n++;
    if (grus[i]!.hh.i7) n++;
  }
  if (gruR!.ih.i7) n++;
  if (gruR!.hh.i7) n++;
  if (fcG!.i7) n++;
  if (fcR!.i7) n++;
  if (hasVad && fcVad!.i7) n++;
  return n;
}

/** Number of bands (length of the gains and strengths vectors). */
export function modelBands(): i32 { return nBands; }

/**
 * f32 output of a layer after the last run (debugging and tests; exported by
 * the test build only): layer index as in `modelLoadTensor`; GRUs give their
 * state h.
 */
export function modelLayerOutPtr(layer: i32): usize {
  if (!configured || layer < 0 || layer >= modelLayerCount()) return 0;
  if (layer == 0) return fcInOut;
  if (layer == 1) return conv1Out;
  if (layer == 2) return conv2Out;
  if (layer <= nGru + 3) return grus[layer - 3]!.h;
  if (layer == nGru + 4) return gruR!.h;
  if (layer == nGru + 5) return gains;
  if (layer == nGru + 6) return strengths;
  return hasVad ? vadOut : 0;
}
