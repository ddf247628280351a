/**
 * Neural-network kernels: int8 matrix x int16 activation vector, f32 matrix x
 * f32 vector, and vectorised tanh / sigmoid / quantisation.
 *
 * Every kernel has a SIMD path and a scalar path (`ASC_FEATURE_SIMD` false,
 * the asconfig `scalar` target). The scalar path performs, per output
 * element, exactly the same sequence of IEEE operations as the SIMD lane that
 * computes it, so both builds give bit-identical outputs (integer sums are
 * exact in any order; float sums keep the 4-lane partial-sum order).
 *
 * Quantisation (docs/ENGINE.md): weights are int8 with a per-row f32 scale;
 * activations entering an int8 layer are bounded to [-1, 1] and stored as
 * int16 `q = round(127 x)`, so an accumulation is
 * `sum_j w_j q_j` with |w_j q_j| <= 127 * 127 and the float result is
 * `acc * (w_scale / 127) + bias`.
 */

/** Activation quantisation step: q = round(ACT_ONE * x). */
export const ACT_ONE: f32 = 127.0;

/** Round up to a multiple of 16 (int8 matrix columns, one v128 of weights). */
// @ts-ignore: decorator
@inline export function pad16(n: i32): i32 { return (n + 15) & ~15; }

/** Round up to a multiple of 4 (matrix rows per block, f32 lanes). */
// @ts-ignore: decorator
@inline export function pad4(n: i32): i32 { return (n + 3) & ~3; }

/**
 * Allocate zeroed, 16-byte aligned memory. Load time only: the stub runtime
 * never frees, so per-frame code must not call this.
 */
export function allocAligned(bytes: i32): usize {
  const raw = heap.alloc(<usize>bytes + 16);
  const p = (raw + 15) & ~(<usize>15);
  memory.fill(p, 0, <usize>bytes);
  return p;
}

/** Bytes of a packed int8 matrix of `rows x cols` (padded to 4 x 16). */
export function packedBytes(rows: i32, cols: i32): i32 {
  return pad4(rows) * pad16(cols);
}

/**
 * Repack a row-major int8 matrix `src[rows, cols]` into the kernel layout:
 * blocks of 4 rows, and inside a block, for each 16-column chunk, the 16
 * bytes of row 0, 1, 2, 3. The kernel then streams the weights strictly
 * sequentially. Padding rows/columns are zero, so a kernel that reads a few
 * activations past the end of its input multiplies them by 0.
 */
export function packI8(dst: usize, src: usize, rows: i32, cols: i32): void {
  const cp = pad16(cols);
  const rp = pad4(rows);
  memory.fill(dst, 0, <usize>(rp * cp));
  for (let r = 0; r < rows; r++) {
    const block = dst + <usize>((r >> 2) * 4 * cp) + <usize>((r & 3) << 4);
    for (let c = 0; c < cols; c++) {
      const at = block + <usize>((c >> 4) << 6) + <usize>(c & 15);
      store<i8>(at, load<i8>(src + <usize>(r * cols + c)));
    }
  }
}

/**
 * out[r] = f32(sum_c W[r, c] * x[c]) * scale[r] + bias[r] for r < pad4(rows).
 * `w` is packed by `packI8`, `x` is int16 with at least pad16(cols) readable
 * elements, `scale` and `bias` have pad4(rows) entries, `out` too.
 * With `scale == 0` it stores the raw i32 sums instead (tests, benchmarks).
 */
export function matvecI8(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize): void {
  const rp = pad4(rows);
  const chunks = pad16(cols) >> 4;
  let wp = w;
  for (let r = 0; r < rp; r += 4) {
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let xp = x;
      for (let c = 0; c < chunks; c++) {
        const xl = v128.load(xp);
        const xh = v128.load(xp, 16);
        // load8x8_s sign-extends 8 weights to int16 as part of the load (one pmovsxbw on x86).
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 8), xh)));
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 16), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 24), xh)));
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 32), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 40), xh)));
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 48), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 56), xh)));
        xp += 32;
        wp += 64;
      }
      s0 = hsumI32(a0); s1 = hsumI32(a1); s2 = hsumI32(a2); s3 = hsumI32(a3);
    } else {
      let xp = x;
      for (let c = 0; c < chunks; c++) {
        for (let j = 0; j < 16; j++) {
          const xv = <i32>load<i16>(xp + <usize>(j << 1));
          s0 += <i32>load<i8>(wp + <usize>j) * xv;
          s1 += <i32>load<i8>(wp + <usize>(16 + j)) * xv;
          s2 += <i32>load<i8>(wp + <usize>(32 + j)) * xv;
          s3 += <i32>load<i8>(wp + <usize>(48 + j)) * xv;
        }
        xp += 32;
        wp += 64;
      }
    }
    storeRows4(out, <usize>(r << 2), scale, bias, s0, s1, s2, s3);
  }
}

