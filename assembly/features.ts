// The 70 network inputs of one frame (reference section 7), in this order:
//   0..33  log10(s E_y,b + 1e-2), noisy band energies in 16-bit units, times
//          the level normaliser's factor s (assembly/level.ts; 1 when off)
//   34..67 noisy pitch coherence q_y,b of the newest frame (causal comb)
//   68     (T - 300) / 300, T the newest frame's pitch period in samples
//   69     the pitch correlation of that period, in [0, 1]
import { NB_BANDS } from "./bands";

export const NB_FEATURES: i32 = 2 * NB_BANDS + 2;

export function computeFeatures(Ey: StaticArray<f32>, energyScale: f32, q: StaticArray<f32>, period: i32, corr: f32, out: StaticArray<f32>): void {
  for (let b = 0; b < NB_BANDS; b++) {
    unchecked(out[b] = Mathf.log10(energyScale * unchecked(Ey[b]) + 1e-2));
    unchecked(out[NB_BANDS + b] = unchecked(q[b]));
  }
  out[2 * NB_BANDS] = <f32>(period - 300) / 300;
  out[2 * NB_BANDS + 1] = corr < 0 ? 0 : (corr > 1 ? 1 : corr);
}
