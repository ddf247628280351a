// The per-frame pipeline, top to bottom like the block diagram:
//   STFT -> bands -> pitch -> comb -> level -> features -> network (or oracle) ->
//   mixing Y/P -> postfilter -> band rescaling -> ISTFT.
//
// Timing: each call takes 480 new samples. The newest 960-sample window
// (frame t) is analysed for the network's features with a causal comb. The
// spectrum that is modified and synthesised is that of frame t-2: its comb
// may use taps up to 960 samples into the "future", and the network's output
// at step t is trained to describe frame t-2 (2 frames of look-ahead).
// Output is delayed by 10 ms (overlap) + 20 ms (look-ahead) = 1440 samples.
import { REAL_N, NBINS } from "./fft";
import { HOP, analyze, synthesize } from "./stft";
import { NB_BANDS, bandEnergy, bandCorr, interpBands } from "./bands";
import { PitchTracker, pitchUpdate, PITCH_MAX } from "./pitch";
import { combTaps, combFilter, COMB_M, COMB_NTAPS } from "./comb";
import { NB_FEATURES, computeFeatures } from "./features";
import { NoiseFloor, noiseFloorUpdate } from "./noise-floor";
import { LevelTracker, levelUpdate, levelPowerFactor } from "./level";
import { coherence, oracleTargets } from "./targets";
import { targetEnergies } from "./postfilter";
import { networkReady, networkRun, networkReset } from "./network";

export const LOOKAHEAD: i32 = 2;
export const DELAY: i32 = HOP + LOOKAHEAD * HOP; // 1440
// History: comb taps of the delayed frame reach COMB_M * PITCH_MAX samples before its window.
export const HIST: i32 = COMB_M * PITCH_MAX + REAL_N + LOOKAHEAD * HOP; // 5760
const SCALE: f32 = 32768; // internal signal unit: 16-bit full scale
const INPUT_LIMIT: f32 = 8; // +18 dBFS: anything louder is clipped before it can overflow
// -300 dBFS, far below any real recording's noise floor: flushed to zero so that
// squares and products of near-silent input never become denormal floats,
// which cost up to 45 % more per frame on x86 (bench/soak.ts measures it).
const INPUT_FLOOR: f32 = 1e-15;

/** Where the per-frame gains and strengths come from. */
export const GAIN_UNITY: i32 = 0;
export const GAIN_NETWORK: i32 = 1;
export const GAIN_ORACLE: i32 = 2;
export const GAIN_EXTERNAL: i32 = 3;

// I/O buffers shared with the host
export const inBuf = new StaticArray<f32>(HOP);
export const cleanBuf = new StaticArray<f32>(HOP);
export const outBuf = new StaticArray<f32>(HOP);
export const features = new StaticArray<f32>(NB_FEATURES);
export const noiseFloor = new StaticArray<f32>(NB_BANDS); // extra inputs of models that take them
export const gains = new StaticArray<f32>(NB_BANDS); // applied (or external input)
export const strengths = new StaticArray<f32>(NB_BANDS);
export const oracleGains = new StaticArray<f32>(NB_BANDS);
export const oracleStrengths = new StaticArray<f32>(NB_BANDS);

// options
export let gainSource: i32 = GAIN_UNITY;
export let combEnabled: bool = true;
export let postfilterEnabled: bool = true;
export let minGain: f32 = 0;
export let hasClean: bool = false;
export let levelEnabled: bool = false;
export let levelLo: f32 = -40;
export let levelHi: f32 = -8;

// per-frame info for the host
export let frameVad: f32 = 0;
export let cleanEnergy: f32 = 0; // clean energy of the delayed frame (16-bit units^2 per bin)
export let noisyEnergy: f32 = 0;
export let inputWasSanitised: i32 = 0;
export let levelGainDb: f32 = 0; // the level normaliser's gain on this frame's features

// State of the one stream this instance denoises: module-level because one
// wasm instance is one denoiser (the instance plays the part of rnnoise's
// DenoiseState). Blocks get it, and return their results, through arguments.
const hist = new StaticArray<f32>(HIST);
const cleanHist = new StaticArray<f32>(HIST);
const ola = new StaticArray<f32>(HOP);
export const pitch = new PitchTracker();
const noiseTracker = new NoiseFloor();
const levelTracker = new LevelTracker();
// scratch: written before it is read within one processFrame
const Y = new StaticArray<f32>(2 * NBINS);
const P = new StaticArray<f32>(2 * NBINS);
const X = new StaticArray<f32>(2 * NBINS);
const Z = new StaticArray<f32>(2 * NBINS);
const pbuf = new StaticArray<f32>(REAL_N);
const Ey = new StaticArray<f32>(NB_BANDS);
const Ep = new StaticArray<f32>(NB_BANDS);
const Ex = new StaticArray<f32>(NB_BANDS);
const Epx = new StaticArray<f32>(NB_BANDS);
const Ez = new StaticArray<f32>(NB_BANDS);
const Cb = new StaticArray<f32>(NB_BANDS);
const qy = new StaticArray<f32>(NB_BANDS);
const qx = new StaticArray<f32>(NB_BANDS);
const tgt = new StaticArray<f32>(NB_BANDS);
const binR = new StaticArray<f32>(NBINS);
const binS = new StaticArray<f32>(NBINS);
const tapsNow = new StaticArray<f32>(COMB_NTAPS); // causal taps of frame t
const tapsDel = new StaticArray<f32>(COMB_NTAPS); // look-ahead taps of frame t-2 (noisy and clean)

