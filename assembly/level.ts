// The level the network hears: a slow gain on the band energies that feed
// its features (never on the signal path).
//
// Why: the network's only level-dependent inputs are the log band energies,
// and it works best on speech heard at about -20..-12 dB FS; heard at -50
// it loses about a dB of SI-SDR, at -65 it breaks down (training/HISTORY.md,
// stage 17). Microphones without AGC deliver speech far quieter than that.
// The gains the network returns are ratios, so applying them to the
// unscaled spectrum gives the output a network hearing the scaled input
// would give, at the input's own level.
//
// Only input far from that level is moved (the range the host sets,
// LEVEL_RANGE_DB, starts at -40): a gain that moves with the talker's pauses
// costs more than the few hundredths of DNSMOS there are to win closer in
// (stage 17, candidate B), and the long memory keeps it from moving.
//
// The estimate is the 90th percentile of recent 10 ms frame levels (a few dB
// above the active speech level while someone talks): per frame, the level
// goes into a histogram of 1 dB bins whose contents decay with a time
// constant of 15 s (LEVEL_FORGET). The target gain brings that estimate
// into [lo, hi] dB FS; the applied gain moves toward it by at most
// LEVEL_SLEW_DB per frame, so the network never hears a jump.

/** Histogram bins: 1 dB each, from LEVEL_MIN_DB up. */
export const LEVEL_BINS: i32 = 110;
export const LEVEL_MIN_DB: f32 = -100;
/** Forgetting per frame: a time constant of 1500 frames (15 s), so a pause of a few seconds barely moves the estimate. */
export const LEVEL_FORGET: f32 = 1 - 1.0 / 1500;
/**
 * Frames (above digital silence) before the estimate is trusted: 3 s. Calls
 * and recordings often open with a second of near silence, which would set
 * the level far too low and lift the first words (stage 17b).
 */
export const LEVEL_MIN_FRAMES: i32 = 300;
/** Largest change of the applied gain per frame, dB (20 dB per second). */
export const LEVEL_SLEW_DB: f32 = 0.2;
export const LEVEL_MAX_BOOST_DB: f32 = 30;
export const LEVEL_MAX_CUT_DB: f32 = 20;
// Histogram entries under this are flushed to zero: decayed weights would
// otherwise become denormal floats after some minutes, which are slow on x86.
const LEVEL_FLUSH: f32 = 1e-20;

/** The tracker's per-stream state. */
export class LevelTracker {
  readonly hist: StaticArray<f32> = new StaticArray<f32>(LEVEL_BINS);
  /** Total weight in the histogram. */
  mass: f32 = 0;
  /** Frames counted, saturating at LEVEL_MIN_FRAMES. */
  frames: i32 = 0;
  /** Applied gain, dB. */
  gainDb: f32 = 0;

  reset(): void {
    for (let i = 0; i < LEVEL_BINS; i++) unchecked(this.hist[i] = 0);
    this.mass = 0; this.frames = 0; this.gainDb = 0;
  }
}

/** The level in dB FS below which a fraction 0.9 of the histogram's weight lies (bin centre). */
export function levelP90(st: LevelTracker): f32 {
  const want: f32 = 0.1 * st.mass;
  let c: f32 = 0;
  let i = LEVEL_BINS - 1;
  for (; i > 0; i--) {
    c += unchecked(st.hist[i]);
    if (c >= want) break;
  }
  return LEVEL_MIN_DB + <f32>i + 0.5;
}

/**
 * One frame whose mean square is `power` (full scale 1): updates the
 * histogram and returns the gain (dB) to apply to this frame's features.
 * `enabled` false keeps the statistics and returns 0 (the gain restarts
 * from 0 when switched on again).
 */
export function levelUpdate(st: LevelTracker, power: f32, lo: f32, hi: f32, enabled: bool): f32 {
  const l: f32 = power > 0 ? 10 * Mathf.log10(power) : -Infinity;
  if (l > LEVEL_MIN_DB) { // NaN and digital silence are left out
    const h = st.hist;
    for (let i = 0; i < LEVEL_BINS; i++) {
      const v = unchecked(h[i]) * LEVEL_FORGET;
      unchecked(h[i] = v < LEVEL_FLUSH ? 0 : v);
    }
    st.mass = st.mass * LEVEL_FORGET + 1;
    let bin = <i32>(l - LEVEL_MIN_DB);
    if (bin > LEVEL_BINS - 1) bin = LEVEL_BINS - 1;
    unchecked(h[bin] += 1);
    if (st.frames < LEVEL_MIN_FRAMES) st.frames++;
  }
  if (!enabled) { st.gainDb = 0; return 0; }
  let target: f32 = 0;
  if (st.frames >= LEVEL_MIN_FRAMES) {
    const p = levelP90(st);
    if (p < lo) target = Mathf.min(LEVEL_MAX_BOOST_DB, lo - p);
    else if (p > hi) target = -Mathf.min(LEVEL_MAX_CUT_DB, p - hi);
  }
  const d = target - st.gainDb;
  st.gainDb += d > LEVEL_SLEW_DB ? LEVEL_SLEW_DB : (d < -LEVEL_SLEW_DB ? -LEVEL_SLEW_DB : d);
  return st.gainDb;
}

/** The factor on band energies for a gain of `gainDb`: exactly 1 at 0 dB. */
export function levelPowerFactor(gainDb: f32): f32 {
  return gainDb == 0 ? 1 : Mathf.pow(10, gainDb / 10);
}
