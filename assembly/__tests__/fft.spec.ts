import { rfft, irfft } from "../fft";
import { interpBands, bandEnergy, NB_BANDS } from "../bands";

describe("fft", () => {
  it("matches a naive DFT within 1e-4 relative and round-trips", () => {
    const x = new StaticArray<f32>(960);
    const X = new StaticArray<f32>(962);
    const y = new StaticArray<f32>(960);
    let seed: u32 = 12345;
    for (let i = 0; i < 960; i++) {
      seed = seed * 1664525 + 1013904223;
      x[i] = <f32>(<f64>(seed >> 8) / 16777216.0 - 0.5);
    }
    rfft(x, X);
    let maxErr: f64 = 0, maxRef: f64 = 0;
    for (let k = 0; k <= 480; k += 7) {
      let re: f64 = 0, im: f64 = 0;
      for (let n = 0; n < 960; n++) {
        const a = -2.0 * Math.PI * <f64>k * <f64>n / 960.0;
        re += <f64>x[n] * Math.cos(a);
        im += <f64>x[n] * Math.sin(a);
      }
      re /= 960; im /= 960;
      maxErr = Math.max(maxErr, Math.max(Math.abs(re - <f64>X[2 * k]), Math.abs(im - <f64>X[2 * k + 1])));
      maxRef = Math.max(maxRef, Math.max(Math.abs(re), Math.abs(im)));
    }
    expect(maxErr / maxRef).toBeLessThan(1e-4);
    irfft(X, y);
    let rt: f64 = 0;
    for (let i = 0; i < 960; i++) rt = Math.max(rt, Math.abs(<f64>(y[i] - x[i])));
    expect(rt).toBeLessThan(1e-5);
  });
});

describe("bands", () => {
  it("band weights sum to 1 at every bin below 20 kHz", () => {
    const g = new StaticArray<f32>(NB_BANDS);
    const out = new StaticArray<f32>(481);
    for (let b = 0; b < NB_BANDS; b++) g[b] = 1;
    interpBands(g, out);
    for (let k = 0; k <= 400; k++) expect(Math.abs(<f64>out[k] - 1.0)).toBeLessThan(1e-6);
  });
  it("Parseval: band energies sum to the bin energies", () => {
    const X = new StaticArray<f32>(962);
    const E = new StaticArray<f32>(NB_BANDS);
    let total: f64 = 0;
    for (let k = 0; k < 481; k++) { X[2 * k] = <f32>Math.sin(<f64>k); X[2 * k + 1] = <f32>Math.cos(<f64>k * 0.3); total += <f64>(X[2 * k] * X[2 * k] + X[2 * k + 1] * X[2 * k + 1]); }
    bandEnergy(X, E);
    let s: f64 = 0;
    for (let b = 0; b < NB_BANDS; b++) s += <f64>E[b];
    expect(Math.abs(s - total) / total).toBeLessThan(1e-5);
  });
});
