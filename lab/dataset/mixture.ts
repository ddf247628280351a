/**
 * The training-mixture synthesiser: one call makes a (clean target, noisy
 * input) pair of ~10 s at 48 kHz from the corpus, with the number of bands
 * whose target is meaningful for band-limited speech.
 *
 * Signal flow: speech track (one speaker, speed change, optional pitch
 * change and formant warp, EQ, optional low-pass) -> optional room (clean =
 * early part, noisy = full response) -> level -> noise mix (1-3 recordings,
 * babble, optionally a generated noise, a little full-band noise) at the
 * drawn SNR against the reverberant speech -> optional band-limited channel
 * (input and target alike; bands above it are masked) -> peak limit ->
 * optional clipping of the noisy input only.
 */

import { Rng } from "./rng.js";
import type { Corpus, Entry, SplitLists } from "./corpus.js";
import { applyCascade } from "./filters.js";
import { convolve2 } from "../fft.js";
import { earlyPart, imageMethodRir, randomRoom, estimateRt60, type Rir } from "./room.js";
import {
  FS,
  activePower,
  babble,
  fitLength,
  hardClip,
  meanPower,
  peakAbs,
  powerDb,
  randomEq,
  randomLowpass,
  speechTrack,
  toFs,
  type EqInfo,
} from "./augment.js";
import { bandLimit, bandLimitEdgeHz, bandwidthAfterPitch, formantWarp, pitchShift } from "./perturb.js";
import { SYNTH_NOISE_KINDS, synthNoise, type SynthNoiseInfo, type SynthNoiseKind, type SynthNoiseOptions } from "./synth-noise.js";

/** Band centres in 50 Hz FFT bins (PERCEPNET.md section 2). */
export const BAND_CENTRES = [
  0, 2, 4, 6, 8, 10, 12, 15, 18, 21, 24, 28, 32, 36, 41, 47, 53, 60, 68, 77, 87, 98, 110, 124, 140, 157, 176, 198, 223, 251,
  282, 317, 356, 400,
];

/**
 * Bands 0..k-1 whose triangle's upper edge (the next band's centre; 20 kHz
 * for the last band, whose flat top above 20 kHz speech barely reaches) lies
 * at or below the content's bandwidth. Infinity gives 34.
 */
export function validBandsFor(bandwidthHz: number): number {
  let k = 0;
  for (let i = 0; i < BAND_CENTRES.length; i++) {
    const upper = (i + 1 < BAND_CENTRES.length ? BAND_CENTRES[i + 1] : BAND_CENTRES[i]) * 50;
    if (upper > bandwidthHz) break;
    k++;
  }
  return k;
}

