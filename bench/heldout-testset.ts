/**
 * The held-out test sets T and X (tools/heldout-sets.ts makes and scores
 * them; docs/EVALUATION.md "Held-out sets T and X"):
 *
 * - T: speech and noise of the `test` rows of the newer extra lists
 *   (training/extra-speech3-*.tsv, extra-noise5.tsv: whole speakers and
 *   noise recordings no training or validation row shares);
 * - X (cross-source): the `xsrc` rows, whole sources (packages, corpora)
 *   that no training file comes from.
 *
 * Each set is a list of named conditions; a clip's file name carries its
 * condition as a `cond-NAME` token (bench/report.ts conditionOf), so eval
 * and eval-paired --by-condition report every condition apart. Clip j of a
 * condition is mixture j of a seed derived from (set, condition) alone, so a
 * fraction of a set keeps the first clips of each condition unchanged.
 *
 * Rooms are the corpus's validation-side measured responses (splitCorpus
 * val.rir): rooms are not what X holds out. The mixture code draws a room
 * from the list it is given, so a reverberant clip gets a one-room list, the
 * rooms taken in an order that spans their measured RT60s.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeWav } from "../host/wav.js";
import type { Corpus, Entry, SplitLists } from "../lab/dataset/corpus.js";
import { readExtra } from "../lab/dataset/corpus.js";
import { mixtureAt, type MixtureMeta, type MixtureOptions } from "../lab/dataset/mixture.js";
import type { SynthNoiseKind } from "../lab/dataset/synth-noise.js";
import { Rng, hashString } from "../lab/dataset/rng.js";
import { estimateRt60 } from "../lab/dataset/room.js";

export type HeldoutSide = "val" | "test" | "xsrc";

/** Which noise rows a condition draws from: all of the side's, the non-stationary ones, or none (babble only). */
export type NoisePick = "all" | "nonstationary" | "none";

export interface HeldoutCondition {
  /** The `cond-NAME` token of its files, and its group in the reports. */
  name: string;
  /** Clips in the full set. */
  n: number;
  /** SNRs, cycled over the clips (a multiple of their count keeps every SNR equally often). */
  snrs: number[];
  noise: NoisePick;
  /** Every clip in a measured validation room (one room per clip, cycled over the rooms by RT60). */
  room: boolean;
  /** On top of HELDOUT_BASE. */
  options: Partial<MixtureOptions>;
}

export interface HeldoutSet {
  name: string;
  side: HeldoutSide;
  about: string;
  conditions: HeldoutCondition[];
}

/**
 * Options of every clip: the recordings as they are (no speed, pitch,
 * formant, EQ or low-pass change of the speech, no EQ or speed change of the
 * noise), one noise recording (or the babble) per clip, no generated or
 * added full-band noise, no clipping, active speech level -35..-15 dB FS
 * unless the condition fixes it, speakers drawn as training draws the extra
 * folders (by the square root of each speaker's seconds) where the
 * condition does not pick them ({@link speakerOf}).
 */
export const HELDOUT_BASE: Partial<MixtureOptions> = {
  seconds: 10,
  levelDb: [-35, -15],
  noiseFreeProb: 0,
  reverb: false,
  measuredRirProb: 1,
  speedProb: 0,
  pitchProb: 0,
  formantProb: 0,
  eqProb: 0,
  lowpassProb: 0,
  inputBandlimitProb: 0,
  synthNoiseProb: 0,
  babbleProb: 0,
  maxNoises: 1,
  noiseSpeedProb: 0,
  extraSpeechProb: 1,
  extraSpeechWeight: "sqrt",
  fullbandNoiseProb: 0,
  clipProb: 0,
};

const dry = (snr: number, n: number): HeldoutCondition => ({ name: `dry-snr${snr}`, n, snrs: [snr], noise: "all", room: false, options: {} });
const reverb = (snr: number, n: number): HeldoutCondition => ({ name: `reverb-snr${snr}`, n, snrs: [snr], noise: "all", room: true, options: { reverb: true } });
const babbleOnly = (snr: number, n: number): HeldoutCondition => ({ name: `babble-snr${snr}`, n, snrs: [snr], noise: "none", room: false, options: { babbleProb: 1 } });
const nonstat = (snr: number, n: number): HeldoutCondition => ({ name: `nonstat-snr${snr}`, n, snrs: [snr], noise: "nonstationary", room: false, options: {} });
/** Noisy input and target through a channel of this sample rate (8000: telephone, 4 kHz; 16000: wideband, 8 kHz). */
const band = (rate: number, n: number): HeldoutCondition => ({
  name: `band${rate / 1000}k`, n, snrs: [5, 10], noise: "all", room: false, options: { inputBandlimitProb: 1, inputBandlimitRates: [rate] },
});
/**
 * A fixed active speech level (quiet -40, loud -10 dB FS asked). The peak
 * limiter every mixture passes (maxPeak 0.99, target and input alike) keeps
 * the loud clips unclipped, so they end lower (about -18 dB FS active:
 * speech peaks 15-20 dB above its active level); heldout.json and the
 * summary give the level reached.
 */
