/**
 * The training corpus (/work/shared/data/train by default): MANIFEST.tsv
 * parsing, FLAC decoding with an in-memory cache, and the deterministic
 * train/validation split that keeps whole speakers, whole noise recordings
 * and whole rooms on one side.
 */

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { Rng, hashString } from "./rng.js";
import { normaliseMeasuredRir, type Rir } from "./room.js";
import { resample } from "./resample.js";

/** Where the corpus lives unless PERCEPNET_TRAIN_DATA says otherwise. */
export const DEFAULT_CORPUS_ROOT = process.env.PERCEPNET_TRAIN_DATA ?? "/work/shared/data/train";

export type EntryKind = "speech" | "noise" | "rir";

/** One row of MANIFEST.tsv. */
export interface Entry {
  kind: EntryKind;
  /** Path relative to the corpus root. */
  file: string;
  seconds: number;
  sampleRate: number;
  /** Highest frequency with content (kHz), as measured by the corpus builder. */
  bandwidthKhz: number;
  /** Speaker or language (speech), noise type (noise), room (rir). */
  label: string;
  /** First path component: speech48, speech16, noise, rir. */
  folder: string;
  /** What the split keeps together: speaker label, noise file, or room. */
  group: string;
  /** Folder the file path is relative to, when not the corpus root (extra noise). */
  root?: string;
  /**
   * The side a list made by `training.fetch_extra --from-candidates` puts the
   * row on (`split` column: train, val or test, by whole speaker or noise
   * recording; xsrc: a whole source held out for the cross-source test set);
   * absent in the shared corpus and older lists (training only).
   */
  split?: "train" | "val" | "test" | "xsrc";
}

/** Entries of one side of the split, by kind. */
export interface SplitLists {
  speech: Entry[];
  noise: Entry[];
  rir: Entry[];
}

export interface CorpusSplit {
  train: SplitLists;
  val: SplitLists;
}

/** A room's name without the channel suffix, so all channels of a room share a side. */
export function roomKey(label: string): string {
  return label.replace(/\s*\[.*\]\s*$/, "").replace(/\s*\((ch\d+)\)\s*$/, "").trim();
}

/** Parses MANIFEST.tsv text. Non-omnidirectional channels of B-format responses are dropped. */
export function parseManifest(text: string): Entry[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const head = lines[0].split("\t");
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`MANIFEST.tsv: no column ${name}`);
    return i;
  };
  const [ck, cf, cs, cr, cb, cl] = ["kind", "file", "seconds", "sample_rate", "bandwidth_khz", "label"].map(col);
  const cSplit = head.indexOf("split");
  const out: Entry[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split("\t");
    const kind = f[ck] as EntryKind;
    if (kind !== "speech" && kind !== "noise" && kind !== "rir") continue;
    const label = f[cl];
    // Figure-8 channels have a weak or inverted direct path: not a room response a mic sees.
    if (kind === "rir" && /directional/i.test(label)) continue;
    const file = f[cf];
    const group = kind === "speech" ? label : kind === "noise" ? file : roomKey(label);
    out.push({
      kind,
      file,
      seconds: Number(f[cs]),
      sampleRate: Number(f[cr]),
      bandwidthKhz: Number(f[cb]),
      label,
      folder: file.split("/")[0],
      group,
    });
    if (cSplit >= 0) {
      const side = f[cSplit];
      if (side !== "train" && side !== "val" && side !== "test" && side !== "xsrc") throw new Error(`MANIFEST.tsv: split ${JSON.stringify(side)} of ${file} is not train, val, test or xsrc`);
      out[out.length - 1].split = side;
    }
  }
  return out;
}

/**
 * Deterministic split: per kind, the distinct groups are sorted, shuffled by
 * a generator seeded from `salt`, and the first round(fraction * n) (at
 * least one) go to validation. The same manifest and salt always give the
 * same lists.
 */
export function splitCorpus(entries: readonly Entry[], fraction = 0.1, salt = "percepnet-split-v1"): CorpusSplit {
  const train: SplitLists = { speech: [], noise: [], rir: [] };
  const val: SplitLists = { speech: [], noise: [], rir: [] };
  for (const kind of ["speech", "noise", "rir"] as const) {
    const mine = entries.filter((e) => e.kind === kind);
    const groups = [...new Set(mine.map((e) => e.group))].sort();
    new Rng(hashString(salt + ":" + kind)).shuffle(groups);
    const nVal = groups.length < 2 ? 0 : Math.max(1, Math.round(fraction * groups.length));
    const valGroups = new Set(groups.slice(0, nVal));
    for (const e of mine) (valGroups.has(e.group) ? val : train)[kind].push(e);
  }
  return { train, val };
}