export function setOptions(source: i32, comb: bool, postfilter: bool, gmin: f32, clean: bool): void {
  gainSource = source;
  combEnabled = comb;
  postfilterEnabled = postfilter;
  minGain = gmin < 0 ? 0 : (gmin > 1 ? 1 : gmin);
  hasClean = clean;
}

/** Level normaliser of the features on or off, and the range [lo, hi] dB FS it holds the level estimate in. */
export function setLevelOptions(enabled: bool, lo: f32, hi: f32): void {
  levelEnabled = enabled;
  levelLo = lo;
  levelHi = hi > lo ? hi : lo;
}

/** Back to the state right after instantiation (bit-exact). */
export function resetState(): void {
  for (let i = 0; i < HIST; i++) { unchecked(hist[i] = 0); unchecked(cleanHist[i] = 0); }
  for (let i = 0; i < HOP; i++) unchecked(ola[i] = 0);
  for (let b = 0; b < NB_BANDS; b++) {
    unchecked(gains[b] = 1); unchecked(strengths[b] = 0);
    unchecked(oracleGains[b] = 1); unchecked(oracleStrengths[b] = 0);
  }
  pitch.reset();
  noiseTracker.reset();
  levelTracker.reset();
  levelGainDb = 0;
  for (let b = 0; b < NB_BANDS; b++) unchecked(noiseFloor[b] = 0);
  networkReset();
  frameVad = 0; cleanEnergy = 0; noisyEnergy = 0;
}
resetState();

// Shift a history buffer by one hop and append 480 sanitised, scaled samples.
function push(h: StaticArray<f32>, src: StaticArray<f32>): i32 {
  memory.copy(changetype<usize>(h), changetype<usize>(h) + <usize>(HOP * 4), <usize>((HIST - HOP) * 4));
  let bad = 0;
  for (let i = 0; i < HOP; i++) {
    let v = unchecked(src[i]);
    if (!(v == v) || v - v != 0) { v = 0; bad++; } // NaN or +-Inf
    else if (v > INPUT_LIMIT) v = INPUT_LIMIT;
    else if (v < -INPUT_LIMIT) v = -INPUT_LIMIT;
    else if (Mathf.abs(v) < INPUT_FLOOR) v = 0;
    unchecked(h[HIST - HOP + i] = v * SCALE);
  }
  return bad;
}

// Comb-filter the window of h starting at `start` with `taps`, transform it into `spec`.
function combSpectrum(h: StaticArray<f32>, start: i32, T: i32, taps: StaticArray<f32>, spec: StaticArray<f32>): void {
  combFilter(h, start, T, taps, pbuf);
  analyze(pbuf, 0, spec);
}

// Mean square of the hop just pushed, full scale 1.
function newestPower(): f32 {
  let s: f32 = 0;
  for (let i = HIST - HOP; i < HIST; i++) { const v = unchecked(hist[i]); s += v * v; }
  return s / (<f32>HOP * SCALE * SCALE);
}

function sumEnergy(E: StaticArray<f32>): f32 {
  let s: f32 = 0;
  for (let b = 0; b < NB_BANDS; b++) s += unchecked(E[b]);
  return s;
}

/**
 * Mixing, postfilter and band rescaling: the spectrum Y (band energies Ey)
 * and its comb-filtered P, weighted by the band strengths, rescaled to the
 * postfiltered target energies of the band gains -> Z.
 */
function mixPostfilter(Y: StaticArray<f32>, P: StaticArray<f32>, Ey: StaticArray<f32>, bandGains: StaticArray<f32>,
                       bandStrengths: StaticArray<f32>, postfilter: bool, Z: StaticArray<f32>): void {
  interpBands(bandStrengths, binR);
  for (let k = 0; k < NBINS; k++) {
    const r = unchecked(binR[k]);
    unchecked(Z[2 * k] = (1 - r) * unchecked(Y[2 * k]) + r * unchecked(P[2 * k]));
    unchecked(Z[2 * k + 1] = (1 - r) * unchecked(Y[2 * k + 1]) + r * unchecked(P[2 * k + 1]));
  }
  bandEnergy(Z, Ez);
  targetEnergies(bandGains, Ey, postfilter, tgt);
  for (let b = 0; b < NB_BANDS; b++) {
    // the same epsilon on both sides makes unity gains exactly transparent
    unchecked(tgt[b] = Mathf.sqrt((unchecked(tgt[b]) + 1e-3) / (unchecked(Ez[b]) + 1e-3)));
  }
  interpBands(tgt, binS);
  for (let k = 0; k < NBINS; k++) {
    const s = unchecked(binS[k]);
    unchecked(Z[2 * k] *= s);
    unchecked(Z[2 * k + 1] *= s);
  }
}