const level = (name: string, db: number, n: number): HeldoutCondition => ({ name: `${name}-snr10`, n, snrs: [10], noise: "all", room: false, options: { levelDb: [db, db] } });

/**
 * Generated steady noise of one kind (lab/dataset/synth-noise.ts) in place of
 * a recording: the hum, whine, hiss, rumble and fan noise that real
 * recordings showed the network letting through.
 */
const steady = (kind: SynthNoiseKind, snr: number, n: number): HeldoutCondition => ({
  name: `${kind}-snr${snr}`, n, snrs: [snr], noise: "all", room: false,
  options: { synthNoiseProb: 1, synthNoiseReplaceProb: 1, synthNoiseKinds: [kind] },
});

/** The eight conditions X and V share: noise at five SNRs, a room, babble, non-stationary noise; n clips each. */
const core = (n: number): HeldoutCondition[] => [
  dry(-5, n), dry(0, n), dry(5, n), dry(10, n), dry(20, n),
  reverb(5, n),
  babbleOnly(5, n),
  nonstat(5, n),
];

/** The sets. Changing a condition changes its clips; adding one leaves the others' clips as they were. */
export const HELDOUT_SETS: Record<string, HeldoutSet> = {
  T: {
    name: "T", side: "test",
    about: "test rows of the newer extra lists (whole speakers and noise recordings held out)",
    conditions: [
      dry(-5, 30), dry(0, 30), dry(5, 30), dry(10, 30), dry(20, 30),
      reverb(5, 24), reverb(10, 24),
      babbleOnly(5, 30),
      nonstat(5, 30),
      band(8000, 16), band(16000, 16),
      level("quiet", -40, 24), level("loud", -10, 24),
    ],
  },
  S: {
    name: "S", side: "test",
    about: "test rows' speakers in generated steady noise, one kind per condition (a diagnostic: the generators are the training augmentation's)",
    conditions: (["hum", "whine", "colour", "rumble", "fan"] as const).flatMap((k) => [steady(k, 0, 12), steady(k, 10, 12)]),
  },
  V: {
    name: "V", side: "val",
    about: "validation rows of the newer extra lists (for choosing models; never a test)",
    conditions: core(16),
  },
  X: {
    name: "X", side: "xsrc",
    about: "xsrc rows: whole sources no training file comes from (speech: gcin-voice, 0ad-data; noise: flightgear-data-base, torcs-data, etw-data, searchandrescue-data)",
    conditions: core(16),
  },
};

/** Clips of a condition a fraction keeps: whole SNR cycles, at least one. */
export function conditionCount(c: HeldoutCondition, fraction: number): number {
  return Math.max(1, Math.round((c.n / c.snrs.length) * fraction)) * c.snrs.length;
}

/** Clips of a whole set at a fraction. */
export function setCount(s: HeldoutSet, fraction = 1): number {
  return s.conditions.reduce((a, c) => a + conditionCount(c, fraction), 0);
}

/** The generator seed of a condition's clips: a function of the set and condition names only. */
export function conditionSeed(set: string, condition: string): number {
  return hashString(`percepnet-heldout-v1:${set}:${condition}`);
}

/** The file name of clip j of condition ci: set, condition index, clip index, the condition token, the SNR. */
export function clipName(set: string, ci: number, j: number, c: HeldoutCondition): string {
  const snr = c.snrs[j % c.snrs.length];
  return `${set}-${String(ci).padStart(2, "0")}-${String(j).padStart(3, "0")}_cond-${c.name}_snr${snr}.wav`;
}

const REBUILD = "they are rebuilt from the committed lists by `python3 -m training.fetch_extra` (training/DATA.md)";

/**
 * The `side` rows of the extra folders: speech from `speechDirs`, noise from
 * `noiseDirs` (each a folder with MANIFEST.tsv, as fetch_extra writes it).
 * Throws a message naming the option and how to rebuild the folders when one
 * is missing or holds no row of that side.
 */
