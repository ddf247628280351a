// Mixed-radix FFT. The 960-point real transform of PercepNet is computed as a
// 480-point complex transform of the even/odd samples packed into re/im, plus
// one post-processing pass. 480 = 4 * 4 * 2 * 3 * 5, so a Stockham
// (self-sorting) scheme with radix 2/3/4/5 stages needs no bit reversal.
// Every table is derived here at instantiation; nothing allocates per call.

export const FFT_N: i32 = 480; // complex size
export const REAL_N: i32 = 960; // real size
export const NBINS: i32 = 481; // REAL_N / 2 + 1

const NSTAGES: i32 = 5;
const RADIX: StaticArray<i32> = [4, 4, 2, 3, 5];
// Twiddle tables per stage: for p < m, u in 1..r-1, exp(-2 pi i p u / n_s).
const TW_OFF = new StaticArray<i32>(NSTAGES + 1);
const TW = new StaticArray<f32>(4 * FFT_N * 2);
// Post-processing twiddles for the real transform: exp(-2 pi i k / 960).
const RTW = new StaticArray<f32>(2 * NBINS);
const bufA = new StaticArray<f32>(2 * FFT_N);
const bufB = new StaticArray<f32>(2 * FFT_N);
// cos/sin of 2 pi j / r for the radix-3 and radix-5 butterflies.
const C3 = Mathf.cos(<f32>(2.0 * Math.PI / 3.0));
const S3 = Mathf.sin(<f32>(2.0 * Math.PI / 3.0));
const C51 = <f32>Math.cos(2.0 * Math.PI / 5.0);
const S51 = <f32>Math.sin(2.0 * Math.PI / 5.0);
const C52 = <f32>Math.cos(4.0 * Math.PI / 5.0);
const S52 = <f32>Math.sin(4.0 * Math.PI / 5.0);

function initTables(): void {
  let n = FFT_N;
  let off = 0;
  for (let s = 0; s < NSTAGES; s++) {
    const r = RADIX[s];
    const m = n / r;
    TW_OFF[s] = off;
    for (let p = 0; p < m; p++) {
      for (let u = 1; u < r; u++) {
        const a = -2.0 * Math.PI * <f64>(p * u) / <f64>n;
        TW[off++] = <f32>Math.cos(a);
        TW[off++] = <f32>Math.sin(a);
      }
    }
    n = m;
  }
  TW_OFF[NSTAGES] = off;
  for (let k = 0; k < NBINS; k++) {
    const a = -2.0 * Math.PI * <f64>k / <f64>REAL_N;
    RTW[2 * k] = <f32>Math.cos(a);
    RTW[2 * k + 1] = <f32>Math.sin(a);
  }
}
initTables();

// y[o + u*os] = b * twiddle (the twiddle at TW[t + 2(u-1)]): the last step of every butterfly.
// @ts-ignore: decorator
@inline function twiddleStore(y: StaticArray<f32>, at: i32, br: f32, bi: f32, t: i32): void {
  const wr = unchecked(TW[t]), wi = unchecked(TW[t + 1]);
  unchecked(y[at] = br * wr - bi * wi);
  unchecked(y[at + 1] = br * wi + bi * wr);
}