/** Process one hop: inBuf (and cleanBuf when hasClean) -> outBuf. */
export function processFrame(): void {
  inputWasSanitised = push(hist, inBuf);
  if (hasClean) push(cleanHist, cleanBuf);
  const cur = HIST - REAL_N; // window of frame t
  const del = cur - LOOKAHEAD * HOP; // window of frame t-2

  // --- frame t: features for the network ---
  analyze(hist, cur, Y);
  bandEnergy(Y, Ey);
  pitchUpdate(pitch, hist, HIST);
  const Tnow = pitch.current.period, Tdel = pitch.delayed.period;
  combTaps(Tnow, 0, tapsNow);
  combSpectrum(hist, cur, Tnow, tapsNow, P);
  bandEnergy(P, Ep);
  bandCorr(Y, P, Cb);
  coherence(Cb, Ey, Ep, qy);
  levelGainDb = levelUpdate(levelTracker, newestPower(), levelLo, levelHi, levelEnabled);
  computeFeatures(Ey, levelPowerFactor(levelGainDb), qy, Tnow, pitch.current.corr, features);
  noiseFloorUpdate(noiseTracker, features, noiseFloor);

  // --- frame t-2: the spectrum we modify ---
  analyze(hist, del, Y);
  bandEnergy(Y, Ey);
  noisyEnergy = sumEnergy(Ey);
  const sigma2 = combTaps(Tdel, LOOKAHEAD * HOP, tapsDel);
  combSpectrum(hist, del, Tdel, tapsDel, P);
  bandEnergy(P, Ep);
  bandCorr(Y, P, Cb);
  coherence(Cb, Ey, Ep, qy);

  if (hasClean) {
    analyze(cleanHist, del, X);
    bandEnergy(X, Ex);
    cleanEnergy = sumEnergy(Ex);
    combSpectrum(cleanHist, del, Tdel, tapsDel, Z);
    bandEnergy(Z, Epx);
    bandCorr(X, Z, Cb);
    coherence(Cb, Ex, Epx, qx);
    oracleTargets(Ex, Ey, qx, qy, sigma2, oracleGains, oracleStrengths);
  }

  if (gainSource == GAIN_NETWORK && networkReady()) {
    const vad = networkRun(features, noiseFloor, gains, strengths);
    frameVad = vad >= 0 && vad <= 1 ? vad : 0; // NaN only from a degenerate model
  } else if (gainSource == GAIN_ORACLE && hasClean) {
    for (let b = 0; b < NB_BANDS; b++) {
      unchecked(gains[b] = unchecked(oracleGains[b]));
      unchecked(strengths[b] = unchecked(oracleStrengths[b]));
    }
  } else if (gainSource != GAIN_EXTERNAL) {
    for (let b = 0; b < NB_BANDS; b++) { unchecked(gains[b] = 1); unchecked(strengths[b] = 0); }
  }
  for (let b = 0; b < NB_BANDS; b++) {
    let g = unchecked(gains[b]);
    if (!(g >= 0)) g = 1; // NaN from an external source
    unchecked(gains[b] = g < minGain ? minGain : (g > 1 ? 1 : g));
    let r = unchecked(strengths[b]);
    unchecked(strengths[b] = combEnabled && r > 0 ? (r > 1 ? 1 : r) : 0);
  }

  mixPostfilter(Y, P, Ey, gains, strengths, postfilterEnabled, Z);
  synthesize(Z, ola, outBuf);
  let bad = false;
  for (let i = 0; i < HOP; i++) {
    const v = unchecked(outBuf[i]) / SCALE;
    if (v - v != 0) bad = true;
    unchecked(outBuf[i] = v);
  }
  if (bad) {
    // never let a non-finite value escape or persist in the state
    resetState();
    for (let i = 0; i < HOP; i++) unchecked(outBuf[i] = 0);
  }
}

/**
 * mixPostfilter on the last frame's Y, P, Ey and applied gains and strengths
 * into `out`: the benchmark times the block on real state between frames
 * without touching that state (assembly/test-hooks.ts).
 */
export function mixPostfilterLastFrame(out: StaticArray<f32>): void {
  mixPostfilter(Y, P, Ey, gains, strengths, postfilterEnabled, out);
}
