// Small vector helpers shared by the DSP blocks (f32x4 where SIMD is enabled).

/** sum_i a[ao + i] * b[bo + i] for i < n. */
export function dot(a: StaticArray<f32>, ao: i32, b: StaticArray<f32>, bo: i32, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const pa = changetype<usize>(a) + (<usize>ao << 2);
    const pb = changetype<usize>(b) + (<usize>bo << 2);
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pa + o), v128.load(pb + o)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pa + o + 16), v128.load(pb + o + 16)));
    }
    const acc = f32x4.add(acc0, acc1);
    s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) s += unchecked(a[ao + i]) * unchecked(b[bo + i]);
  return s;
}

/** y[yo + i] += w * x[xo + i] for i < n. */
export function axpy(w: f32, x: StaticArray<f32>, xo: i32, y: StaticArray<f32>, yo: i32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const px = changetype<usize>(x) + (<usize>xo << 2);
    const py = changetype<usize>(y) + (<usize>yo << 2);
    const vw = f32x4.splat(w);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(py + o, f32x4.add(v128.load(py + o), f32x4.mul(vw, v128.load(px + o))));
    }
  }
  for (; i < n; i++) unchecked(y[yo + i] += w * unchecked(x[xo + i]));
}