// One Stockham decimation-in-frequency stage: n-point sub-transforms of
// stride s, radix r, from x into y.
// @ts-ignore: decorator
@inline function stage(x: StaticArray<f32>, y: StaticArray<f32>, n: i32, s: i32, r: i32, tw: i32): void {
  const m = n / r;
  for (let p = 0; p < m; p++) {
    const t = tw + p * (r - 1) * 2;
    for (let q = 0; q < s; q++) {
      const i0 = (q + s * p) << 1;
      const sm = (s * m) << 1;
      const o = (q + s * r * p) << 1;
      const os = s << 1;
      if (r == 2) {
        const ar = unchecked(x[i0]), ai = unchecked(x[i0 + 1]);
        const br = unchecked(x[i0 + sm]), bi = unchecked(x[i0 + sm + 1]);
        unchecked(y[o] = ar + br); unchecked(y[o + 1] = ai + bi);
        twiddleStore(y, o + os, ar - br, ai - bi, t);
      } else if (r == 4) {
        const a0r = unchecked(x[i0]), a0i = unchecked(x[i0 + 1]);
        const a1r = unchecked(x[i0 + sm]), a1i = unchecked(x[i0 + sm + 1]);
        const a2r = unchecked(x[i0 + 2 * sm]), a2i = unchecked(x[i0 + 2 * sm + 1]);
        const a3r = unchecked(x[i0 + 3 * sm]), a3i = unchecked(x[i0 + 3 * sm + 1]);
        const s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
        const s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
        // forward: b1 = d02 - i d13, b3 = d02 + i d13
        const b1r = d02r + d13i, b1i = d02i - d13r;
        const b2r = s02r - s13r, b2i = s02i - s13i;
        const b3r = d02r - d13i, b3i = d02i + d13r;
        unchecked(y[o] = s02r + s13r); unchecked(y[o + 1] = s02i + s13i);
        twiddleStore(y, o + os, b1r, b1i, t);
        twiddleStore(y, o + 2 * os, b2r, b2i, t + 2);
        twiddleStore(y, o + 3 * os, b3r, b3i, t + 4);
      } else if (r == 3) {
        const a0r = unchecked(x[i0]), a0i = unchecked(x[i0 + 1]);
        const a1r = unchecked(x[i0 + sm]), a1i = unchecked(x[i0 + sm + 1]);
        const a2r = unchecked(x[i0 + 2 * sm]), a2i = unchecked(x[i0 + 2 * sm + 1]);
        const sr = a1r + a2r, si = a1i + a2i;
        const dr = a1r - a2r, di = a1i - a2i;
        const mr = a0r + C3 * sr, mi = a0i + C3 * si;
        // W3 = exp(-2 pi i / 3): b1 = m - i S3 d, b2 = m + i S3 d
        const b1r = mr + S3 * di, b1i = mi - S3 * dr;
        const b2r = mr - S3 * di, b2i = mi + S3 * dr;
        unchecked(y[o] = a0r + sr); unchecked(y[o + 1] = a0i + si);
        twiddleStore(y, o + os, b1r, b1i, t);
        twiddleStore(y, o + 2 * os, b2r, b2i, t + 2);
      } else {
        // radix 5
        const a0r = unchecked(x[i0]), a0i = unchecked(x[i0 + 1]);
        const a1r = unchecked(x[i0 + sm]), a1i = unchecked(x[i0 + sm + 1]);
        const a2r = unchecked(x[i0 + 2 * sm]), a2i = unchecked(x[i0 + 2 * sm + 1]);
        const a3r = unchecked(x[i0 + 3 * sm]), a3i = unchecked(x[i0 + 3 * sm + 1]);
        const a4r = unchecked(x[i0 + 4 * sm]), a4i = unchecked(x[i0 + 4 * sm + 1]);
        const s14r = a1r + a4r, s14i = a1i + a4i, d14r = a1r - a4r, d14i = a1i - a4i;
        const s23r = a2r + a3r, s23i = a2i + a3i, d23r = a2r - a3r, d23i = a2i - a3i;
        const m1r = a0r + C51 * s14r + C52 * s23r, m1i = a0i + C51 * s14i + C52 * s23i;
        const m2r = a0r + C52 * s14r + C51 * s23r, m2i = a0i + C52 * s14i + C51 * s23i;
        // imaginary parts: -i (S51 d14 + S52 d23) for u=1, -i (S52 d14 - S51 d23) for u=2
        const n1r = S51 * d14i + S52 * d23i, n1i = -(S51 * d14r + S52 * d23r);
        const n2r = S52 * d14i - S51 * d23i, n2i = -(S52 * d14r - S51 * d23r);
        unchecked(y[o] = a0r + s14r + s23r); unchecked(y[o + 1] = a0i + s14i + s23i);
        const b1r = m1r + n1r, b1i = m1i + n1i;
        const b4r = m1r - n1r, b4i = m1i - n1i;
        const b2r = m2r + n2r, b2i = m2i + n2i;
        const b3r = m2r - n2r, b3i = m2i - n2i;
        twiddleStore(y, o + os, b1r, b1i, t);
        twiddleStore(y, o + 2 * os, b2r, b2i, t + 2);
        twiddleStore(y, o + 3 * os, b3r, b3i, t + 4);
        twiddleStore(y, o + 4 * os, b4r, b4i, t + 6);
      }
    }
  }
}

