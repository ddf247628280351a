// Pitch tracking (reference section 3): a coarse normalised-correlation
// search on a 4x decimated, LPC-whitened signal, a Viterbi tracker over the
// coarse lags (penalising jumps, slightly favouring short lags against octave
// errors), and a full-rate refinement of the chosen lag.
//
// The tracker runs once per 10 ms frame on the newest 20 ms window. The
// decision for a frame two hops back uses the two newer frames as look-ahead
// (the trellis is backtracked), which is what the comb filter of the delayed
// frame needs; the newest frame's best state feeds the network's features.

import { dot } from "./vec";

export const PITCH_MIN: i32 = 60;
export const PITCH_MAX: i32 = 768;
const DEC: i32 = 4;
const WIN: i32 = 960; // correlation window at full rate
const DWIN: i32 = WIN / DEC; // 240
const LMIN: i32 = PITCH_MIN / DEC; // 15
const LMAX: i32 = PITCH_MAX / DEC; // 192
const NSTATE: i32 = LMAX - LMIN + 1;
const DLEN: i32 = DWIN + LMAX; // decimated samples needed
const LOOKAHEAD: i32 = 2;
const NHIST: i32 = LOOKAHEAD + 1;

// Tracker costs, in units of normalised correlation per frame.
const SMALL_STEP: i32 = 4; // coarse lags reachable with a quadratic cost
const STEP_COST: f32 = 0.02;
const JUMP_COST: f32 = 0.5;
const SHORT_LAG_BIAS: f32 = 0.15; // score reduction over the whole lag range (log scale)
// A lag whose half also correlates well is most likely twice the period
// (every harmonic of T is also one of 2T): such sub-octave lags pay this.
const SUB_OCTAVE_RATIO: f32 = 0.75;
const SUB_OCTAVE_COST: f32 = 0.3;

// Scratch of one update, handed from step to step as arguments: nothing here
// outlives a pitchUpdate call, so trackers may share it.
const dec = new StaticArray<f32>(DLEN);
const white = new StaticArray<f32>(DLEN);
const score = new StaticArray<f32>(NSTATE);
const peak = new StaticArray<f32>(NSTATE);
const accNew = new StaticArray<f32>(NSTATE);
const lpc = new StaticArray<f32>(5);
const ac = new StaticArray<f32>(5);

const bias = new StaticArray<f32>(NSTATE);
for (let i = 0; i < NSTATE; i++) {
  bias[i] = SHORT_LAG_BIAS * <f32>(Math.log(<f64>(i + LMIN) / <f64>LMIN) / Math.log(<f64>LMAX / <f64>LMIN));
}

/** A full-rate period in samples and its normalised correlation in [0, 1]. */
export class PitchEstimate {
  period: i32 = PITCH_MIN * 4;
  corr: f32 = 0;
}

/**
 * One stream's pitch tracker: the Viterbi trellis (accumulated scores and
 * back-pointers of the last NHIST frames) and the results of the last
 * `pitchUpdate`. Its owner (frame.ts) keeps one per denoiser, as rnnoise
 * keeps its pitch state in DenoiseState.
 */
export class PitchTracker {
  acc: StaticArray<f32> = new StaticArray<f32>(NSTATE);
  back: StaticArray<i32> = new StaticArray<i32>(NSTATE * NHIST);
  frameCount: i32 = 0;
  /** the newest frame's pitch (the network's features) */
  current: PitchEstimate = new PitchEstimate();
  /** the pitch of the frame LOOKAHEAD hops back, decided with look-ahead (its comb filter) */
  delayed: PitchEstimate = new PitchEstimate();

  constructor() { this.reset(); }

  /** Back to the state of a new tracker (bit-exact). */
  reset(): void {
    const acc = this.acc, back = this.back;
    for (let i = 0; i < NSTATE; i++) unchecked(acc[i] = 0);
    for (let i = 0; i < NSTATE * NHIST; i++) unchecked(back[i] = i % NSTATE);
    this.frameCount = 0;
    this.current.period = PITCH_MIN * 4; this.current.corr = 0;
    this.delayed.period = PITCH_MIN * 4; this.delayed.corr = 0;
  }
}

// Anti-alias low-pass for the 4x decimation: a Hann-windowed sinc with a 3 kHz
// cutoff. Pitch lives below a few kHz; keeping the coarse signal narrow also
// makes its correlation less sensitive to the fractional part of the lag.
const LP_HALF: i32 = 16;
const LP = new StaticArray<f32>(2 * LP_HALF + 1);
{
  let sum: f64 = 0;
  for (let j = -LP_HALF; j <= LP_HALF; j++) {
    const fc = 3000.0 / 48000.0;
    const sinc = j == 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * <f64>j) / (Math.PI * <f64>j);
    const w = 0.5 + 0.5 * Math.cos(Math.PI * <f64>j / <f64>(LP_HALF + 1));
    LP[j + LP_HALF] = <f32>(sinc * w);
    sum += sinc * w;
  }
  for (let j = 0; j < 2 * LP_HALF + 1; j++) LP[j] = <f32>(<f64>LP[j] / sum);
}