/**
 * The int8 kernels' epilogue for rows r..r+3 (`o` = r * 4 bytes): the exact
 * integer sums as i32 when `scale == 0`, else sum * scale + bias as f32.
 */
// @ts-ignore: decorator
@inline function storeRows4(out: usize, o: usize, scale: usize, bias: usize, s0: i32, s1: i32, s2: i32, s3: i32): void {
  if (scale == 0) {
    store<i32>(out + o, s0); store<i32>(out + o, s1, 4);
    store<i32>(out + o, s2, 8); store<i32>(out + o, s3, 12);
    return;
  }
  store<f32>(out + o, <f32>s0 * load<f32>(scale + o) + load<f32>(bias + o));
  store<f32>(out + o, <f32>s1 * load<f32>(scale + o, 4) + load<f32>(bias + o, 4), 4);
  store<f32>(out + o, <f32>s2 * load<f32>(scale + o, 8) + load<f32>(bias + o, 8), 8);
  store<f32>(out + o, <f32>s3 * load<f32>(scale + o, 12) + load<f32>(bias + o, 12), 12);
}

// @ts-ignore: decorator
@inline function hsumI32(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

/**
 * out[r] = sum_c W[r, c] * x[c] + bias[r] for r < rows, float32.
 * `w` is row-major `[rows, pad4(cols)]` with zero padding, `x` has pad4(cols)
 * readable entries (padding zero or finite).
 */
export function matvecF32(out: usize, w: usize, bias: usize, rows: i32, cols: i32, x: usize): void {
  const cp = pad4(cols);
  let wp = w;
  for (let r = 0; r < rows; r++) {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let a = f32x4.splat(0);
      for (let c = 0; c < cp; c += 4) {
        a = f32x4.add(a, f32x4.mul(v128.load(wp), v128.load(x + <usize>(c << 2))));
        wp += 16;
      }
      s0 = f32x4.extract_lane(a, 0); s1 = f32x4.extract_lane(a, 1);
      s2 = f32x4.extract_lane(a, 2); s3 = f32x4.extract_lane(a, 3);
    } else {
      for (let c = 0; c < cp; c += 4) {
        const xp = x + <usize>(c << 2);
        s0 = s0 + load<f32>(wp) * load<f32>(xp);
        s1 = s1 + load<f32>(wp, 4) * load<f32>(xp, 4);
        s2 = s2 + load<f32>(wp, 8) * load<f32>(xp, 8);
        s3 = s3 + load<f32>(wp, 12) * load<f32>(xp, 12);
        wp += 16;
      }
    }
    store<f32>(out + <usize>(r << 2), ((s0 + s1) + (s2 + s3)) + load<f32>(bias + <usize>(r << 2)));
  }
}

// Padé [7/6] approximant of tanh (from its continued fraction). In f32 with
// the input clamped to +-5 and the output to +-1 its max |error| is about
// 1e-4 (measured over a dense grid in tests/nnet.test.ts), below 1/78 of one
// activation quantisation step (1/127).
const TN0: f32 = 135135.0, TN1: f32 = 17325.0, TN2: f32 = 378.0;
const TD1: f32 = 62370.0, TD2: f32 = 3150.0, TD3: f32 = 28.0;
const TCLAMP: f32 = 5.0;

/** Fast tanh (scalar); identical per element to the SIMD lane version. */
// @ts-ignore: decorator
@inline export function tanhf(v: f32): f32 {
  const x = min(max(v, -TCLAMP), TCLAMP);
  const x2 = x * x;
  const n = x * (TN0 + x2 * (TN1 + x2 * (TN2 + x2)));
  const d = TN0 + x2 * (TD1 + x2 * (TD2 + x2 * TD3));
  return min(max(n / d, <f32>-1.0), <f32>1.0);
}

