// Analysis/synthesis with the power-complementary (Vorbis) window:
// w(n)^2 + w(n + 480)^2 = 1, so windowing twice (analysis and synthesis) and
// overlap-adding with a 480 hop reconstructs the input exactly.
import { REAL_N, NBINS, rfft, irfft } from "./fft";

export const HOP: i32 = 480;
export const WINDOW = new StaticArray<f32>(REAL_N);
for (let n = 0; n < REAL_N; n++) {
  const s = Math.sin(Math.PI * (<f64>n + 0.5) / <f64>REAL_N);
  WINDOW[n] = <f32>Math.sin(0.5 * Math.PI * s * s);
}

const tmp = new StaticArray<f32>(REAL_N);

/** Window `REAL_N` samples of `x` starting at `offset` and transform them into `spec` (481 complex bins). */
export function analyze(x: StaticArray<f32>, offset: i32, spec: StaticArray<f32>): void {
  for (let n = 0; n < REAL_N; n++) unchecked(tmp[n] = unchecked(x[offset + n]) * unchecked(WINDOW[n]));
  rfft(tmp, spec);
}

/**
 * Inverse-transform `spec`, window it, and overlap-add into `ola` (960
 * samples: the first half completes now, the second half waits for the next
 * frame). Writes the 480 finished samples to `out` and shifts `ola`.
 */
export function synthesize(spec: StaticArray<f32>, ola: StaticArray<f32>, out: StaticArray<f32>): void {
  irfft(spec, tmp);
  for (let n = 0; n < HOP; n++) {
    unchecked(out[n] = unchecked(ola[n]) + unchecked(tmp[n]) * unchecked(WINDOW[n]));
  }
  for (let n = 0; n < HOP; n++) {
    unchecked(ola[n] = unchecked(tmp[n + HOP]) * unchecked(WINDOW[n + HOP]));
  }
}

export { NBINS };