export function readHeldoutSources(speechDirs: readonly string[], noiseDirs: readonly string[], side: HeldoutSide):
  { speech: Entry[]; noise: Entry[] } {
  const read = (dirs: readonly string[], kind: "speech" | "noise", opt: string): Entry[] => {
    if (!dirs.length) throw new Error(`the held-out sets need the extra ${kind} folders: give ${opt} DIR (repeatable); ${REBUILD}`);
    const rows: Entry[] = [];
    for (const d of dirs) {
      if (!existsSync(join(d, "MANIFEST.tsv"))) throw new Error(`${opt} ${d}: no MANIFEST.tsv there; ${REBUILD}`);
      rows.push(...readExtra(d, kind, side));
    }
    if (!rows.length) throw new Error(`no ${kind} rows with split ${side} in ${dirs.join(", ")}; ${REBUILD}`);
    // The order of the folders on the command line changes nothing.
    rows.sort((a, b) => a.file.localeCompare(b.file) || a.root!.localeCompare(b.root!));
    // readExtra returns that side only; checked again, since the whole point of the sets is what they exclude.
    const stray = rows.find((e) => e.split !== side);
    if (stray) throw new Error(`${stray.file}: split ${stray.split} where ${side} was asked for`);
    return rows;
  };
  return { speech: read(speechDirs, "speech", "--extra-speech"), noise: read(noiseDirs, "noise", "--extra-noise") };
}

/** Spread of a recording's level: 90th minus 10th percentile of its 20 ms frame powers, dB. */
export function frameLevelSpreadDb(x: Float32Array, fs: number): number {
  const len = Math.max(1, Math.round(0.02 * fs));
  const db: number[] = [];
  for (let i = 0; i + len <= x.length; i += len) {
    let p = 0;
    for (let k = i; k < i + len; k++) p += x[k] * x[k];
    db.push(10 * Math.log10(p / len + 1e-12));
  }
  if (db.length < 2) return 0;
  db.sort((a, b) => a - b);
  const q = (f: number) => db[Math.floor(f * (db.length - 1))];
  return q(0.9) - q(0.1);
}

/** A noise recording counts as non-stationary when its frame-level spread is at least this (dB). */
export const NONSTATIONARY_SPREAD_DB = 10;

/**
 * The non-stationary noise rows: frame-level spread >= NONSTATIONARY_SPREAD_DB;
 * if fewer than two pass, the more variable half (at least one).
 */
export function pickNonstationary(rows: readonly Entry[], spreadDb: readonly number[]): Entry[] {
  const picked = rows.filter((_, i) => spreadDb[i] >= NONSTATIONARY_SPREAD_DB);
  if (picked.length >= 2) return picked;
  const order = rows.map((_, i) => i).sort((a, b) => spreadDb[b] - spreadDb[a] || rows[a].file.localeCompare(rows[b].file));
  return order.slice(0, Math.max(1, Math.ceil(rows.length / 2))).map((i) => rows[i]);
}

/** Indices 0..n-1 in an order whose every prefix spreads over the range: 0, n-1, then midpoints of the widest gaps first. */
export function spreadOrder(n: number): number[] {
  if (n <= 0) return [];
  const out = n > 1 ? [0, n - 1] : [0];
  const queue: [number, number][] = [[0, n - 1]];
  while (queue.length) {
    const [a, b] = queue.shift()!;
    if (b - a < 2) continue;
    const m = (a + b) >> 1;
    out.push(m);
    queue.push([a, m], [m, b]);
  }
  return out;
}

export interface HeldoutRoom { entry: Entry; rt60: number }

/** The rooms with their estimated RT60, in the order reverberant clips take them (spanning RT60 from the first clips on). */
export async function orderRooms(corpus: Corpus, rirs: readonly Entry[]): Promise<HeldoutRoom[]> {
  if (!rirs.length) throw new Error("no validation-side room responses in the corpus");
  const rooms: HeldoutRoom[] = [];
  for (const e of rirs) rooms.push({ entry: e, rt60: estimateRt60(await corpus.rir(e)) });
  rooms.sort((a, b) => a.rt60 - b.rt60 || a.entry.file.localeCompare(b.entry.file));
  return spreadOrder(rooms.length).map((i) => rooms[i]);
}

