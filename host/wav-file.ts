/**
 * A WAV file read block by block from disk (Node only), so a recording of
 * any length is decoded in constant memory. The header is read and checked
 * once by {@link readWavHeader}; samples come through {@link decodeFrames},
 * the same code as the whole-buffer {@link decodeWav}.
 */
import { readSync } from "node:fs";
import * as fs from "node:fs/promises";
import { checkFinite, decodeFrames, readWavHeader, type WavInfo, type WavLayout } from "./wav.js";

/** What one pass over a float file found. */
export interface FloatScan {
  /** Largest |sample| among the finite samples. */
  peak: number;
  /** Samples that are NaN or ±Inf (or beyond float32 range). */
  nonFinite: number;
}

export class WavFileReader {
  private next = 0; // next frame to read
  private raw: Uint8Array = new Uint8Array(0);

  private constructor(private readonly handle: fs.FileHandle, readonly layout: WavLayout) {}

  get info(): WavInfo { return this.layout.info; }

  /**
   * Open `file` and check its header.
   * @throws {WavError} for a file that is not a readable WAV; fs errors as they come.
   */
  static async open(file: string): Promise<WavFileReader> {
    const handle = await fs.open(file, "r");
    try {
      const { size } = await handle.stat();
      // Header reads are a few small ones; sync keeps the chunk walk simple.
      const layout = readWavHeader((pos, len) => {
        const b = new Uint8Array(Math.max(0, Math.min(len, size - pos)));
        const n = readSync(handle.fd, b, 0, b.length, pos);
        return b.subarray(0, n);
      }, size);
      return new WavFileReader(handle, layout);
    } catch (e) {
      await handle.close().catch(() => {});
      throw e;
    }
  }

  /** Frames not read yet. */
  get remaining(): number { return this.info.frames - this.next; }

  /** Go back to the first frame. */
  rewind(): void { this.next = 0; }

  /**
   * Decode the next `min(frames, remaining)` frames into `out[c][0..]`;
   * returns how many. Non-finite float samples are left as they are: see
   * {@link checkFinite}.
   */
  async read(frames: number, out: Float32Array[]): Promise<number> {
    const n = Math.min(frames, this.remaining);
    if (n <= 0) return 0;
    const bytes = n * this.layout.blockAlign;
    if (this.raw.length < bytes) this.raw = new Uint8Array(bytes);
    const buf = this.raw.subarray(0, bytes);
    let got = 0;
    while (got < bytes) {
      const { bytesRead } = await this.handle.read(buf, got, bytes - got, this.layout.dataOffset + this.next * this.layout.blockAlign + got);
      if (bytesRead === 0) throw new Error(`the file got shorter while being read (at frame ${this.next})`);
      got += bytesRead;
    }
    decodeFrames(buf, this.layout, out);
    this.next += n;
    return n;
  }

  /**
   * One pass over a float file for its peak and its non-finite samples, so
   * both are known before processing starts; rewinds. With `sanitize` false
   * the first non-finite sample throws a WavError naming it.
   */
  async scanFloat(sanitize: boolean, block = 1 << 16): Promise<FloatScan> {
    const { channels, sampleRate } = this.info;
    const buf = Array.from({ length: channels }, () => new Float32Array(block));
    let peak = 0, nonFinite = 0;
    this.rewind();
    for (let at = 0, n; (n = await this.read(block, buf)) > 0; at += n) {
      nonFinite += checkFinite(buf, sampleRate, sanitize, at, 0, n);
      for (const x of buf) for (let i = 0; i < n; i++) { const a = Math.abs(x[i]); if (a > peak) peak = a; }
    }
    this.rewind();
    return { peak, nonFinite };
  }

  async close(): Promise<void> { await this.handle.close(); }
}
