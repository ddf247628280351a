/** Segmental SNR in dB: 20 ms frames at 48 kHz, each clamped to [-10, 35] dB, frames where the reference is silent skipped. */
export function segSnr(ref: ArrayLike<number>, est: ArrayLike<number>, frame = 960): number {
  let sum = 0, n = 0;
  for (let i = 0; i + frame <= ref.length; i += frame) {
    let s = 0, e = 0;
    for (let j = i; j < i + frame; j++) { s += ref[j] * ref[j]; const d = ref[j] - est[j]; e += d * d; }
    if (s < 1e-6 * frame) continue;
    sum += Math.max(-10, Math.min(35, 10 * Math.log10(s / Math.max(e, 1e-20))));
    n++;
  }
  return sum / Math.max(n, 1);
}