// Decimate x[end - DLEN*DEC, end) by 4 (the filter is centred, so the newest
// LP_HALF samples of a window see only past taps: zero-weighted beyond `end`)
// into `dec` (DLEN).
function decimate(x: StaticArray<f32>, end: i32, dec: StaticArray<f32>): void {
  const base = end - DLEN * DEC;
  for (let i = 0; i < DLEN; i++) {
    const c = base + i * DEC;
    const lo = c - LP_HALF < 0 ? 0 : c - LP_HALF;
    const hi = c + LP_HALF >= end ? end - 1 : c + LP_HALF;
    unchecked(dec[i] = dot(LP, lo - c + LP_HALF, x, lo, hi - lo + 1));
  }
}

// 4th-order LPC whitening: flattens formants so the correlation peaks at the
// period rather than at a formant's ringing. `dec` -> `white` (DLEN each).
function whiten(dec: StaticArray<f32>, white: StaticArray<f32>): void {
  for (let k = 0; k < 5; k++) {
    let s: f32 = 0;
    for (let i = k; i < DLEN; i++) s += unchecked(dec[i]) * unchecked(dec[i - k]);
    unchecked(ac[k] = s);
  }
  ac[0] = ac[0] * 1.0001 + 1e-3;
  for (let k = 1; k < 5; k++) { const lag = <f32>0.008 * <f32>k; ac[k] -= ac[k] * lag * lag; }
  // Levinson-Durbin
  for (let i = 0; i < 5; i++) lpc[i] = 0;
  let err = ac[0];
  for (let i = 0; i < 4; i++) {
    let r: f32 = -ac[i + 1];
    for (let j = 0; j < i; j++) r -= lpc[j] * ac[i - j];
    r /= err;
    lpc[i] = r;
    for (let j = 0; j < (i + 1) >> 1; j++) {
      const t1 = lpc[j], t2 = lpc[i - 1 - j];
      lpc[j] = t1 + r * t2;
      lpc[i - 1 - j] = t2 + r * t1;
    }
    err -= r * r * err;
    if (err < ac[0] * 1e-4) break;
  }
  let g: f32 = 0.9;
  for (let i = 0; i < 4; i++) { lpc[i] *= g; g *= 0.9; }
  for (let i = 0; i < DLEN; i++) {
    let s = unchecked(dec[i]);
    for (let j = 0; j < 4; j++) if (i - j - 1 >= 0) s += unchecked(lpc[j]) * unchecked(dec[i - j - 1]);
    unchecked(white[i] = s);
  }
}

// Normalised correlation of the newest DWIN whitened samples with each coarse
// lag LMIN..LMAX -> `score` (NSTATE).
function coarseScores(white: StaticArray<f32>, score: StaticArray<f32>): void {
  const x0 = DLEN - DWIN;
  let xx: f32 = 0;
  for (let i = x0; i < DLEN; i++) xx += unchecked(white[i]) * unchecked(white[i]);
  // yy for the smallest lag, then slide towards larger lags
  let yy: f32 = 0;
  for (let i = x0 - LMIN; i < DLEN - LMIN; i++) yy += unchecked(white[i]) * unchecked(white[i]);
  for (let l = LMIN; l <= LMAX; l++) {
    const xy = dot(white, x0, white, x0 - l, DWIN);
    const s = xy / Mathf.sqrt(xx * yy + 1e-9 + 1e-6 * xx * xx);
    unchecked(score[l - LMIN] = s);
    // slide the lagged window one sample further into the past
    const add = unchecked(white[x0 - l - 1]), rem = unchecked(white[DLEN - l - 1]);
    yy += add * add - rem * rem;
    if (yy < 0) yy = 0;
  }
}

// The coarse lags are integers at 12 kHz; a period between two of them shows
// a lower correlation peak. Estimate the true peak height of each local
// maximum by parabolic interpolation so that T and its multiples compete fairly.
// In place on `score`.
function interpolatePeaks(score: StaticArray<f32>): void {
  for (let i = 0; i < NSTATE; i++) {
    const c = unchecked(score[i]);
    unchecked(peak[i] = c);
    if (i == 0 || i == NSTATE - 1) continue;
    const a = unchecked(score[i - 1]), b = unchecked(score[i + 1]);
    if (c >= a && c >= b) {
      const den = <f32>2 * c - a - b;
      if (den > 1e-6) {
        const d = (b - a);
        let v = c + d * d / (<f32>8 * den);
        unchecked(peak[i] = v > 1 ? 1 : v);
      }
    }
  }
  for (let i = 0; i < NSTATE; i++) unchecked(score[i] = unchecked(peak[i]));
}