/** Knobs of {@link makeMixture}; every probability is per clip. */
export interface MixtureOptions {
  seconds: number;
  /** Active speech level of the clean target, dB re full scale (power of a full-scale square wave = 0 dB). */
  levelDb: [number, number];
  snrDb: [number, number];
  /** Fixed SNR (evaluation sets); overrides snrDb and noiseFreeProb. */
  fixedSnrDb: number | null;
  noiseFreeProb: number;
  /** Probability of a room; true/false forces it. */
  reverb: number | boolean;
  /** Share of rooms taken from measured responses (rest simulated). */
  measuredRirProb: number;
  /** Early part kept in the target after the direct path, ms. */
  earlyMs: [number, number];
  /** Probability of drawing full-band (speech48) speech rather than band-limited. */
  fullbandSpeechProb: number;
  /** Probability of a speed change (tempo and pitch together) of the speech, an integer percentage within +-speedPct. */
  speedProb: number;
  speedPct: number;
  /**
   * Probability of a pitch change of the speech with its tempo kept (WSOLA
   * time-scaling, then resampling), an integer percentage within +-pitchPct.
   * 0 (the default) draws nothing, so older seeds make the same mixtures.
   */
  pitchProb: number;
  pitchPct: number;
  /**
   * Probability of a vocal-tract-length (formant) warp of the speech: the
   * spectral envelope is stretched by a factor within (1 + formantPct/100)^+-1
   * (log-uniform), harmonics kept. 0 (the default) draws nothing.
   */
  formantProb: number;
  formantPct: number;
  /** Probability of a random EQ (low and high shelf = tilt, 0-2 peaks) on the speech, and on each noise recording. */
  eqProb: number;
  /** Largest boost or cut of each EQ section, dB. */
  eqDb: number;
  lowpassProb: number;
  /**
   * Probability that the mixture passes a band-limited channel (down to one
   * of inputBandlimitRates and back up): the noisy input, noise included,
   * carries nothing above that rate's pass band. The target passes the same
   * channel (the network's gains cannot restore what the channel removed)
   * and validBands masks the bands above the pass-band edge. 0 (the default)
   * draws nothing.
   */
  inputBandlimitProb: number;
  inputBandlimitRates: number[];
  /**
   * Probability of a generated stationary noise (lab/dataset/synth-noise.ts)
   * of one of synthNoiseKinds: with probability synthNoiseReplaceProb it
   * replaces the recorded noises and babble, otherwise it joins them at
   * -20..0 dB relative to the first one. 0 (the default) draws nothing.
   */
  synthNoiseProb: number;
  synthNoiseKinds: SynthNoiseKind[];
  synthNoiseReplaceProb: number;
  synthNoise: Partial<SynthNoiseOptions>;
  babbleProb: number;
  maxNoises: number;
  /**
   * Probability that a noise recording plays at another speed (and pitch),
   * drawn uniformly within +-noiseSpeedPct percent: crickets, insects and
   * machines chirp and hum at other frequencies than the few recordings the
   * corpus has. 0 (the default) draws nothing, so older seeds make the
   * same mixtures as before.
   */
  noiseSpeedProb: number;
  noiseSpeedPct: number;
  /**
   * Probability that the speaker comes from the extra speech folders (entries
   * with their own `root`), drawn in proportion to each speaker's duration
   * there: a few speakers with hours of prompts would otherwise get the same
   * share as a corpus speaker with 13 s. 0 (the default) draws nothing, so
   * older seeds make the same mixtures as before.
   */
  extraSpeechProb: number;
  /**
   * How an extra speaker is drawn: `duration` (each in proportion to its
   * seconds, the older default) or `sqrt` (to the square root of its
   * seconds), so hundreds of crowd speakers with a minute each are heard
   * beside a few voices with hours, without each minute being repeated as
   * often as a prompt voice's.
   */
  extraSpeechWeight: "duration" | "sqrt";
  fullbandNoiseProb: number;
  clipProb: number;
  /** The mixture (and target) are scaled down to this peak unless clipping is drawn. */
  maxPeak: number;
}

export const DEFAULT_MIXTURE_OPTIONS: MixtureOptions = {
  seconds: 10,
  levelDb: [-45, 10],
  snrDb: [-5, 40],
  fixedSnrDb: null,
  noiseFreeProb: 0.1,
  reverb: 0.5,
  measuredRirProb: 0.5,
  earlyMs: [10, 20],
  fullbandSpeechProb: 0.5,
  speedProb: 0.5,
  speedPct: 10,
  pitchProb: 0,
  pitchPct: 10,
  formantProb: 0,
  formantPct: 15,
  eqProb: 0.6,
  eqDb: 6,
  lowpassProb: 0.1,
  inputBandlimitProb: 0,
  inputBandlimitRates: [8000, 11025, 16000, 22050, 24000, 32000],
  synthNoiseProb: 0,
  synthNoiseKinds: [...SYNTH_NOISE_KINDS],
  synthNoiseReplaceProb: 0.5,
  synthNoise: {},
  babbleProb: 0.2,
  maxNoises: 3,
  noiseSpeedProb: 0,
  noiseSpeedPct: 0,
  extraSpeechProb: 0,
  extraSpeechWeight: "duration",
  fullbandNoiseProb: 0.2,
  clipProb: 0.03,
  maxPeak: 0.99,
};

/** Options for evaluation sets: noise-free reverberant speech. */
export const REVERB_ONLY: Partial<MixtureOptions> = { reverb: true, noiseFreeProb: 1, clipProb: 0, fixedSnrDb: null };