/** One written clip: its name, condition, SNR, seed and index, the room's RT60 and everything the mixture drew. */
export interface HeldoutClip extends MixtureMeta {
  name: string;
  condition: string;
  seed: number;
  index: number;
  rt60: number | null;
}

/** What a set is made of, fixed before any audio is made: its fingerprint decides whether a folder is reused. */
export interface HeldoutPlan {
  set: HeldoutSet;
  fraction: number;
  seconds: number;
  speech: Entry[];
  noise: Entry[];
  nonstationary: Entry[];
  rooms: HeldoutRoom[];
  fingerprint: string;
}

/** Reads the non-stationary noise and fingerprints everything the clips depend on. */
export async function planHeldoutSet(set: HeldoutSet, sources: { speech: Entry[]; noise: Entry[] }, rooms: HeldoutRoom[],
  corpus: Corpus, fraction = 1, seconds = HELDOUT_BASE.seconds!): Promise<HeldoutPlan> {
  const spreads: number[] = [];
  for (const e of sources.noise) spreads.push(frameLevelSpreadDb(await corpus.audio(e), e.sampleRate));
  const nonstationary = pickNonstationary(sources.noise, spreads);
  const rows = (es: Entry[]) => es.map((e) => [e.root, e.file, e.label, e.split, e.seconds]);
  const fingerprint = createHash("sha256").update(JSON.stringify({
    v: 3, set, fraction, seconds, base: HELDOUT_BASE, speech: rows(sources.speech), noise: rows(sources.noise),
    nonstationary: nonstationary.map((e) => e.file), rooms: rooms.map((r) => r.entry.file),
  })).digest("hex").slice(0, 16);
  return { set, fraction, seconds, ...sources, nonstationary, rooms, fingerprint };
}

/**
 * The speaker of clip j of a condition, or null (babble: the mixture code
 * draws the speaker, by the square root of its seconds, and the talkers
 * from the others). Speakers take turns in an order shuffled per condition,
 * so each is heard about equally often whatever its recorded time (a
 * speaker with less than a clip's length is repeated, as in training).
 */
export function speakerOf(p: HeldoutPlan, ci: number, j: number): string | null {
  const c = p.set.conditions[ci];
  if (c.noise === "none") return null;
  const labels = new Rng(conditionSeed(p.set.name, c.name), 0x5ea4e2).shuffle([...new Set(p.speech.map((e) => e.label))].sort());
  return labels[j % labels.length];
}

/** The lists a condition's clip draws from. */
function listsFor(p: HeldoutPlan, ci: number, j: number): SplitLists {
  const c = p.set.conditions[ci];
  const who = speakerOf(p, ci, j);
  const speech = who === null ? p.speech : p.speech.filter((e) => e.label === who);
  const noise = c.noise === "all" ? p.noise : c.noise === "nonstationary" ? p.nonstationary : [];
  const rir = c.room ? [p.rooms[j % p.rooms.length].entry] : [];
  return { speech, noise, rir };
}

/** True if `dir` holds the complete set of this plan. */
export function isCurrentHeldout(dir: string, p: HeldoutPlan): boolean {
  const meta = join(dir, "heldout.json");
  if (!existsSync(meta)) return false;
  try {
    const m = JSON.parse(readFileSync(meta, "utf8")) as { fingerprint?: string; clips?: { name: string }[] };
    return m.fingerprint === p.fingerprint && Array.isArray(m.clips) && m.clips.length === setCount(p.set, p.fraction) &&
      m.clips.every((c) => existsSync(join(dir, "clean", c.name)) && existsSync(join(dir, "noisy", c.name)));
  } catch {
    return false;
  }
}

/** Per condition: clips, distinct speakers, distinct noise recordings (or babble talkers), rooms. */
export interface ConditionSummary { condition: string; clips: number; snrs: number[]; levelDb: number; speakers: number; noises: number; babbleTalkers: number; rt60s: number[] }

export function summariseClips(clips: readonly HeldoutClip[]): ConditionSummary[] {
  const by = new Map<string, HeldoutClip[]>();
  for (const c of clips) by.set(c.condition, [...(by.get(c.condition) ?? []), c]);
  return [...by].map(([condition, cs]) => ({
    condition,
    clips: cs.length,
    snrs: [...new Set(cs.map((c) => c.snrDb!))].sort((a, b) => a - b),
    levelDb: cs.reduce((a, c) => a + c.levelDb, 0) / cs.length,
    speakers: new Set(cs.map((c) => c.speaker)).size,
    noises: new Set(cs.flatMap((c) => c.noiseFiles)).size,
    babbleTalkers: new Set(cs.flatMap((c) => c.babbleLabels)).size,
    rt60s: [...new Set(cs.filter((c) => c.rt60 !== null).map((c) => Math.round(c.rt60! * 100) / 100))].sort((a, b) => a - b),
  }));
}