/** Fast sigmoid = (1 + tanh(x/2)) / 2, same error bound halved. */
// @ts-ignore: decorator
@inline export function sigmoidf(v: f32): f32 {
  return <f32>0.5 + <f32>0.5 * tanhf(<f32>0.5 * v);
}

// @ts-ignore: decorator
@inline function tanh4(v: v128): v128 {
  const x = f32x4.min(f32x4.max(v, f32x4.splat(-TCLAMP)), f32x4.splat(TCLAMP));
  const x2 = f32x4.mul(x, x);
  const n = f32x4.mul(x, f32x4.add(f32x4.splat(TN0), f32x4.mul(x2, f32x4.add(f32x4.splat(TN1), f32x4.mul(x2, f32x4.add(f32x4.splat(TN2), x2))))));
  const d = f32x4.add(f32x4.splat(TN0), f32x4.mul(x2, f32x4.add(f32x4.splat(TD1), f32x4.mul(x2, f32x4.add(f32x4.splat(TD2), f32x4.mul(x2, f32x4.splat(TD3)))))));
  return f32x4.min(f32x4.max(f32x4.div(n, d), f32x4.splat(-1.0)), f32x4.splat(1.0));
}

// @ts-ignore: decorator
@inline function sigmoid4(v: v128): v128 {
  const h = f32x4.splat(0.5);
  return f32x4.add(h, f32x4.mul(h, tanh4(f32x4.mul(h, v))));
}

/** In-place tanh over n f32 (never touches element n or later). */
export function tanhVec(p: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const a = p + <usize>(i << 2);
      v128.store(a, tanh4(v128.load(a)));
    }
  }
  for (; i < n; i++) {
    const a = p + <usize>(i << 2);
    store<f32>(a, tanhf(load<f32>(a)));
  }
}

/** In-place sigmoid over n f32. */
export function sigmoidVec(p: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const a = p + <usize>(i << 2);
      v128.store(a, sigmoid4(v128.load(a)));
    }
  }
  for (; i < n; i++) {
    const a = p + <usize>(i << 2);
    store<f32>(a, sigmoidf(load<f32>(a)));
  }
}

/** Quantise one activation: round-half-even(127 x) clamped to +-127; NaN -> 0. */
// @ts-ignore: decorator
@inline export function quantizef(x: f32): i32 {
  const v = nearest<f32>(x * ACT_ONE);
  if (v != v) return 0;
  return <i32>min(max(v, -ACT_ONE), ACT_ONE);
}

/** dst[i] = quantizef(src[i]) as int16, i < n (writes nothing past n). */
export function quantizeVec(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const k = f32x4.splat(ACT_ONE);
    const lo = i32x4.splat(-127), hi = i32x4.splat(127);
    for (; i + 8 <= n; i += 8) {
      const s = src + <usize>(i << 2);
      const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(s), k)));
      const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(s, 16), k)));
      const qa = i32x4.min_s(i32x4.max_s(a, lo), hi);
      const qb = i32x4.min_s(i32x4.max_s(b, lo), hi);
      v128.store(dst + <usize>(i << 1), i16x8.narrow_i32x4_s(qa, qb));
    }
  }
  for (; i < n; i++) {
    store<i16>(dst + <usize>(i << 1), <i16>quantizef(load<f32>(src + <usize>(i << 2))));
  }
}

/**
 * One GRU step in PyTorch form (gate rows r, z, n):
 * r = sig(gi_r + gh_r), z = sig(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
 * h = (1 - z) n + z h. `gi`, `gh` hold the 3H pre-activations (biases
 * included), `h` the float state (updated in place).
 */
