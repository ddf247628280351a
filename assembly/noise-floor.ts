// A stationary-noise estimate per band (minimum statistics, Martin 2001, in
// its simplest form), for the networks that take it as 34 extra inputs.
//
// Why: a network only removes the noises it heard in training. Steady noise
// (mains hum, a whine, hiss, a fan) is what a classic estimator finds best,
// because it is the floor the band energy keeps returning to between words.
// Giving that floor to the network lets it see steady noise of any kind,
// trained on or not, in PercepNet's spirit of letting signal processing do
// what it does well.
//
// It works on the feature the network already gets, l_b = log10(E_b + 1e-2)
// (features 0..33), so the trainer computes the same values bit for bit from
// the stored features (training/percepnet/noise_floor.py): per band,
//   s_b  = a s_b + (1 - a) l_b            smoothed (a = 0.7, about 3 frames)
//   n_b  = min of s_b over the current block of NOISE_BLOCK frames and the
//          whole previous block           (a minimum over 0.8-1.6 s)
// A word rarely lasts 0.8 s without a pause, so the minimum sits on the
// noise between words; a rise of the noise shows after at most 1.6 s.
import { NB_BANDS } from "./bands";

/** Weight of the previous smoothed value. */
export const NOISE_SMOOTH: f32 = 0.7;
/** Frames per block of the running minimum (10 ms each). */
export const NOISE_BLOCK: i32 = 80;

/** The estimator's per-stream state. */
export class NoiseFloor {
  readonly smooth: StaticArray<f32> = new StaticArray<f32>(NB_BANDS);
  readonly curMin: StaticArray<f32> = new StaticArray<f32>(NB_BANDS);
  readonly prevMin: StaticArray<f32> = new StaticArray<f32>(NB_BANDS);
  /** Frames seen in the current block; 0 before the first frame. */
  pos: i32 = 0;

  reset(): void { this.pos = 0; }
}

/** One frame: `logE` holds l_b in its first NB_BANDS entries; writes n_b to `out`. */
export function noiseFloorUpdate(st: NoiseFloor, logE: StaticArray<f32>, out: StaticArray<f32>): void {
  const a = NOISE_SMOOTH, b1: f32 = 1 - NOISE_SMOOTH;
  const sm = st.smooth, cur = st.curMin, prev = st.prevMin;
  const pos = st.pos;
  for (let b = 0; b < NB_BANDS; b++) {
    const l = unchecked(logE[b]);
    let s: f32;
    if (pos == 0) {
      // The first frame starts every statistic at its own value.
      s = l;
      unchecked(cur[b] = s); unchecked(prev[b] = s);
    } else {
      s = a * unchecked(sm[b]) + b1 * l;
      if (pos == NOISE_BLOCK) { unchecked(prev[b] = unchecked(cur[b])); unchecked(cur[b] = s); }
      else if (s < unchecked(cur[b])) unchecked(cur[b] = s);
    }
    unchecked(sm[b] = s);
    const c = unchecked(cur[b]), p = unchecked(prev[b]);
    unchecked(out[b] = c < p ? c : p);
  }
  st.pos = pos == NOISE_BLOCK ? 1 : pos + 1;
}
