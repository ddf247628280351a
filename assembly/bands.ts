// The 34 triangular ERB-like bands of PercepNet (reference section 2). Each
// bin up to the last centre lies between two centres and splits its weight
// between those two triangles, so the weights sum to 1 at every bin; bins
// above the last centre (20 kHz) belong wholly to the last band.
import { NBINS } from "./fft";

export const NB_BANDS: i32 = 34;
/** Band centres in 50 Hz FFT bins. */
export const BAND_CENTER: StaticArray<i32> = [
  0, 2, 4, 6, 8, 10, 12, 15, 18, 21, 24, 28, 32, 36, 41, 47, 53, 60, 68, 77,
  87, 98, 110, 124, 140, 157, 176, 198, 223, 251, 282, 317, 356, 400,
];

// Per-bin lower band index and the weight of the upper band: bin k contributes
// (1 - frac) to band lo and frac to band lo + 1 (derived, not typed in).
export const BIN_BAND = new StaticArray<i32>(NBINS);
export const BIN_FRAC = new StaticArray<f32>(NBINS);
for (let b = 0; b < NB_BANDS - 1; b++) {
  const c0 = BAND_CENTER[b], c1 = BAND_CENTER[b + 1];
  for (let k = c0; k < c1; k++) {
    BIN_BAND[k] = b;
    BIN_FRAC[k] = <f32>(k - c0) / <f32>(c1 - c0);
  }
}
for (let k = BAND_CENTER[NB_BANDS - 1]; k < NBINS; k++) {
  BIN_BAND[k] = NB_BANDS - 1;
  BIN_FRAC[k] = 0;
}

/** E_b = sum_k w_b(k) |X(k)|^2. */
export function bandEnergy(X: StaticArray<f32>, E: StaticArray<f32>): void {
  for (let b = 0; b < NB_BANDS; b++) unchecked(E[b] = 0);
  for (let k = 0; k < NBINS; k++) {
    const p = unchecked(X[2 * k]) * unchecked(X[2 * k]) + unchecked(X[2 * k + 1]) * unchecked(X[2 * k + 1]);
    const b = unchecked(BIN_BAND[k]);
    const f = unchecked(BIN_FRAC[k]);
    unchecked(E[b] += (<f32>1 - f) * p);
    if (f > 0) unchecked(E[b + 1] += f * p);
  }
}

/** C_b = sum_k w_b(k) Re{X(k) P*(k)}. */
export function bandCorr(X: StaticArray<f32>, P: StaticArray<f32>, C: StaticArray<f32>): void {
  for (let b = 0; b < NB_BANDS; b++) unchecked(C[b] = 0);
  for (let k = 0; k < NBINS; k++) {
    const p = unchecked(X[2 * k]) * unchecked(P[2 * k]) + unchecked(X[2 * k + 1]) * unchecked(P[2 * k + 1]);
    const b = unchecked(BIN_BAND[k]);
    const f = unchecked(BIN_FRAC[k]);
    unchecked(C[b] += (<f32>1 - f) * p);
    if (f > 0) unchecked(C[b + 1] += f * p);
  }
}

/** Linear interpolation of per-band values back to the 481 bins through the same triangles. */
export function interpBands(g: StaticArray<f32>, out: StaticArray<f32>): void {
  for (let k = 0; k < NBINS; k++) {
    const b = unchecked(BIN_BAND[k]);
    const f = unchecked(BIN_FRAC[k]);
    let v: f32 = (<f32>1 - f) * unchecked(g[b]);
    if (f > 0) v += f * unchecked(g[b + 1]);
    unchecked(out[k] = v);
  }
}
