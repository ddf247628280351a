/**
 * WAV decoding and encoding for the CLI and tools.
 *
 * Chunk parsing, G.711 decoding and the headers of written files go through the
 * `wavefile` package; in front of it sits our own walk over the RIFF chunks,
 * because wavefile accepts truncated files, impossible chunk sizes and
 * inconsistent `fmt ` fields silently and then returns garbage samples. Sample
 * decoding and packing are ours: wavefile reads WAVE_FORMAT_EXTENSIBLE float
 * data as integers, and its per-sample packing is slow (16 s to write two
 * minutes of float32, against 60 ms here).
 *
 * Pure bytes in, bytes out (no file system), so it also runs in browsers/workers.
 */
import wavefile from "wavefile";

/** How samples are stored in a file. */
export type SampleFormat = "pcm8" | "pcm16" | "pcm24" | "pcm32" | "float32" | "float64" | "alaw" | "mulaw";

/** Formats {@link encodeWav} can write. */
export type WritableFormat = "pcm16" | "pcm24" | "pcm32" | "float32";

/** What the header of a decoded file said. */
export interface WavInfo {
  sampleRate: number;
  channels: number;
  /** Sample frames (samples per channel). */
  frames: number;
  format: SampleFormat;
  /** Container bits per sample (8, 16, 24, 32, 64). */
  bitsPerSample: number;
  /** Meaningful bits when the header says fewer than the container (EXTENSIBLE / odd depths). */
  validBitsPerSample: number;
  /** True when the fmt chunk was WAVE_FORMAT_EXTENSIBLE. */
  extensible: boolean;
  /** Speaker mask from an EXTENSIBLE header, 0 when absent. */
  channelMask: number;
  /** RIFX is the big-endian variant. */
  container: "RIFF" | "RIFX";
}

/** A decoded file: one Float32Array per channel, full scale = ±1. */
export interface WavAudio {
  info: WavInfo;
  channels: Float32Array[];
  /** Number of non-finite samples replaced by 0 (only with `sanitize`). */
  sanitized: number;
}

export interface DecodeOptions {
  /** Replace NaN/±Inf float samples with 0 instead of failing (default false). */
  sanitize?: boolean;
}

export interface EncodeOptions {
  sampleRate: number;
  format: WritableFormat;
  /** Speaker mask for EXTENSIBLE headers (written when the header is EXTENSIBLE). */
  channelMask?: number;
}

export interface EncodedWav {
  bytes: Uint8Array;
  /** Integer formats only: samples outside [-1, 1) that were clipped to full scale. */
  clipped: number;
}

/** Why a file could not be read; `code` lets callers branch without parsing text. */
export type WavErrorCode = "EMPTY" | "NOT_WAV" | "TRUNCATED" | "CORRUPT" | "UNSUPPORTED" | "NONFINITE";