/** Everything drawn for one clip, for reproducing and analysing it. */
export interface MixtureMeta {
  speaker: string;
  speechFiles: string[];
  speedPct: number;
  /** Pitch change with tempo kept, percent (0: none). */
  pitchPct: number;
  /** Formant warp factor (null: none). */
  formantWarp: number | null;
  eq: EqInfo | null;
  lowpassHz: number | null;
  /** Sample rate of the band-limited channel both signals passed (null: none). */
  inputBandlimitRate: number | null;
  bandwidthHz: number | null;
  validBands: number;
  room:
    | null
    | { kind: "measured"; file: string; earlyMs: number; rt60: number }
    | { kind: "simulated"; dims: number[]; src: number[]; mic: number[]; rt60: number; earlyMs: number };
  /** Requested and achieved active level of the clean target, dB FS. */
  levelDbRequested: number;
  levelDb: number;
  /** SNR of reverberant speech to noise; null for noise-free clips. */
  snrDb: number | null;
  noiseFiles: string[];
  /** Speed change of each noise recording, percent (parallel to noiseFiles). */
  noiseSpeedPct: number[];
  babbleLabels: string[];
  /** Generated noise: what was drawn, whether it replaced the recorded noises, its level relative to the first noise. */
  synthNoise: null | { info: SynthNoiseInfo; replace: boolean; relDb: number };
  fullbandNoiseDb: number | null;
  limiterDb: number;
  clip: null | { belowPeakDb: number; fraction: number };
}

/** A synthesised pair at 48 kHz. */
export interface Mixture {
  clean: Float32Array;
  noisy: Float32Array;
  validBands: number;
  meta: MixtureMeta;
}

/** One entry, each with a chance proportional to its duration (entries in file order, so the draw is reproducible). */
function pickByDuration(rng: Rng, entries: readonly Entry[]): Entry {
  const total = entries.reduce((a, e) => a + e.seconds, 0);
  let t = rng.uniform(0, total);
  for (const e of entries) {
    t -= e.seconds;
    if (t < 0) return e;
  }
  return entries[entries.length - 1];
}

/** A speaker label drawn with weight sqrt(total seconds), with one uniform draw like pickByDuration. */
function pickLabelBySqrtDuration(rng: Rng, entries: readonly Entry[]): string {
  const totals = new Map<string, number>();
  for (const e of entries) totals.set(e.label, (totals.get(e.label) ?? 0) + e.seconds);
  const labels = [...totals.keys()].sort();
  const w = labels.map((l) => Math.sqrt(totals.get(l)!));
  let t = rng.uniform(0, w.reduce((a, b) => a + b, 0));
  for (let i = 0; i < labels.length; i++) {
    t -= w[i];
    if (t < 0) return labels[i];
  }
  return labels[labels.length - 1];
}

function groupByLabel(entries: readonly Entry[]): Map<string, Entry[]> {
  const m = new Map<string, Entry[]>();
  for (const e of entries) {
    const l = m.get(e.label);
    if (l) l.push(e);
    else m.set(e.label, [e]);
  }
  return m;
}

/**
 * Draws one mixture. Only `split`'s entries are used, so a validation split
 * never sees a training speaker, noise recording or room. The result depends
 * only on the generator's state, the corpus and the options.
 */