/** In-place forward complex FFT (unscaled) of 480 interleaved re/im values. */
export function cfft(data: StaticArray<f32>): void {
  let x = data, y = bufB;
  let n = FFT_N, s = 1;
  for (let st = 0; st < NSTAGES; st++) {
    const r = unchecked(RADIX[st]);
    stage(x, y, n, s, r, unchecked(TW_OFF[st]));
    n /= r; s *= r;
    const t = x; x = y; y = t;
  }
  if (x !== data) memory.copy(changetype<usize>(data), changetype<usize>(x), <usize>(FFT_N * 8));
}

/**
 * Forward real FFT: 960 real samples -> 481 complex bins (interleaved re/im),
 * scaled by 1/960 so that band energies do not depend on the frame length.
 */
export function rfft(input: StaticArray<f32>, out: StaticArray<f32>): void {
  const z = bufA;
  memory.copy(changetype<usize>(z), changetype<usize>(input), <usize>(REAL_N * 4));
  cfft(z);
  const scale: f32 = 0.5 / <f32>REAL_N;
  for (let k = 0; k <= FFT_N; k++) {
    const k1 = k == FFT_N ? 0 : k;
    const k2 = k == 0 ? 0 : FFT_N - k;
    const zr = unchecked(z[2 * k1]), zi = unchecked(z[2 * k1 + 1]);
    const cr = unchecked(z[2 * k2]), ci = -unchecked(z[2 * k2 + 1]);
    const er = zr + cr, ei = zi + ci; // 2 E
    // 2 O = (Z - conj Z') / i
    const or = zi - ci, oi = -(zr - cr);
    const wr = unchecked(RTW[2 * k]), wi = unchecked(RTW[2 * k + 1]);
    unchecked(out[2 * k] = (er + or * wr - oi * wi) * scale);
    unchecked(out[2 * k + 1] = (ei + or * wi + oi * wr) * scale);
  }
}

/** Inverse of rfft: 481 bins -> 960 real samples (exact inverse of the scaling above). */
export function irfft(spec: StaticArray<f32>, out: StaticArray<f32>): void {
  const z = bufA;
  for (let k = 0; k < FFT_N; k++) {
    const xr = unchecked(spec[2 * k]), xi = unchecked(spec[2 * k + 1]);
    const yr = unchecked(spec[2 * (FFT_N - k)]), yi = -unchecked(spec[2 * (FFT_N - k) + 1]);
    const er = xr + yr, ei = xi + yi; // 2 E
    const dr = xr - yr, di = xi - yi; // 2 O W^k
    // O = d * conj(W^k)
    const wr = unchecked(RTW[2 * k]), wi = -unchecked(RTW[2 * k + 1]);
    const or = dr * wr - di * wi, oi = dr * wi + di * wr;
    // Z = E + i O, conjugated for the inverse-by-forward trick
    unchecked(z[2 * k] = er - oi);
    unchecked(z[2 * k + 1] = -(ei + or));
  }
  cfft(z);
  // conj back; 2E,2O carried a factor 2 and the forward scale 1/960 -> x = 960/480/2 * ...
  for (let n = 0; n < FFT_N; n++) {
    unchecked(out[2 * n] = unchecked(z[2 * n]));
    unchecked(out[2 * n + 1] = -unchecked(z[2 * n + 1]));
  }
}