export class WavError extends Error {
  readonly code: WavErrorCode;
  constructor(code: WavErrorCode, message: string) {
    super(message);
    this.name = "WavError";
    this.code = code;
  }
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 4..15 of every KSDATAFORMAT_SUBTYPE_* GUID, as wavefile's 3 trailing uint32s. */
const KSDATAFORMAT_TAIL = [0x00100000, 0xaa000080, 0x719b3800];

const FORMAT_NAMES: Record<number, string> = {
  0x0002: "Microsoft ADPCM",
  0x0011: "IMA ADPCM",
  0x0031: "GSM 6.10",
  0x0050: "MPEG",
  0x0055: "MP3",
  0x00ff: "AAC",
  0x1610: "AAC (HE)",
  0xf1ac: "FLAC",
};

/** Sanity limits: beyond these a header is corrupt rather than exotic. */
const MAX_CHANNELS = 256;
const MAX_SAMPLE_RATE = 10_000_000;
const MAX_FMT_SIZE = 1 << 16;
const MAX_META_CHUNK = 16 << 20;

const CONVERT_HINT = "convert it first, e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`";

interface ChunkLayout {
  container: "RIFF" | "RIFX";
  fmtOffset: number;
  fmtSize: number;
  dataOffset: number;
  dataSize: number;
}

/**
 * Walk the top-level chunks up to `data`, checking every size against the
 * bytes actually present. Chunks after `data` are ignored (trailing metadata
 * or junk must not make a good file unreadable).
 */
function scanChunks(bytes: Uint8Array): ChunkLayout {
  if (bytes.length === 0) throw new WavError("EMPTY", "the file is empty (0 bytes)");
  const tag = (at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  const printable = (s: string) => JSON.stringify(s).slice(1, -1);
  if (bytes.length < 12) {
    throw new WavError("TRUNCATED", `truncated header: the file has only ${bytes.length} bytes, a WAV header needs at least 44`);
  }
  const riff = tag(0);
  if (riff === "RF64") throw new WavError("UNSUPPORTED", "RF64 (64-bit WAV for files over 4 GiB) is not supported");
  if (riff !== "RIFF" && riff !== "RIFX") {
    throw new WavError("NOT_WAV", `not a WAV file: it starts with "${printable(riff)}", expected "RIFF"`);
  }
  if (tag(8) !== "WAVE") throw new WavError("NOT_WAV", `not a WAV file: RIFF form type is "${printable(tag(8))}", expected "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = riff === "RIFF";
  let fmtOffset = -1, fmtSize = 0;
  let pos = 12;
  for (;;) {
    if (pos + 8 > bytes.length) {
      if (fmtOffset < 0) throw new WavError("TRUNCATED", `truncated header: no "fmt " chunk before the end of the file (${bytes.length} bytes)`);
      throw new WavError("CORRUPT", 'no "data" chunk: the file has a header but no audio data');
    }
    const id = tag(pos);
    const size = view.getUint32(pos + 4, le);
    const body = pos + 8;
    if (id === "data") {
      if (fmtOffset < 0) throw new WavError("CORRUPT", 'corrupt header: "data" chunk comes before the "fmt " chunk');
      if (body + size > bytes.length) {
        throw new WavError("TRUNCATED",
          `truncated file: the data chunk declares ${size} bytes but only ${bytes.length - body} are present`);
      }
      return { container: riff, fmtOffset, fmtSize, dataOffset: body, dataSize: size };
    }
    if (!/^[\x20-\x7e]{4}$/.test(id)) {
      throw new WavError("CORRUPT", `corrupt header: unreadable chunk id "${printable(id)}" at byte ${pos}`);
    }
    if (body + size > bytes.length) {
      // Metadata chunks are small: a huge size means garbage, a modest one a cut-off file.
      const absurd = size > MAX_META_CHUNK;
      throw new WavError(absurd ? "CORRUPT" : "TRUNCATED",
        `${absurd ? "corrupt" : "truncated"} header: chunk "${id}" at byte ${pos} declares ${size} bytes, past the end of the file (${bytes.length} bytes)`);
    }
    if (id === "fmt ") {
      if (size < 16 || size > MAX_FMT_SIZE) throw new WavError("CORRUPT", `corrupt header: "fmt " chunk has an impossible size of ${size} bytes`);
      fmtOffset = body;
      fmtSize = size;
    }
    pos = body + size + (size & 1);
  }
}

interface Encoding {
  format: SampleFormat;
  bytesPerSample: number;
  validBits: number;
  extensible: boolean;
  channelMask: number;
}

/** Decide the sample encoding from the parsed fmt fields, rejecting what we cannot decode. */
function resolveEncoding(fmt: WavefileFmt, fmtSize: number): Encoding {
  const { numChannels, sampleRate, blockAlign, bitsPerSample } = fmt;
  if (numChannels < 1 || numChannels > MAX_CHANNELS) throw new WavError("CORRUPT", `corrupt header: ${numChannels} channels`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) throw new WavError("CORRUPT", `corrupt header: sample rate ${sampleRate} Hz`);
  let code = fmt.audioFormat;
  let extensible = false;
  let channelMask = 0;
  let validBits = bitsPerSample;
  if (code === WAVE_FORMAT_EXTENSIBLE) {
    if (fmtSize < 40 || fmt.cbSize < 22) throw new WavError("CORRUPT", "corrupt header: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
    const sub = fmt.subformat;
    if (sub.length !== 4 || KSDATAFORMAT_TAIL.some((v, i) => sub[i + 1] !== v)) {
      throw new WavError("UNSUPPORTED", "unsupported encoding: WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID");
    }
    code = sub[0];
    extensible = true;
    channelMask = fmt.dwChannelMask >>> 0;
    if (fmt.validBitsPerSample > 0) validBits = fmt.validBitsPerSample;
  }
  if (bitsPerSample === 0 || validBits > bitsPerSample) {
    throw new WavError("CORRUPT", `corrupt header: ${bitsPerSample} bits per sample (${validBits} valid)`);
  }
  const bytesPerSample = Math.ceil(bitsPerSample / 8);
  if (blockAlign !== bytesPerSample * numChannels) {
    throw new WavError("CORRUPT",
      `corrupt header: block align is ${blockAlign} bytes, expected ${bytesPerSample * numChannels} for ${numChannels} channel(s) of ${bitsPerSample} bits`);
  }
  let format: SampleFormat | undefined;
  if (code === WAVE_FORMAT_PCM) {
    format = ({ 1: "pcm8", 2: "pcm16", 3: "pcm24", 4: "pcm32" } as Record<number, SampleFormat>)[bytesPerSample];
  } else if (code === WAVE_FORMAT_IEEE_FLOAT) {
    format = bitsPerSample === 32 ? "float32" : bitsPerSample === 64 ? "float64" : undefined;
  } else if (code === WAVE_FORMAT_ALAW || code === WAVE_FORMAT_MULAW) {
    format = bitsPerSample === 8 ? (code === WAVE_FORMAT_ALAW ? "alaw" : "mulaw") : undefined;
  } else {
    const name = FORMAT_NAMES[code] ?? `format tag 0x${code.toString(16).padStart(4, "0")}`;
    throw new WavError("UNSUPPORTED", `unsupported encoding: ${name}; only PCM, IEEE float, A-law and mu-law can be read (${CONVERT_HINT})`);
  }
  if (!format) {
    throw new WavError("UNSUPPORTED", `unsupported encoding: ${bitsPerSample}-bit samples with format tag ${code} (${CONVERT_HINT})`);
  }
  return { format, bytesPerSample, validBits, extensible, channelMask };
}

/** The fmt fields wavefile exposes (its typings say only `object`). */
interface WavefileFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  cbSize: number;
  validBitsPerSample: number;
  dwChannelMask: number;
  subformat: number[];
}

function deinterleave(data: Uint8Array, enc: Encoding, channels: number, frames: number, littleEndian: boolean): Float32Array[] {
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const step = enc.bytesPerSample;
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++, p += step) {
      let v: number;
      switch (enc.format) {
        case "pcm8": v = (data[p] - 128) / 128; break; // 8-bit WAV is unsigned
        case "pcm16": v = view.getInt16(p, littleEndian) / 32768; break;
        case "pcm24": {
          const lo = littleEndian ? data[p] | (data[p + 1] << 8) : data[p + 2] | (data[p + 1] << 8);
          const hi = littleEndian ? data[p + 2] : data[p];
          v = (((hi << 24) >> 8) | lo) / 8388608;
          break;
        }
        case "pcm32": v = view.getInt32(p, littleEndian) / 2147483648; break;
        case "float32": v = view.getFloat32(p, littleEndian); break;
        default: v = view.getFloat64(p, littleEndian); break; // float64
      }
      out[c][i] = v;
    }
  }
  return out;
}

/** Reject (or zero, with `sanitize`) samples that are not finite after conversion to float32. */
function checkFinite(channels: Float32Array[], sampleRate: number, sanitize: boolean): number {
  let replaced = 0;
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c];
    for (let i = 0; i < x.length; i++) {
      if (Number.isFinite(x[i])) continue;
      if (!sanitize) {
        const what = Number.isNaN(x[i]) ? "NaN" : "infinite (or beyond float32 range)";
        throw new WavError("NONFINITE",
          `sample ${i} of channel ${c} (at ${(i / sampleRate).toFixed(4)} s) is ${what}; ` +
          "the file is corrupt or was written by a faulty tool (sanitising replaces such samples with 0)");
      }
      x[i] = 0;
      replaced++;
    }
  }
  return replaced;
}

/**
 * Decode a WAV file into one Float32Array per channel (full scale ±1).
 * Reads PCM 8/16/24/32-bit, float 32/64-bit, A-law and mu-law, in RIFF or
 * RIFX containers, plain or WAVE_FORMAT_EXTENSIBLE headers.
 * @throws {WavError} with a message fit to show a user.
 */
export function decodeWav(bytes: Uint8Array, opts: DecodeOptions = {}): WavAudio {
  const layout = scanChunks(bytes);
  const wav = new wavefile.WaveFile();
  try {
    // Hand wavefile only what we validated: everything up to the end of data.
    wav.fromBuffer(bytes.subarray(0, layout.dataOffset + layout.dataSize));
  } catch (e) {
    throw new WavError("CORRUPT", `corrupt header: ${(e as Error).message}`);
  }
  const fmt = wav.fmt as WavefileFmt;
  const enc = resolveEncoding(fmt, layout.fmtSize);
  const channels = fmt.numChannels;
  const frameBytes = fmt.blockAlign;
  if (layout.dataSize === 0) throw new WavError("EMPTY", "the file contains no audio: its data chunk is empty");
  if (layout.dataSize % frameBytes !== 0) {
    throw new WavError("CORRUPT",
      `corrupt file: data chunk size ${layout.dataSize} is not a whole number of ${frameBytes}-byte sample frames`);
  }
  let data = (wav.data as { samples: Uint8Array }).samples.subarray(0, layout.dataSize);
  let decodeAs = enc;
  let littleEndian = layout.container === "RIFF";
  if (enc.format === "alaw" || enc.format === "mulaw") {
    if (enc.format === "alaw") wav.fromALaw("16"); else wav.fromMuLaw("16");
    data = (wav.data as { samples: Uint8Array }).samples;
    decodeAs = { ...enc, format: "pcm16", bytesPerSample: 2 };
    littleEndian = wav.container !== "RIFX";
  }
  const frames = layout.dataSize / frameBytes;
  const out = deinterleave(data, decodeAs, channels, frames, littleEndian);
  const sanitized = enc.format.startsWith("float") ? checkFinite(out, fmt.sampleRate, opts.sanitize ?? false) : 0;
  return {
    info: {
      sampleRate: fmt.sampleRate,
      channels,
      frames,
      format: enc.format,
      bitsPerSample: fmt.bitsPerSample,
      validBitsPerSample: enc.validBits,
      extensible: enc.extensible,
      channelMask: enc.channelMask,
      container: layout.container,
    },
    channels: out,
    sanitized,
  };
}

/**
 * The format to write a processed version of `info` in: the input's own
 * where that keeps quality, else the nearest that does. 8-bit, A-law and
 * mu-law become 16-bit PCM (re-quantising a denoised signal that coarsely
 * would add back audible noise); float64 becomes float32 (the processing
 * precision).
 */
export function outputFormatFor(info: WavInfo): WritableFormat {
  switch (info.format) {
    case "pcm24": return "pcm24";
    case "pcm32": return "pcm32";
    case "float32": case "float64": return "float32";
    default: return "pcm16";
  }
}

const BIT_DEPTH_CODE: Record<WritableFormat, string> = { pcm16: "16", pcm24: "24", pcm32: "32", float32: "32f" };

/**
 * Encode channels (full scale ±1) as a little-endian RIFF WAV.
 * Integer formats round to nearest and clip to full scale (no dither), so
 * values read by {@link decodeWav} from an integer file re-encode bit-exactly.
 */
export function encodeWav(channels: Float32Array[], opts: EncodeOptions): EncodedWav {
  const nch = channels.length;
  if (nch < 1 || nch > MAX_CHANNELS) throw new RangeError(`encodeWav: ${nch} channels`);
  const frames = channels[0].length;
  if (channels.some((x) => x.length !== frames)) throw new RangeError("encodeWav: channels differ in length");
  if (!Number.isInteger(opts.sampleRate) || opts.sampleRate < 1 || opts.sampleRate > MAX_SAMPLE_RATE) {
    throw new RangeError(`encodeWav: sample rate ${opts.sampleRate}`);
  }
  const isFloat = opts.format === "float32";
  const bytesPerSample = opts.format === "pcm16" ? 2 : opts.format === "pcm24" ? 3 : 4;
  const data = new Uint8Array(frames * nch * bytesPerSample);
  const view = new DataView(data.buffer);
  const stride = nch * bytesPerSample;
  let clipped = 0;
  for (let c = 0; c < nch; c++) {
    const x = channels[c];
    let p = c * bytesPerSample;
    if (isFloat) {
      for (let i = 0; i < frames; i++, p += stride) view.setFloat32(p, x[i], true);
      continue;
    }
    const scale = 2 ** (bytesPerSample * 8 - 1);
    const hi = scale - 1;
    for (let i = 0; i < frames; i++, p += stride) {
      let q = Math.round(x[i] * scale);
      if (q > hi) { q = hi; clipped++; }
      else if (q < -scale) { q = -scale; clipped++; }
      else if (q !== q) q = 0; // NaN never reaches a file as a full-scale click
      if (bytesPerSample === 2) view.setInt16(p, q, true);
      else if (bytesPerSample === 4) view.setInt32(p, q, true);
      else { data[p] = q & 255; data[p + 1] = (q >> 8) & 255; data[p + 2] = (q >> 16) & 255; }
    }
  }
  // wavefile builds the header; its per-sample packing is far too slow for
  // float (16 s per 2 minutes of audio), so the data bytes are ours.
  const wav = new wavefile.WaveFile();
  wav.fromScratch(nch, opts.sampleRate, BIT_DEPTH_CODE[opts.format], new Float32Array(0));
  const dataChunk = wav.data as { chunkSize: number; samples: Uint8Array };
  dataChunk.samples = data;
  dataChunk.chunkSize = data.length;
  const fmt = wav.fmt as WavefileFmt;
  if (fmt.cbSize === 22) {
    // wavefile lays out an EXTENSIBLE fmt chunk for > 2 channels but keeps the
    // plain format tag and always writes the PCM sub-format GUID; fix both.
    fmt.audioFormat = WAVE_FORMAT_EXTENSIBLE;
    fmt.subformat[0] = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
    if (opts.channelMask) fmt.dwChannelMask = opts.channelMask;
  }
  // Non-PCM data needs a fact chunk (sample frames) by the spec; wavefile omits it.
  if (isFloat) Object.assign(wav.fact, { chunkId: "fact", chunkSize: 4, dwSampleLength: frames });
  return { bytes: wav.toBuffer(), clipped };
}