export async function makeMixture(
  rng: Rng,
  corpus: Corpus,
  split: SplitLists,
  options: Partial<MixtureOptions> = {},
): Promise<Mixture> {
  const o: MixtureOptions = { ...DEFAULT_MIXTURE_OPTIONS, ...options };
  const n = Math.round(o.seconds * FS);

  // Speech: a label from the full-band or band-limited side (or, when asked,
  // from the extra folders by duration), then its utterances.
  const extras = o.extraSpeechProb > 0 ? split.speech.filter((e) => e.root !== undefined) : [];
  let byLabel: Map<string, Entry[]>, speaker: string;
  if (extras.length && rng.chance(o.extraSpeechProb)) {
    byLabel = groupByLabel(extras);
    speaker = o.extraSpeechWeight === "sqrt" ? pickLabelBySqrtDuration(rng, extras) : pickByDuration(rng, extras).label;
  } else {
    const full = split.speech.filter((e) => e.folder === "speech48");
    const limited = split.speech.filter((e) => e.folder !== "speech48");
    const side = (rng.chance(o.fullbandSpeechProb) && full.length) || !limited.length ? full : limited;
    byLabel = groupByLabel(side);
    speaker = rng.choice([...byLabel.keys()].sort());
  }
  const speedPct = rng.chance(o.speedProb) ? rng.int(-o.speedPct, o.speedPct) : 0;
  const track = await speechTrack(rng, corpus, byLabel.get(speaker)!, n, speedPct);
  let speech = track.audio;
  let bandwidthHz = track.bandwidthHz;
  // The guards keep the random stream of a 0 probability unchanged.
  let pitchPct = 0;
  if (o.pitchProb > 0 && rng.chance(o.pitchProb)) pitchPct = rng.int(-o.pitchPct, o.pitchPct);
  if (pitchPct !== 0) {
    speech = pitchShift(speech, pitchPct);
    bandwidthHz = bandwidthAfterPitch(bandwidthHz, pitchPct);
  }
  let formant: number | null = null;
  if (o.formantProb > 0 && rng.chance(o.formantProb)) {
    formant = Math.pow(1 + o.formantPct / 100, rng.uniform(-1, 1));
    speech = formantWarp(speech, formant, { bandwidthHz });
  }
  let eq: EqInfo | null = null;
  if (rng.chance(o.eqProb)) {
    const r = randomEq(rng, o.eqDb);
    applyCascade(speech, r.sections);
    eq = r.info;
  }
  let lowpassHz: number | null = null;
  if (rng.chance(o.lowpassProb)) {
    const lp = randomLowpass(rng);
    applyCascade(speech, lp.sections);
    lowpassHz = lp.cutoffHz;
    bandwidthHz = Math.min(bandwidthHz, lp.cutoffHz);
  }

  // Room: the target keeps the direct path and early reflections.
  let clean: Float32Array = speech;
  let reverberant: Float32Array = speech;
  let room: MixtureMeta["room"] = null;
  const wantRoom = typeof o.reverb === "boolean" ? o.reverb : rng.chance(o.reverb);
  if (wantRoom) {
    const earlyMs = rng.uniform(o.earlyMs[0], o.earlyMs[1]);
    let rir: Rir;
    if (split.rir.length && rng.chance(o.measuredRirProb)) {
      const e = rng.choice(split.rir);
      rir = await corpus.rir(e);
      room = { kind: "measured", file: e.file, earlyMs, rt60: estimateRt60(rir) };
    } else {
      const p = randomRoom(rng);
      rir = imageMethodRir(p, { tailSeed: rng.nextU32() });
      room = { kind: "simulated", dims: p.dims, src: p.src, mic: p.mic, rt60: p.rt60, earlyMs };
    }
    [reverberant, clean] = convolve2(speech, rir.rir, earlyPart(rir, earlyMs), rir.directIndex);
  }

  // Level of the target; the reverberant speech gets the same gain.
  const levelDbRequested = rng.uniform(o.levelDb[0], o.levelDb[1]);
  const ps = activePower(clean);
  const g = ps > 0 ? Math.sqrt(Math.pow(10, levelDbRequested / 10) / ps) : 1;
  for (let i = 0; i < n; i++) clean[i] *= g;
  // Without a room both names point at the same samples.
  if (reverberant !== clean) for (let i = 0; i < n; i++) reverberant[i] *= g;

  // Noise.
  const noiseFree = o.fixedSnrDb === null && rng.chance(o.noiseFreeProb);
  const snrDb = noiseFree ? null : (o.fixedSnrDb ?? rng.uniform(o.snrDb[0], o.snrDb[1]));
  const noiseFiles: string[] = [];
  const noiseSpeedPct: number[] = [];
  let babbleLabels: string[] = [];
  let fullbandNoiseDb: number | null = null;
  let synthNoiseMeta: MixtureMeta["synthNoise"] = null;
  let noisy: Float32Array = new Float32Array(n);
  if (snrDb !== null) {
    const noise = new Float32Array(n);
    const add = (x: Float32Array, relDb: number) => {
      const p = meanPower(x);
      if (p <= 0) return;
      const k = Math.pow(10, relDb / 20) / Math.sqrt(p);
      for (let i = 0; i < n; i++) noise[i] += k * x[i];
    };
    let synth: { kind: SynthNoiseKind; replace: boolean } | null = null;
    if (o.synthNoiseProb > 0 && o.synthNoiseKinds.length && rng.chance(o.synthNoiseProb)) {
      synth = { kind: rng.choice(o.synthNoiseKinds), replace: rng.chance(o.synthNoiseReplaceProb) };
    }
    const count = synth?.replace ? 0 : rng.int(1, o.maxNoises);
    for (let c = 0; c < count; c++) {
      const relDb = c === 0 ? 0 : rng.uniform(-15, 0);
      if (c === 0 && rng.chance(o.babbleProb)) {
        const b = await babble(rng, corpus, split.speech, speaker, n);
        babbleLabels = b.labels;
        add(b.audio, relDb);
        continue;
      }
      if (!split.noise.length) break;
      const e = rng.choice(split.noise);
      // The guard keeps the random stream of noiseSpeedProb = 0 unchanged.
      const sp = o.noiseSpeedProb > 0 && rng.chance(o.noiseSpeedProb) ? rng.int(-o.noiseSpeedPct, o.noiseSpeedPct) : 0;
      const x = fitLength(rng, toFs(await corpus.audio(e), e.sampleRate, sp, true), n);
      if (rng.chance(o.eqProb)) applyCascade(x, randomEq(rng, o.eqDb).sections);
      noiseFiles.push(e.file);
      noiseSpeedPct.push(sp);
      add(x, relDb);
    }
    if (synth) {
      // Its own generator: the samples depend on one draw of the main stream only.
      const r = synthNoise(rng.fork("synth-noise"), synth.kind, n, o.synthNoise);
      const relDb = synth.replace ? 0 : rng.uniform(-20, 0);
      add(r.audio, relDb);
      synthNoiseMeta = { info: r.info, replace: synth.replace, relDb };
    }
    if (rng.chance(o.fullbandNoiseProb)) {
      // Band-limited noise recordings leave the top bands empty; a little white noise fills them.
      fullbandNoiseDb = rng.uniform(-40, -15);
      const w = new Float32Array(n);
      for (let i = 0; i < n; i++) w[i] = rng.normal();
      applyCascade(w, randomEq(rng).sections);
      add(w, fullbandNoiseDb);
    }
    const pn = meanPower(noise);
    const k = pn > 0 ? Math.sqrt(activePower(reverberant) / Math.pow(10, snrDb / 10) / pn) : 0;
    for (let i = 0; i < n; i++) noisy[i] = reverberant[i] + k * noise[i];
  } else {
    noisy.set(reverberant);
  }

  let inputBandlimitRate: number | null = null;
  if (o.inputBandlimitProb > 0 && o.inputBandlimitRates.length && rng.chance(o.inputBandlimitProb)) {
    inputBandlimitRate = rng.choice(o.inputBandlimitRates);
    noisy = bandLimit(noisy, inputBandlimitRate);
    clean = bandLimit(clean, inputBandlimitRate);
    bandwidthHz = Math.min(bandwidthHz, bandLimitEdgeHz(inputBandlimitRate));
  }

  // Peak limit: one gain for both signals so the pair stays consistent.
  const peak = Math.max(peakAbs(noisy), peakAbs(clean));
  let limiterDb = 0;
  if (peak > o.maxPeak) {
    const s = o.maxPeak / peak;
    limiterDb = 20 * Math.log10(s);
    for (let i = 0; i < n; i++) {
      noisy[i] *= s;
      clean[i] *= s;
    }
  }
  let clip: MixtureMeta["clip"] = null;
  if (rng.chance(o.clipProb)) {
    const belowPeakDb = rng.uniform(1, 10);
    const fraction = hardClip(noisy, peakAbs(noisy) * Math.pow(10, -belowPeakDb / 20));
    clip = { belowPeakDb, fraction };
  }

  const validBands = validBandsFor(bandwidthHz);
  return {
    clean,
    noisy,
    validBands,
    meta: {
      speaker,
      speechFiles: track.files,
      speedPct,
      pitchPct,
      formantWarp: formant,
      eq,
      lowpassHz,
      inputBandlimitRate,
      bandwidthHz: Number.isFinite(bandwidthHz) ? bandwidthHz : null,
      validBands,
      room,
      levelDbRequested,
      levelDb: powerDb(activePower(clean)),
      snrDb,
      noiseFiles,
      noiseSpeedPct,
      babbleLabels,
      synthNoise: synthNoiseMeta,
      fullbandNoiseDb,
      limiterDb,
      clip,
    },
  };
}

/**
 * The i-th mixture of a numbered set: its generator is seeded by (seed, i)
 * alone, so sets are reproducible and can be generated in any order or in
 * parallel.
 */
export function mixtureAt(
  corpus: Corpus,
  split: SplitLists,
  seed: number,
  index: number,
  options: Partial<MixtureOptions> = {},
): Promise<Mixture> {
  return makeMixture(new Rng(seed, index), corpus, split, options);
}

/** Seed of the fixed validation set. */
export const VALIDATION_SEED = 20240917;

/**
 * The fixed validation set: mixtures 0..n-1 of the validation split with
 * VALIDATION_SEED (override options for fixed-SNR or reverberant-only sets).
 */
export async function* validationSet(
  corpus: Corpus,
  val: SplitLists,
  n: number,
  options: Partial<MixtureOptions> = {},
  seed = VALIDATION_SEED,
): AsyncGenerator<Mixture> {
  for (let i = 0; i < n; i++) yield await mixtureAt(corpus, val, seed, i, options);
}
