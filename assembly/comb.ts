// The pitch comb filter (reference section 4): p(n) = sum_k w_k y(n - kT),
// k = -M..M, Hann-shaped taps normalised to sum 1. Taps that would need
// samples beyond the available look-ahead are dropped and the rest
// renormalised; sigma^2 = sum w_k^2 is the fraction of white noise power that
// survives, computed from the taps actually used.
//
// The taps belong to the caller: a frame filters two windows with different
// taps (causal for the newest, look-ahead for the delayed one), and each
// filter call names the taps it uses rather than relying on call order.
import { REAL_N } from "./fft";
import { axpy } from "./vec";

export const COMB_M: i32 = 5;
export const COMB_NTAPS: i32 = 2 * COMB_M + 1;
const HANN = new StaticArray<f32>(COMB_NTAPS);
for (let k = -COMB_M; k <= COMB_M; k++) {
  HANN[k + COMB_M] = <f32>(0.5 + 0.5 * Math.cos(Math.PI * <f64>k / <f64>(COMB_M + 1)));
}

/**
 * Write into `taps` (COMB_NTAPS, k = -M..M) the taps for period T when only
 * `future` samples exist after the window's last sample (0 = causal).
 * Returns sigma^2.
 */
export function combTaps(T: i32, future: i32, taps: StaticArray<f32>): f32 {
  let sum: f32 = 0;
  for (let k = -COMB_M; k <= COMB_M; k++) {
    const use = k >= 0 || (-k) * T <= future;
    const w = use ? unchecked(HANN[k + COMB_M]) : <f32>0;
    unchecked(taps[k + COMB_M] = w);
    sum += w;
  }
  let s2: f32 = 0;
  for (let i = 0; i < COMB_NTAPS; i++) {
    const w = unchecked(taps[i]) / sum;
    unchecked(taps[i] = w);
    s2 += w * w;
  }
  return s2;
}

/** p(n) = sum_k w_k x(start + n - kT) for n < 960, w = `taps` from combTaps for the same T. */
export function combFilter(x: StaticArray<f32>, start: i32, T: i32, taps: StaticArray<f32>, out: StaticArray<f32>): void {
  for (let n = 0; n < REAL_N; n++) unchecked(out[n] = 0);
  for (let k = -COMB_M; k <= COMB_M; k++) {
    const w = unchecked(taps[k + COMB_M]);
    if (w == 0) continue;
    axpy(w, x, start - k * T, out, 0, REAL_N);
  }
}
