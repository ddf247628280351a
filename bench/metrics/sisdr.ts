/**
 * Scale-invariant signal-to-distortion ratio (Le Roux et al., "SDR - half-baked
 * or well done?", ICASSP 2019), in dB.
 *
 * Both signals are mean-removed; the estimate is projected on the reference,
 * target = (<est, ref> / |ref|^2) ref, and SI-SDR = 10 log10(|target|^2 / |est - target|^2).
 * Identical signals give +Infinity. Signals must be time-aligned.
 */
export function siSdr(reference: ArrayLike<number>, estimate: ArrayLike<number>): number {
  const n = Math.min(reference.length, estimate.length);
  if (n === 0) throw new Error("siSdr: empty signal");
  let mr = 0, me = 0;
  for (let i = 0; i < n; i++) { mr += reference[i]; me += estimate[i]; }
  mr /= n; me /= n;
  let dot = 0, rr = 0;
  for (let i = 0; i < n; i++) {
    const r = reference[i] - mr;
    dot += r * (estimate[i] - me);
    rr += r * r;
  }
  if (rr === 0) throw new Error("siSdr: silent reference");
  const alpha = dot / rr;
  let sig = 0, err = 0;
  for (let i = 0; i < n; i++) {
    const t = alpha * (reference[i] - mr);
    const e = estimate[i] - me - t;
    sig += t * t;
    err += e * e;
  }
  if (err === 0) return Infinity;
  return 10 * Math.log10(sig / err);
}