/** A Markdown table of a set's conditions. */
export function summaryTable(s: ConditionSummary[], clips: readonly HeldoutClip[]): string {
  const lines = ["| condition | clips | SNR (dB) | speech level (dB FS, mean) | speakers | noise recordings | babble talkers | room RT60 (s) |", "|---|---|---|---|---|---|---|---|"];
  for (const r of s) lines.push(`| ${r.condition} | ${r.clips} | ${r.snrs.join(", ")} | ${r.levelDb.toFixed(1)} | ${r.speakers} | ${r.noises || "-"} | ${r.babbleTalkers || "-"} | ${r.rt60s.map((x) => x.toFixed(2)).join(", ") || "-"} |`);
  const all = (f: (c: HeldoutClip) => string[]) => new Set(clips.flatMap(f)).size;
  lines.push(`| all | ${clips.length} | | | ${all((c) => [c.speaker])} | ${all((c) => c.noiseFiles) || "-"} | ${all((c) => c.babbleLabels) || "-"} | |`);
  return lines.join("\n");
}

/**
 * Writes the plan's clips to DIR/clean and DIR/noisy (float32 WAV, 48 kHz,
 * same names) and DIR/heldout.json (plan, every clip's draw) last, so an
 * interrupted run is redone; a folder already holding this plan is kept.
 */
export async function makeHeldoutSet(p: HeldoutPlan, corpus: Corpus, dir: string, log: (s: string) => void = () => {}):
  Promise<{ clips: HeldoutClip[]; reused: boolean }> {
  if (isCurrentHeldout(dir, p)) {
    log(`set ${p.set.name}: reusing ${dir} (fingerprint ${p.fingerprint})`);
    return { clips: (JSON.parse(readFileSync(join(dir, "heldout.json"), "utf8")) as { clips: HeldoutClip[] }).clips, reused: true };
  }
  for (const k of ["clean", "noisy", "heldout.json"]) rmSync(join(dir, k), { recursive: true, force: true });
  mkdirSync(join(dir, "clean"), { recursive: true });
  mkdirSync(join(dir, "noisy"), { recursive: true });
  const total = setCount(p.set, p.fraction);
  log(`set ${p.set.name}: making ${total} clips in ${dir}`);
  const clips: HeldoutClip[] = [];
  for (const [ci, c] of p.set.conditions.entries()) {
    const seed = conditionSeed(p.set.name, c.name);
    for (let j = 0; j < conditionCount(c, p.fraction); j++) {
      const lists = listsFor(p, ci, j);
      const opts: Partial<MixtureOptions> = { ...HELDOUT_BASE, ...c.options, seconds: p.seconds, fixedSnrDb: c.snrs[j % c.snrs.length] };
      const m = await mixtureAt(corpus, lists, seed, j, opts);
      const name = clipName(p.set.name, ci, j, c);
      const wav = (x: Float32Array) => encodeWav([x], { sampleRate: 48000, format: "float32" }).bytes;
      writeFileSync(join(dir, "clean", name), wav(m.clean));
      writeFileSync(join(dir, "noisy", name), wav(m.noisy));
      clips.push({ name, condition: c.name, seed, index: j, rt60: c.room ? p.rooms[j % p.rooms.length].rt60 : null, ...m.meta });
    }
    log(`set ${p.set.name}: ${c.name} done (${clips.length}/${total})`);
  }
  writeFileSync(join(dir, "heldout.json"), JSON.stringify({
    set: p.set.name, side: p.set.side, about: p.set.about, fraction: p.fraction, seconds: p.seconds, fingerprint: p.fingerprint,
    base: HELDOUT_BASE, conditions: p.set.conditions,
    sources: {
      speechRoots: [...new Set(p.speech.map((e) => e.root))], noiseRoots: [...new Set(p.noise.map((e) => e.root))],
      speakers: [...new Set(p.speech.map((e) => e.label))].sort(), noiseFiles: p.noise.map((e) => e.file),
      nonstationary: p.nonstationary.map((e) => e.file), rooms: p.rooms.map((r) => ({ file: r.entry.file, rt60: r.rt60 })),
    },
    clips,
  }, null, 1));
  return { clips, reused: false };
}
