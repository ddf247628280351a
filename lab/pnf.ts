/**
 * Writer and reader of the feature dump format (.pnf, docs/FORMATS.md
 * section 2): fixed-length sequences of [features | gains | strengths | vad].
 */
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { NB_BANDS, NB_FEATURES } from "../host/denoiser.js";
import type { FeatureDump } from "../host/offline.js";

export const PNF_MAGIC = "PNF1";
export const PNF_VERSION = 1;
export const PNF_RECORD = NB_FEATURES + 2 * NB_BANDS + 1;
const pad4 = (n: number) => (n + 3) & ~3;

/** Streams sequences into a .pnf; the file appears under its name only when complete. */
export class PnfWriter {
  private fh!: FileHandle;
  private written = 0;
  private readonly tmp: string;
  private readonly valid: Uint8Array;
  private constructor(readonly path: string, readonly nSeq: number, readonly seqLen: number) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.valid = new Uint8Array(pad4(nSeq));
  }

  static async create(path: string, nSeq: number, seqLen: number): Promise<PnfWriter> {
    if (!(nSeq > 0 && seqLen > 0)) throw new RangeError("pnf: nSeq and seqLen must be positive");
    const w = new PnfWriter(path, nSeq, seqLen);
    w.fh = await open(w.tmp, "w");
    return w;
  }

  private dataOffset(): number { return 32 + this.valid.length; }

  /** Append one sequence (exactly seqLen frames of a dump, from frame `from`). */
  async add(d: FeatureDump, validBands: number, from = 0): Promise<void> {
    if (this.written >= this.nSeq) throw new Error("pnf: more sequences than declared");
    if (from + this.seqLen > d.frames) throw new RangeError(`pnf: dump has ${d.frames} frames, need ${from + this.seqLen}`);
    const rec = new Float32Array(this.seqLen * PNF_RECORD);
    for (let t = 0; t < this.seqLen; t++) {
      const o = t * PNF_RECORD, s = from + t;
      rec.set(d.features.subarray(s * NB_FEATURES, (s + 1) * NB_FEATURES), o);
      rec.set(d.gains.subarray(s * NB_BANDS, (s + 1) * NB_BANDS), o + NB_FEATURES);
      rec.set(d.strengths.subarray(s * NB_BANDS, (s + 1) * NB_BANDS), o + NB_FEATURES + NB_BANDS);
      rec[o + PNF_RECORD - 1] = d.vad[s];
    }
    this.valid[this.written] = Math.max(0, Math.min(NB_BANDS, validBands | 0));
    const pos = this.dataOffset() + this.written * this.seqLen * PNF_RECORD * 4;
    await this.fh.write(new Uint8Array(rec.buffer), 0, rec.byteLength, pos);
    this.written++;
  }

  /** Write the header and move the file into place. */
  async close(): Promise<void> {
    if (this.written !== this.nSeq) { await this.abort(); throw new Error(`pnf: ${this.written} of ${this.nSeq} sequences written`); }
    const h = new DataView(new ArrayBuffer(32));
    for (let i = 0; i < 4; i++) h.setUint8(i, PNF_MAGIC.charCodeAt(i));
    [PNF_VERSION, this.nSeq, this.seqLen, NB_FEATURES, NB_BANDS, PNF_RECORD, 0].forEach((v, i) => h.setUint32(4 + 4 * i, v, true));
    await this.fh.write(new Uint8Array(h.buffer), 0, 32, 0);
    await this.fh.write(this.valid, 0, this.valid.length, 32);
    await this.fh.close();
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await unlink(this.tmp).catch(() => {});
  }
}

export interface PnfFile { nSeq: number; seqLen: number; validBands: Uint8Array; records: Float32Array; }

/** Parse a .pnf held in memory (tests and tools). */
export function readPnf(bytes: Uint8Array): PnfFile {
  if (bytes.length < 32) throw new Error("pnf: file too short");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== PNF_MAGIC) throw new Error(`pnf: bad magic ${JSON.stringify(magic)}`);
  const [version, nSeq, seqLen, nFeat, nBands, recLen] = [4, 8, 12, 16, 20, 24].map((o) => dv.getUint32(o, true));
  if (version !== PNF_VERSION || nFeat !== NB_FEATURES || nBands !== NB_BANDS || recLen !== PNF_RECORD) throw new Error("pnf: unsupported version or layout");
  const off = 32 + pad4(nSeq);
  const need = off + nSeq * seqLen * recLen * 4;
  if (bytes.length !== need) throw new Error(`pnf: size ${bytes.length} != expected ${need}`);
  // copy: a Node Buffer's slice() shares (pooled) memory and may be unaligned
  const data = new Uint8Array(bytes.length - off);
  data.set(bytes.subarray(off));
  return { nSeq, seqLen, validBands: Uint8Array.from(bytes.subarray(32, 32 + nSeq)), records: new Float32Array(data.buffer) };
}