export function gruUpdate(h: usize, gi: usize, gh: usize, hidden: i32): void {
  const hb = <usize>(hidden << 2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    for (; i + 4 <= hidden; i += 4) {
      const o = <usize>(i << 2);
      const r = sigmoid4(f32x4.add(v128.load(gi + o), v128.load(gh + o)));
      const z = sigmoid4(f32x4.add(v128.load(gi + hb + o), v128.load(gh + hb + o)));
      const n = tanh4(f32x4.add(v128.load(gi + 2 * hb + o), f32x4.mul(r, v128.load(gh + 2 * hb + o))));
      const hv = v128.load(h + o);
      v128.store(h + o, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, hv)));
    }
  }
  for (; i < hidden; i++) {
    const o = <usize>(i << 2);
    const r = sigmoidf(load<f32>(gi + o) + load<f32>(gh + o));
    const z = sigmoidf(load<f32>(gi + hb + o) + load<f32>(gh + hb + o));
    const n = tanhf(load<f32>(gi + 2 * hb + o) + r * load<f32>(gh + 2 * hb + o));
    store<f32>(h + o, (<f32>1.0 - z) * n + z * load<f32>(h + o));
  }
}

/**
 * Block-sparse int8 matrices (docs/FORMATS.md section 3, "Sparse matrices").
 * A block is SPARSE_ROWS x SPARSE_COLS weights; per block row (4 output
 * rows) only the nonzero blocks are kept. 4 rows match the dense kernel's
 * row grouping (same pad4 outputs, same epilogue), and a 4 x 16 block is
 * byte for byte one column chunk of packI8's layout, so each kept block
 * costs the dense kernel's inner step plus one index load. 4x16 was
 * measured against 4x8 (one v128 of activations per block) on a 1536 x 512
 * GRU matrix and was as fast or faster at every density 1.0 .. 0.1
 * (docs/ENGINE.md "Sparse matrices"): the finer 4x8 pays one index load
 * per 4 dot products instead of per 8.
 */
export const SPARSE_ROWS = 4;
export const SPARSE_COLS = 16;

/**
 * out[r] = f32(sum over the row's blocks) * scale[r] + bias[r] for r < pad4(rows).
 * `counts` holds one i32 per block row (pad4(rows) / 4); `offs` one i32 per
 * kept block: the byte offset of its first activation (column block * 32),
 * so the loop does no multiply; `w` the blocks in the same order, 64 bytes
 * each (row-major 4 x 16, as packI8 lays out a chunk). The caller
 * guarantees offset + 32 <= the readable bytes of `x` for every block
 * (model.ts checks the index once at load). `scale == 0`: raw i32 sums.
 * Integer sums are exact, so a fully dense pattern gives matvecI8's bits.
 */
export function matvecSparseI8(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, x: usize): void {
  const rp = pad4(rows);
  let wp = w;
  let op = offs;
  for (let r = 0; r < rp; r += 4) {
    const n = load<i32>(counts + <usize>r);
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k = 0; k < n; k++) {
        const xp = x + <usize>load<i32>(op);
        const xl = v128.load(xp);
        const xh = v128.load(xp, 16);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 8), xh)));
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 16), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 24), xh)));
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 32), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 40), xh)));
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(wp, 48), xl), i32x4.dot_i16x8_s(v128.load8x8_s(wp, 56), xh)));
        op += 4;
        wp += 64;
      }
      s0 = hsumI32(a0); s1 = hsumI32(a1); s2 = hsumI32(a2); s3 = hsumI32(a3);
    } else {
      for (let k = 0; k < n; k++) {
        const xp = x + <usize>load<i32>(op);
        for (let j = 0; j < 16; j++) {
          const xv = <i32>load<i16>(xp + <usize>(j << 1));
          s0 += <i32>load<i8>(wp + <usize>j) * xv;
          s1 += <i32>load<i8>(wp + <usize>(16 + j)) * xv;
          s2 += <i32>load<i8>(wp + <usize>(32 + j)) * xv;
          s3 += <i32>load<i8>(wp + <usize>(48 + j)) * xv;
        }
        op += 4;
        wp += 64;
      }
    }
    storeRows4(out, <usize>(r << 2), scale, bias, s0, s1, s2, s3);
  }
}