function subOctavePenalty(score: StaticArray<f32>, i: i32): f32 {
  const l = i + LMIN;
  const h = l >> 1;
  if (h - 1 < LMIN) return 0;
  let c = unchecked(score[h - 1 - LMIN]);
  const c1 = unchecked(score[h - LMIN]); if (c1 > c) c = c1;
  if (h + 1 <= LMAX) { const c2 = unchecked(score[h + 1 - LMIN]); if (c2 > c) c = c2; }
  const own = unchecked(score[i]);
  return own > 0 && c > SUB_OCTAVE_RATIO * own ? SUB_OCTAVE_COST : 0;
}

// One trellis step of `st` with this frame's `score`; returns the best state now.
function viterbi(st: PitchTracker, score: StaticArray<f32>): i32 {
  const acc = st.acc, back = st.back;
  let gmax: f32 = -1e30;
  for (let i = 0; i < NSTATE; i++) if (unchecked(acc[i]) > gmax) gmax = unchecked(acc[i]);
  let gArg = 0;
  for (let i = 0; i < NSTATE; i++) if (unchecked(acc[i]) == gmax) { gArg = i; break; }
  const slot = (st.frameCount % NHIST) * NSTATE;
  let best: f32 = -1e30, bestI = 0;
  for (let i = 0; i < NSTATE; i++) {
    let m = gmax - JUMP_COST, arg = gArg;
    const lo = i - SMALL_STEP < 0 ? 0 : i - SMALL_STEP;
    const hi = i + SMALL_STEP >= NSTATE ? NSTATE - 1 : i + SMALL_STEP;
    for (let j = lo; j <= hi; j++) {
      const d = <f32>(j - i);
      const v = unchecked(acc[j]) - STEP_COST * d * d;
      if (v > m) { m = v; arg = j; }
    }
    const s = m + unchecked(score[i]) - unchecked(bias[i]) - subOctavePenalty(score, i);
    unchecked(accNew[i] = s);
    unchecked(back[slot + i] = arg);
    if (s > best) { best = s; bestI = i; }
  }
  // keep the accumulated scores bounded
  for (let i = 0; i < NSTATE; i++) unchecked(acc[i] = unchecked(accNew[i]) - best);
  return bestI;
}

// Best full-rate period near `coarse` (a full-rate lag), by normalised correlation
// of the WIN samples ending at `end` with their lagged copy -> `out`.
function refine(x: StaticArray<f32>, end: i32, coarse: i32, out: PitchEstimate): void {
  const start = end - WIN;
  const xx = dot(x, start, x, start, WIN);
  let bestT = coarse, bestC: f32 = -2;
  const lo = coarse - DEC < PITCH_MIN ? PITCH_MIN : coarse - DEC;
  const hi = coarse + DEC > PITCH_MAX ? PITCH_MAX : coarse + DEC;
  for (let T = lo; T <= hi; T++) {
    const xy = dot(x, start, x, start - T, WIN);
    const yy = dot(x, start - T, x, start - T, WIN);
    const c = xy / Mathf.sqrt(xx * yy + 1e-3);
    if (c > bestC) { bestC = c; bestT = T; }
  }
  out.period = bestT;
  out.corr = bestC < 0 ? 0 : bestC;
}

/**
 * Track the pitch of the window `x[end - 960, end)` with `st`, whose
 * `current` and `delayed` receive the results. `x` must hold at least
 * PITCH_MAX + 960 + 2*480 samples before `end` (the delayed frame is
 * refined on the window ending 2 hops earlier).
 */
export function pitchUpdate(st: PitchTracker, x: StaticArray<f32>, end: i32): void {
  decimate(x, end, dec);
  whiten(dec, white);
  coarseScores(white, score);
  interpolatePeaks(score);
  const bestNow = viterbi(st, score);
  // backtrack LOOKAHEAD frames from the newest best state
  const back = st.back;
  let path = bestNow;
  for (let d = 0; d < LOOKAHEAD; d++) {
    const slot = ((st.frameCount - d + NHIST) % NHIST) * NSTATE;
    path = unchecked(back[slot + path]);
  }
  st.frameCount = (st.frameCount + 1) % (NHIST * 1000);
  refine(x, end, (bestNow + LMIN) * DEC, st.current);
  refine(x, end - LOOKAHEAD * 480, (path + LMIN) * DEC, st.delayed);
}
