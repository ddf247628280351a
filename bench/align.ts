/**
 * Delay estimation between a processed signal and its reference, so that the
 * intrusive metrics (SI-SDR, STOI) compare time-aligned signals. Peers do not
 * document their latency (and wrappers add their own buffering), so it is
 * measured: the lag in [0, maxLag] maximising the cross-correlation.
 */
import { fft, nextPow2 } from "../lab/fft.js";

/**
 * Lag d (samples) such that output[n + d] best matches reference[n], from
 * the FFT cross-correlation over the whole signals.
 */
export function estimateDelay(reference: ArrayLike<number>, output: ArrayLike<number>, maxLag = 9600): number {
  const n = Math.min(reference.length, output.length);
  const size = nextPow2(n + maxLag + 1);
  const ar = new Float64Array(size), ai = new Float64Array(size);
  const br = new Float64Array(size), bi = new Float64Array(size);
  for (let i = 0; i < n; i++) { ar[i] = output[i]; br[i] = reference[i]; }
  fft(ar, ai);
  fft(br, bi);
  // corr[d] = sum_n out[n+d] ref[n]  <=>  OUT * conj(REF)
  for (let k = 0; k < size; k++) {
    const re = ar[k] * br[k] + ai[k] * bi[k];
    const im = ai[k] * br[k] - ar[k] * bi[k];
    ar[k] = re; ai[k] = im;
  }
  fft(ar, ai, true);
  let best = 0, bestV = -Infinity;
  for (let d = 0; d <= maxLag && d < size; d++) {
    if (ar[d] > bestV) { bestV = ar[d]; best = d; }
  }
  return best;
}

/** Drop the first `delay` samples and zero-pad the end, keeping the length. */
export function advance(x: Float32Array, delay: number): Float32Array {
  if (delay <= 0) return x;
  const y = new Float32Array(x.length);
  y.set(x.subarray(delay));
  return y;
}