/**
 * Relaxed-SIMD int8 kernels (the `relaxed` build, docs/ENGINE.md "Relaxed
 * SIMD"). `i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c)` multiplies signed
 * int8 `a` by `b` and adds groups of 4 products to `c`; it is deterministic
 * only when every byte of `b` is in [0, 127]. Activations q in [-127, 127]
 * fit `a` exactly; a matrix runs here only when all its weights are 7-bit
 * (in [-64, 63]), stored offset by W7_OFFSET as u8 in [0, 127], so
 *   sum_j q_j (w_j + 64) - 64 sum_j q_j = sum_j q_j w_j,
 * the same exact integer sum as matvecI8 on the same weights: both builds
 * give the same bits. Per pair of products |q (w + 64)| <= 2 * 127 * 127 =
 * 32258 < 2^15, so x86's pmaddubsw lowering never saturates. The correction
 * `64 sum q` is taken over the padded width (padding weights are stored as
 * 64, i.e. weight 0), so activations past the end of the input cancel.
 */
export const W7_OFFSET: i32 = 64;
/** Range of a 7-bit weight. */
export const W7_MIN: i32 = -64;
export const W7_MAX: i32 = 63;

/** True when all `n` int8 at `src` are in [W7_MIN, W7_MAX]. */
export function fitsI7(src: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const v = <i32>load<i8>(src + <usize>i);
    if (v < W7_MIN || v > W7_MAX) return false;
  }
  return true;
}

/**
 * packI8's layout with every weight stored as u8 `w + W7_OFFSET` (padding
 * too, so padding weighs 0 after the correction). The caller checks fitsI7.
 */
export function packI7(dst: usize, src: usize, rows: i32, cols: i32): void {
  const cp = pad16(cols);
  const rp = pad4(rows);
  memory.fill(dst, <u8>W7_OFFSET, <usize>(rp * cp));
  for (let r = 0; r < rows; r++) {
    const block = dst + <usize>((r >> 2) * 4 * cp) + <usize>((r & 3) << 4);
    for (let c = 0; c < cols; c++) {
      const at = block + <usize>((c >> 4) << 6) + <usize>(c & 15);
      store<u8>(at, <u8>(<i32>load<i8>(src + <usize>(r * cols + c)) + W7_OFFSET));
    }
  }
}

/** Add W7_OFFSET to `n` int8 weights in place (kept sparse blocks). */
export function offsetI7(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>(<i32>load<i8>(p + <usize>i) + W7_OFFSET));
}

/**
 * Narrow `chunks` x 16 int16 activations at `x` (all in [-127, 127]) to
 * int8 at `x8`; store each 16-column chunk's sum at `sums` (i32 per chunk)
 * unless `sums` is 0. Returns the sum of all of them.
 */
export function prepI7(x8: usize, sums: usize, x: usize, chunks: i32): i32 {
  let total = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = i32x4.splat(0);
    for (let c = 0; c < chunks; c++) {
      const xp = x + <usize>(c << 5);
      const xl = v128.load(xp);
      const xh = v128.load(xp, 16);
      v128.store(x8 + <usize>(c << 4), i8x16.narrow_i16x8_s(xl, xh));
      const s = i32x4.add(i32x4.extadd_pairwise_i16x8_s(xl), i32x4.extadd_pairwise_i16x8_s(xh));
      if (sums != 0) store<i32>(sums + <usize>(c << 2), hsumI32(s));
      acc = i32x4.add(acc, s);
    }
    total = hsumI32(acc);
  } else {
    for (let c = 0; c < chunks; c++) {
      let s = 0;
      for (let j = 0; j < 16; j++) {
        const v = <i32>load<i16>(x + <usize>((c << 5) + (j << 1)));
        store<i8>(x8 + <usize>((c << 4) + j), <i8>v);
        s += v;
      }
      if (sums != 0) store<i32>(sums + <usize>(c << 2), s);
      total += s;
    }
  }
  return total;
}

/**
 * matvecI8 on a packI7 matrix: `x8` is prepI7's int8 copy of the input
 * (pad16(cols) bytes) and `xsum` its sum over pad16(cols).
 */
