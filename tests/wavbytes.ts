/**
 * Hand-assembled WAV bytes for tests, written without the code under test so
 * headers can be made exactly as broken as a test needs.
 */

export interface RawWav {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  data: Uint8Array;
  blockAlign?: number;
  /** Write a WAVE_FORMAT_EXTENSIBLE fmt chunk with this sub-format code. */
  extensible?: { subFormat: number; validBits?: number; channelMask?: number };
  bigEndian?: boolean;
  /** Raw chunks (id + body) inserted between fmt and data. */
  chunksBefore?: Array<[string, Uint8Array]>;
  /** Raw bytes appended after the data chunk. */
  trailer?: Uint8Array;
  /** Lie about the data chunk size. */
  dataSize?: number;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

export function rawWav(w: RawWav): Uint8Array {
  const le = !w.bigEndian;
  const bytes: number[] = [];
  const u16 = (v: number) => { const b = [v & 255, (v >> 8) & 255]; bytes.push(...(le ? b : b.reverse())); };
  const u32 = (v: number) => { const b = [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]; bytes.push(...(le ? b : b.reverse())); };
  bytes.push(...ascii(w.bigEndian ? "RIFX" : "RIFF"));
  u32(0); // patched below
  bytes.push(...ascii("WAVE"), ...ascii("fmt "));
  const ext = w.extensible;
  u32(ext ? 40 : 16);
  u16(ext ? 0xfffe : w.formatTag);
  u16(w.channels);
  u32(w.sampleRate);
  const blockAlign = w.blockAlign ?? w.channels * Math.ceil(w.bitsPerSample / 8);
  u32(blockAlign * w.sampleRate);
  u16(blockAlign);
  u16(w.bitsPerSample);
  if (ext) {
    u16(22);
    u16(ext.validBits ?? w.bitsPerSample);
    u32(ext.channelMask ?? 0);
    // KSDATAFORMAT_SUBTYPE GUID: code, then the fixed 00000000-0010-8000-00AA00389B71 tail.
    bytes.push(ext.subFormat & 255, (ext.subFormat >> 8) & 255, 0, 0, 0x00, 0x00, 0x10, 0x00,
      0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71);
  }
  for (const [id, body] of w.chunksBefore ?? []) {
    bytes.push(...ascii(id));
    u32(body.length);
    bytes.push(...body);
    if (body.length & 1) bytes.push(0);
  }
  bytes.push(...ascii("data"));
  u32(w.dataSize ?? w.data.length);
  const out = new Uint8Array(bytes.length + w.data.length + (w.trailer?.length ?? 0));
  out.set(bytes);
  out.set(w.data, bytes.length);
  if (w.trailer) out.set(w.trailer, bytes.length + w.data.length);
  new DataView(out.buffer).setUint32(4, out.length - 8, le);
  return out;
}

/** Little-endian int16 PCM bytes. */
export function pcm16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setInt16(i * 2, x, true));
  return b;
}

export function float32Bytes(values: number[], bigEndian = false): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, !bigEndian));
  return b;
}

export function float64Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 8);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat64(i * 8, x, true));
  return b;
}

/** Deterministic pseudo-random generator (xorshift32), so failures reproduce. */
export function rng(seed = 12345): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
