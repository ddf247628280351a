// Oracle training targets (reference section 5) from the clean and noisy
// band statistics of the same frame. Every division and square root is
// guarded: these are the places where a public port's training went to NaN.
import { NB_BANDS } from "./bands";

const EPS: f32 = 1e-9;
const N0: f32 = 0.03; // noise-masking-tone threshold, -15 dB

// @ts-ignore: decorator
@inline function clamp01(x: f32): f32 { return x < 0 ? 0 : (x > 1 ? 1 : x); }

/** Pitch coherence q_b = C_b / sqrt(E_b Ep_b), clipped to [0, 1]. */
export function coherence(C: StaticArray<f32>, E: StaticArray<f32>, Ep: StaticArray<f32>, q: StaticArray<f32>): void {
  for (let b = 0; b < NB_BANDS; b++) {
    unchecked(q[b] = clamp01(unchecked(C[b]) / Mathf.sqrt(unchecked(E[b]) * unchecked(Ep[b]) + EPS)));
  }
}

/**
 * Ideal gains g and comb strengths r for one frame.
 * Ex, Ey: clean and noisy band energies; qx, qy: clean and noisy coherences
 * with the comb output; sigma2: sum of squared comb taps used.
 */
export function oracleTargets(Ex: StaticArray<f32>, Ey: StaticArray<f32>, qx: StaticArray<f32>, qy: StaticArray<f32>,
                              sigma2: f32, g: StaticArray<f32>, r: StaticArray<f32>): void {
  for (let b = 0; b < NB_BANDS; b++) {
    let gain = clamp01(Mathf.sqrt(unchecked(Ex[b]) / (unchecked(Ey[b]) + EPS)));
    // a silent noisy band carries nothing to attenuate
    if (unchecked(Ey[b]) < EPS) gain = 1;
    const qX = unchecked(qx[b]), qY = unchecked(qy[b]);
    // coherence the comb output would have
    const qp = qY / Mathf.sqrt((1 - sigma2) * qY * qY + sigma2 + EPS);
    let strength: f32;
    if (qp < qX) {
      // the comb cannot remove enough noise: full strength, extra attenuation
      strength = 1;
      gain *= Mathf.sqrt((1 + N0 - qX * qX) / (1 + N0 - qp * qp));
    } else {
      let a = qp * qp - qX * qX; if (a < 0) a = 0;
      const bb = qp * qY * (1 - qX * qX);
      let c = qX * qX - qY * qY; if (c < 0) c = 0;
      let alpha: f32;
      if (a < 1e-6) {
        // limit a -> 0 of (sqrt(b^2 + a c) - b) / a = c / (2b)
        alpha = bb > EPS ? c / (2 * bb) : 0;
      } else {
        alpha = (Mathf.sqrt(bb * bb + a * c) - bb) / a;
      }
      if (!(alpha >= 0)) alpha = 0;
      strength = alpha / (1 + alpha);
    }
    unchecked(g[b] = clamp01(gain));
    unchecked(r[b] = clamp01(strength));
  }
}