/**
 * The `kind` rows (noise or speech) of another folder laid out like the
 * corpus (its own MANIFEST.tsv, same columns), each entry remembering that
 * folder as its root, on one side of the list's own split (`split` column;
 * rows without one are training rows). They never enter the corpus's split,
 * so its validation side (and every evaluation set drawn from it) stays the
 * same; the held-out rows of the newer lists make their own sets. Extra speech must come from speakers outside the
 * corpus; its `label` names the speaker, and its folder (speech48 or not)
 * says whether it is full band, as in the corpus.
 */
export function readExtra(root: string, kind: "noise" | "speech", side: "train" | "val" | "test" | "xsrc" = "train"): Entry[] {
  const all = parseManifest(readFileSync(join(root, "MANIFEST.tsv"), "utf8")).filter((e) => e.kind === kind);
  if (all.length === 0) throw new Error(`${join(root, "MANIFEST.tsv")}: no ${kind} rows`);
  // rows without a split column are training rows (the older lists)
  const rows = all.filter((e) => (e.split ?? "train") === side);
  return rows.map((e) => ({ ...e, root, group: kind === "noise" ? join(root, e.file) : e.label }));
}

/** Options for {@link Corpus}. */
export interface CorpusOptions {
  /** Decoded audio kept in memory, bytes; least recently used files are dropped beyond it. */
  maxCacheBytes?: number;
}

/** Decoded access to the corpus files, cached in memory. */
export class Corpus {
  readonly root: string;
  readonly entries: Entry[];
  private readonly cache = new Map<string, Float32Array>();
  private cacheBytes = 0;
  private readonly maxCacheBytes: number;
  private readonly rirCache = new Map<string, Rir>();
  private decoder: FLACDecoder | null = null;
  // FLACDecoder instances are not re-entrant: decodes run one after another.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string, entries: Entry[], opts: CorpusOptions = {}) {
    this.root = root;
    this.entries = entries;
    this.maxCacheBytes = opts.maxCacheBytes ?? 1024 * 1024 * 1024;
  }

  /** Reads MANIFEST.tsv under root. */
  static open(root = DEFAULT_CORPUS_ROOT, opts: CorpusOptions = {}): Corpus {
    return new Corpus(root, parseManifest(readFileSync(join(root, "MANIFEST.tsv"), "utf8")), opts);
  }

  /** Decoded samples (first channel) at the file's own rate. */
  audio(e: Entry): Promise<Float32Array> {
    const key = this.key(e);
    const hit = this.cache.get(key);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit);
    }
    const job = this.queue.then(() => this.decode(e));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** A measured room response, resampled to 48 kHz if needed and normalised to its direct path. */
  async rir(e: Entry, fs = 48000): Promise<Rir> {
    const hit = this.rirCache.get(e.file);
    if (hit && hit.fs === fs) return hit;
    let x = await this.audio(e);
    if (e.sampleRate !== fs) x = resample(x, e.sampleRate, fs);
    const r = normaliseMeasuredRir(x, fs);
    this.rirCache.set(e.file, r);
    return r;
  }

  /** Frees the wasm decoder; the cache stays usable. */
  close(): void {
    this.decoder?.free();
    this.decoder = null;
  }

  private key(e: Entry): string {
    return e.root ? join(e.root, e.file) : e.file;
  }

  private async decode(e: Entry): Promise<Float32Array> {
    const key = this.key(e);
    const again = this.cache.get(key);
    if (again) return again;
    if (!this.decoder) {
      this.decoder = new FLACDecoder();
      await this.decoder.ready;
    }
    const bytes = await readFile(join(e.root ?? this.root, e.file));
    const r = await this.decoder.decodeFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    await this.decoder.reset();
    if (r.errors.length > 0 || r.channelData.length === 0) {
      throw new Error(`${e.file}: FLAC decode failed (${r.errors.map((x) => x.message).join("; ")})`);
    }
    if (r.sampleRate !== e.sampleRate) {
      throw new Error(`${e.file}: manifest says ${e.sampleRate} Hz, file is ${r.sampleRate} Hz`);
    }
    const x = r.channelData[0];
    this.cache.set(key, x);
    this.cacheBytes += x.byteLength;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= this.maxCacheBytes) break;
      if (k === key) continue;
      this.cache.delete(k);
      this.cacheBytes -= v.byteLength;
    }
    return x;
  }
}
