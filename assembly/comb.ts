// The pitch comb filter (reference section 4): p(n) = sum_k w_k y(n - kT),
// k = -M..M, Hann-shaped taps normalised to sum 1. Taps that would need
// samples beyond the available look-ahead are dropped and the rest
// renormalised; sigma^2 = sum w_k^2 is the fraction of white noise power that
// survives, computed from the taps actually used.
import { REAL_N } from "./fft";
import { axpy } from "./vec";

export const COMB_M: i32 = 5;
export const COMB_TAPS = new StaticArray<f32>(2 * COMB_M + 1);
const HANN = new StaticArray<f32>(2 * COMB_M + 1);
for (let k = -COMB_M; k <= COMB_M; k++) {
  HANN[k + COMB_M] = <f32>(0.5 + 0.5 * Math.cos(Math.PI * <f64>k / <f64>(COMB_M + 1)));
}

/**
 * Fill COMB_TAPS for period T when only `future` samples exist after the
 * window's last sample (0 = causal). Returns sigma^2.
 */
export function combTaps(T: i32, future: i32): f32 {
  let sum: f32 = 0;
  for (let k = -COMB_M; k <= COMB_M; k++) {
    const use = k >= 0 || (-k) * T <= future;
    const w = use ? unchecked(HANN[k + COMB_M]) : <f32>0;
    unchecked(COMB_TAPS[k + COMB_M] = w);
    sum += w;
  }
  let s2: f32 = 0;
  for (let i = 0; i < 2 * COMB_M + 1; i++) {
    const w = unchecked(COMB_TAPS[i]) / sum;
    unchecked(COMB_TAPS[i] = w);
    s2 += w * w;
  }
  return s2;
}

/** p(n) = sum_k w_k x(start + n - kT) for n < 960, with the taps of the last combTaps call. */
export function combFilter(x: StaticArray<f32>, start: i32, T: i32, out: StaticArray<f32>): void {
  for (let n = 0; n < REAL_N; n++) unchecked(out[n] = 0);
  for (let k = -COMB_M; k <= COMB_M; k++) {
    const w = unchecked(COMB_TAPS[k + COMB_M]);
    if (w == 0) continue;
    axpy(w, x, start - k * T, out, 0, REAL_N);
  }
}