export function matvecI7(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x8: usize, xsum: i32): void {
  const rp = pad4(rows);
  const chunks = pad16(cols) >> 4;
  const corr = xsum * W7_OFFSET;
  let wp = w;
  for (let r = 0; r < rp; r += 4) {
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
    if (ASC_FEATURE_RELAXED_SIMD) {
      // Two chunks per step into two sets of accumulators: twice the
      // independent dot products in flight (integer sums: same result).
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      let xp = x8;
      let c = 0;
      for (; c + 2 <= chunks; c += 2) {
        const xv = v128.load(xp);
        const xw = v128.load(xp, 16);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp), a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 16), a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 32), a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 48), a3);
        b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 64), b0);
        b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 80), b1);
        b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 96), b2);
        b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 112), b3);
        xp += 32;
        wp += 128;
      }
      if (c < chunks) {
        const xv = v128.load(xp);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp), a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 16), a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 32), a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 48), a3);
        wp += 64;
      }
      s0 = hsumI32(i32x4.add(a0, b0)); s1 = hsumI32(i32x4.add(a1, b1)); s2 = hsumI32(i32x4.add(a2, b2)); s3 = hsumI32(i32x4.add(a3, b3));
    } else {
      let xp = x8;
      for (let c = 0; c < chunks; c++) {
        for (let j = 0; j < 16; j++) {
          const xv = <i32>load<i8>(xp + <usize>j);
          s0 += <i32>load<u8>(wp + <usize>j) * xv;
          s1 += <i32>load<u8>(wp + <usize>(16 + j)) * xv;
          s2 += <i32>load<u8>(wp + <usize>(32 + j)) * xv;
          s3 += <i32>load<u8>(wp + <usize>(48 + j)) * xv;
        }
        xp += 16;
        wp += 64;
      }
    }
    storeRows4(out, <usize>(r << 2), scale, bias, s0 - corr, s1 - corr, s2 - corr, s3 - corr);
  }
}

/**
 * matvecSparseI8 on 7-bit blocks (offsetI7 applied): `offs` as there (the
 * int16 layout's column block x 32), so the block reads x8 + off / 2 and
 * its chunk sum at sums + off / 8; `x8` and `sums` come from prepI7.
 */
export function matvecSparseI7(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, x8: usize, sums: usize): void {
  const rp = pad4(rows);
  let wp = w;
  let op = offs;
  for (let r = 0; r < rp; r += 4) {
    const n = load<i32>(counts + <usize>r);
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0, xs: i32 = 0;
    if (ASC_FEATURE_RELAXED_SIMD) {
      // Two blocks per step into two sets of accumulators, as matvecI7.
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      let k = 0;
      for (; k + 2 <= n; k += 2) {
        const off = <usize>load<i32>(op);
        const off2 = <usize>load<i32>(op, 4);
        xs += load<i32>(sums + (off >> 3)) + load<i32>(sums + (off2 >> 3));
        const xv = v128.load(x8 + (off >> 1));
        const xw = v128.load(x8 + (off2 >> 1));
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp), a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 16), a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 32), a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 48), a3);
        b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 64), b0);
        b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 80), b1);
        b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 96), b2);
        b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xw, v128.load(wp, 112), b3);
        op += 8;
        wp += 128;
      }
      if (k < n) {
        const off = <usize>load<i32>(op);
        xs += load<i32>(sums + (off >> 3));
        const xv = v128.load(x8 + (off >> 1));
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp), a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 16), a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 32), a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(xv, v128.load(wp, 48), a3);
        op += 4;
        wp += 64;
      }
      s0 = hsumI32(i32x4.add(a0, b0)); s1 = hsumI32(i32x4.add(a1, b1)); s2 = hsumI32(i32x4.add(a2, b2)); s3 = hsumI32(i32x4.add(a3, b3));
    } else {
      for (let k = 0; k < n; k++) {
        const off = <usize>load<i32>(op);
        xs += load<i32>(sums + (off >> 3));
        const xp = x8 + (off >> 1);
        for (let j = 0; j < 16; j++) {
          const xv = <i32>load<i8>(xp + <usize>j);
          s0 += <i32>load<u8>(wp + <usize>j) * xv;
          s1 += <i32>load<u8>(wp + <usize>(16 + j)) * xv;
          s2 += <i32>load<u8>(wp + <usize>(32 + j)) * xv;
          s3 += <i32>load<u8>(wp + <usize>(48 + j)) * xv;
        }
        op += 4;
        wp += 64;
      }
    }
    const corr = xs * W7_OFFSET;
    storeRows4(out, <usize>(r << 2), scale, bias, s0 - corr, s1 - corr, s2 - corr, s3 - corr);
  }
}
