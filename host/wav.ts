/**
 * WAV decoding and encoding, whole files or block by block.
 *
 * All ours, no WAV library: the header walk checks every chunk size against
 * the bytes really present (libraries accept truncated files and impossible
 * fmt fields silently and then return garbage samples), and the sample
 * decoding and packing run at memory speed. Headers and samples are separate
 * steps ({@link readWavHeader}, {@link decodeFrames}; {@link wavHeader},
 * {@link encodeFrames}) so the CLI can stream a file of any length through
 * the denoiser in constant memory; {@link decodeWav} and {@link encodeWav}
 * are the whole-buffer forms of the same code.
 *
 * Pure bytes in, bytes out (no file system), so it also runs in browsers/workers.
 */
import { checkOptionKeys, describe, isPlainObject, needChannels } from "./options.js";

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
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID (bytes 0-1 hold the format tag). */
const KSDATAFORMAT_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

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

/**
 * Random access to the first bytes of a file: returns up to `length` bytes
 * from `position` (fewer only at the end of the file).
 */
export type ReadAt = (position: number, length: number) => Uint8Array;

/** Where the samples of a file are and how to decode them. */
export interface WavLayout {
  info: WavInfo;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /** Bytes of sample data (info.frames x blockAlign). */
  dataSize: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
}

interface Encoding {
  format: SampleFormat;
  bytesPerSample: number;
  validBits: number;
  extensible: boolean;
  channelMask: number;
}

/** The fmt chunk's fields, as stored. */
interface FmtFields {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  cbSize: number;
  validBitsPerSample: number;
  dwChannelMask: number;
  /** The 16-byte sub-format GUID of an EXTENSIBLE header (empty otherwise). */
  subformat: Uint8Array;
}

function parseFmt(body: Uint8Array, le: boolean): FmtFields {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const ext = body.length >= 18;
  const full = body.length >= 40;
  return {
    audioFormat: v.getUint16(0, le),
    numChannels: v.getUint16(2, le),
    sampleRate: v.getUint32(4, le),
    blockAlign: v.getUint16(12, le),
    bitsPerSample: v.getUint16(14, le),
    cbSize: ext ? v.getUint16(16, le) : 0,
    validBitsPerSample: full ? v.getUint16(18, le) : 0,
    dwChannelMask: full ? v.getUint32(20, le) : 0,
    // The GUID's first field is stored in the container's byte order.
    subformat: full ? body.slice(24, 40) : new Uint8Array(0),
  };
}

/** The format tag inside an EXTENSIBLE sub-format GUID, or -1 when the GUID is not a KSDATAFORMAT one. */
function subformatTag(guid: Uint8Array, le: boolean): number {
  if (guid.length !== 16) return -1;
  // Data1 (4 bytes) holds the tag; Data2/Data3 are 16-bit in the container's byte order.
  const d = new DataView(guid.buffer, guid.byteOffset, 16);
  const data1 = d.getUint32(0, le), data2 = d.getUint16(4, le), data3 = d.getUint16(6, le);
  if (data1 > 0xffff || data2 !== 0x0000 || data3 !== 0x0010) return -1;
  for (let i = 8; i < 16; i++) if (guid[i] !== KSDATAFORMAT_TAIL[i - 2]) return -1;
  return data1;
}

/**
 * Read and check a WAV header through `read`, for a file of `fileSize`
 * bytes: walks the top-level chunks up to `data`, checking every size
 * against the bytes actually present. Chunks after `data` are ignored
 * (trailing metadata or junk must not make a good file unreadable). Only
 * chunk headers and the fmt body are read, so a large file costs nothing.
 * @throws {WavError} with a message fit to show a user.
 */
export function readWavHeader(read: ReadAt, fileSize: number): WavLayout {
  if (fileSize === 0) throw new WavError("EMPTY", "the file is empty (0 bytes)");
  const printable = (s: string) => JSON.stringify(s).slice(1, -1);
  if (fileSize < 12) {
    throw new WavError("TRUNCATED", `truncated header: the file has only ${fileSize} bytes, a WAV header needs at least 44`);
  }
  const head = read(0, 12);
  const tag = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  const riff = tag(head, 0);
  if (riff === "RF64") throw new WavError("UNSUPPORTED", "RF64 (64-bit WAV for files over 4 GiB) is not supported");
  if (riff !== "RIFF" && riff !== "RIFX") {
    throw new WavError("NOT_WAV", `not a WAV file: it starts with "${printable(riff)}", expected "RIFF"`);
  }
  if (tag(head, 8) !== "WAVE") throw new WavError("NOT_WAV", `not a WAV file: RIFF form type is "${printable(tag(head, 8))}", expected "WAVE"`);
  const le = riff === "RIFF";
  let fmt: FmtFields | undefined;
  let fmtSize = 0;
  let pos = 12;
  for (;;) {
    if (pos + 8 > fileSize) {
      if (!fmt) throw new WavError("TRUNCATED", `truncated header: no "fmt " chunk before the end of the file (${fileSize} bytes)`);
      throw new WavError("CORRUPT", 'no "data" chunk: the file has a header but no audio data');
    }
    const ch = read(pos, 8);
    const id = tag(ch, 0);
    const size = new DataView(ch.buffer, ch.byteOffset, 8).getUint32(4, le);
    const body = pos + 8;
    if (id === "data") {
      if (!fmt) throw new WavError("CORRUPT", 'corrupt header: "data" chunk comes before the "fmt " chunk');
      if (body + size > fileSize) {
        throw new WavError("TRUNCATED",
          `truncated file: the data chunk declares ${size} bytes but only ${fileSize - body} are present`);
      }
      return layoutFrom(fmt, fmtSize, riff, le, body, size);
    }
    if (!/^[\x20-\x7e]{4}$/.test(id)) {
      throw new WavError("CORRUPT", `corrupt header: unreadable chunk id "${printable(id)}" at byte ${pos}`);
    }
    if (body + size > fileSize) {
      // Metadata chunks are small: a huge size means garbage, a modest one a cut-off file.
      const absurd = size > MAX_META_CHUNK;
      throw new WavError(absurd ? "CORRUPT" : "TRUNCATED",
        `${absurd ? "corrupt" : "truncated"} header: chunk "${id}" at byte ${pos} declares ${size} bytes, past the end of the file (${fileSize} bytes)`);
    }
    if (id === "fmt ") {
      if (size < 16 || size > MAX_FMT_SIZE) throw new WavError("CORRUPT", `corrupt header: "fmt " chunk has an impossible size of ${size} bytes`);
      fmt = parseFmt(read(body, size), le);
      fmtSize = size;
    }
    pos = body + size + (size & 1);
  }
}

function layoutFrom(fmt: FmtFields, fmtSize: number, container: "RIFF" | "RIFX", le: boolean, dataOffset: number, dataSize: number): WavLayout {
  const enc = resolveEncoding(fmt, fmtSize, le);
  const frameBytes = fmt.blockAlign;
  if (dataSize === 0) throw new WavError("EMPTY", "the file contains no audio: its data chunk is empty");
  if (dataSize % frameBytes !== 0) {
    throw new WavError("CORRUPT",
      `corrupt file: data chunk size ${dataSize} is not a whole number of ${frameBytes}-byte sample frames`);
  }
  return {
    info: {
      sampleRate: fmt.sampleRate,
      channels: fmt.numChannels,
      frames: dataSize / frameBytes,
      format: enc.format,
      bitsPerSample: fmt.bitsPerSample,
      validBitsPerSample: enc.validBits,
      extensible: enc.extensible,
      channelMask: enc.channelMask,
      container,
    },
    dataOffset,
    dataSize,
    blockAlign: frameBytes,
  };
}

/** Decide the sample encoding from the fmt fields, rejecting what we cannot decode. */
function resolveEncoding(fmt: FmtFields, fmtSize: number, le: boolean): Encoding {
  const { numChannels, sampleRate, blockAlign, bitsPerSample } = fmt;
  if (numChannels < 1 || numChannels > MAX_CHANNELS) throw new WavError("CORRUPT", `corrupt header: ${numChannels} channels`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) throw new WavError("CORRUPT", `corrupt header: sample rate ${sampleRate} Hz`);
  let code = fmt.audioFormat;
  let extensible = false;
  let channelMask = 0;
  let validBits = bitsPerSample;
  if (code === WAVE_FORMAT_EXTENSIBLE) {
    if (fmtSize < 40 || fmt.cbSize < 22) throw new WavError("CORRUPT", "corrupt header: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
    const sub = subformatTag(fmt.subformat, le);
    if (sub < 0) {
      throw new WavError("UNSUPPORTED", "unsupported encoding: WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID");
    }
    code = sub;
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

/** ITU-T G.711 A-law byte -> 16-bit linear value. */
function alawToLinear(a: number): number {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** ITU-T G.711 mu-law byte -> 16-bit linear value. */
function mulawToLinear(u: number): number {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** Both G.711 laws as tables of float samples (full scale ±1), built on first use. */
let g711: { alaw: Float32Array; mulaw: Float32Array } | undefined;
function g711Tables() {
  if (!g711) {
    const alaw = new Float32Array(256), mulaw = new Float32Array(256);
    for (let i = 0; i < 256; i++) { alaw[i] = alawToLinear(i) / 32768; mulaw[i] = mulawToLinear(i) / 32768; }
    g711 = { alaw, mulaw };
  }
  return g711;
}

/**
 * Decode whole sample frames of `layout`'s format from `data` (which must
 * start on a frame boundary) into `out[c]` starting at index `at`. Returns
 * the number of frames decoded: floor(data.length / blockAlign).
 */
export function decodeFrames(data: Uint8Array, layout: WavLayout, out: Float32Array[], at = 0): number {
  const { format, channels } = layout.info;
  const step = layout.blockAlign / channels;
  const frames = Math.floor(data.length / layout.blockAlign);
  if (out.length !== channels || out.some((o) => o.length < at + frames)) {
    throw new RangeError(`decodeFrames: need ${channels} output buffers of at least ${at + frames} samples`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = layout.info.container === "RIFF";
  const table = format === "alaw" ? g711Tables().alaw : format === "mulaw" ? g711Tables().mulaw : undefined;
  for (let c = 0; c < channels; c++) {
    const x = out[c];
    let p = c * step;
    const stride = layout.blockAlign;
    const end = at + frames;
    switch (format) {
      case "pcm8": for (let i = at; i < end; i++, p += stride) x[i] = (data[p] - 128) / 128; break; // 8-bit WAV is unsigned
      case "alaw": case "mulaw": for (let i = at; i < end; i++, p += stride) x[i] = table![data[p]]; break;
      case "pcm16": for (let i = at; i < end; i++, p += stride) x[i] = view.getInt16(p, le) / 32768; break;
      case "pcm24":
        for (let i = at; i < end; i++, p += stride) {
          const lo = le ? data[p] | (data[p + 1] << 8) : data[p + 2] | (data[p + 1] << 8);
          const hi = le ? data[p + 2] : data[p];
          x[i] = (((hi << 24) >> 8) | lo) / 8388608;
        }
        break;
      case "pcm32": for (let i = at; i < end; i++, p += stride) x[i] = view.getInt32(p, le) / 2147483648; break;
      case "float32": for (let i = at; i < end; i++, p += stride) x[i] = view.getFloat32(p, le); break;
      default: for (let i = at; i < end; i++, p += stride) x[i] = view.getFloat64(p, le); break; // float64
    }
  }
  return frames;
}

/**
 * Reject (or zero, with `sanitize`) samples of `channels[c][from..to)` that
 * are not finite after conversion to float32. `firstFrame` is the file
 * position of index 0, for the message. Returns how many were zeroed.
 * @throws {WavError} code NONFINITE without `sanitize`.
 */
export function checkFinite(channels: Float32Array[], sampleRate: number, sanitize: boolean, firstFrame = 0, from = 0, to = channels[0]?.length ?? 0): number {
  let replaced = 0;
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c];
    for (let i = from; i < to; i++) {
      if (Number.isFinite(x[i])) continue;
      if (!sanitize) {
        const what = Number.isNaN(x[i]) ? "NaN" : "infinite (or beyond float32 range)";
        const at = firstFrame + i;
        throw new WavError("NONFINITE",
          `sample ${at} of channel ${c} (at ${(at / sampleRate).toFixed(4)} s) is ${what}; ` +
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
  if (!(bytes instanceof Uint8Array)) {
    const hint = (bytes as unknown) instanceof ArrayBuffer ? " (wrap it: new Uint8Array(buffer))" : "";
    throw new TypeError(`percepnet: decodeWav() takes the file's bytes as a Uint8Array, got ${describe(bytes)}${hint}`);
  }
  checkOptionKeys("decodeWav()", opts, ["sanitize"]);
  if (opts.sanitize !== undefined && typeof opts.sanitize !== "boolean") throw new TypeError(`percepnet: decodeWav(): sanitize must be a boolean, got ${describe(opts.sanitize)}`);
  const layout = readWavHeader((p, n) => bytes.subarray(p, p + n), bytes.length);
  const { info } = layout;
  const out = Array.from({ length: info.channels }, () => new Float32Array(info.frames));
  decodeFrames(bytes.subarray(layout.dataOffset, layout.dataOffset + layout.dataSize), layout, out);
  const sanitized = info.format.startsWith("float") ? checkFinite(out, info.sampleRate, opts.sanitize ?? false) : 0;
  return { info, channels: out, sanitized };
}
/**
 * The format to write a processed version of `info` in: the input's own
 * where that keeps quality, else the nearest that does. 8-bit, A-law and
 * mu-law become 16-bit PCM (re-quantising a denoised signal that coarsely
 * would add back audible noise); float64 becomes float32 (the processing
 * precision).
 */
export function outputFormatFor(info: WavInfo): WritableFormat {
  if (!isPlainObject(info) || typeof info.format !== "string") {
    throw new TypeError(`percepnet: outputFormatFor() takes the WavInfo of a decoded file (decodeWav(bytes).info), got ${describe(info)}`);
  }
  switch (info.format) {
    case "pcm24": return "pcm24";
    case "pcm32": return "pcm32";
    case "float32": case "float64": return "float32";
    default: return "pcm16";
  }
}

/** Bytes per sample of each writable format. */
const BYTES_PER_SAMPLE: Record<WritableFormat, number> = { pcm16: 2, pcm24: 3, pcm32: 4, float32: 4 };
/** Largest data chunk a RIFF size field can describe (the header's 36-60 bytes count too). */
const MAX_DATA_BYTES = 0xffffffff - 80;

/** The speaker mask a plain multi-channel file implies (as WAVE_FORMAT_EXTENSIBLE writers use). */
function defaultChannelMask(channels: number): number {
  return ({ 1: 0x4, 2: 0x3, 4: 0x33, 6: 0x3f, 8: 0x63f } as Record<number, number>)[channels] ?? 0;
}

function checkEncodeOptions(fn: string, channels: number, opts: EncodeOptions): void {
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${fn}: options must be an object { sampleRate, format, channelMask? }`);
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) throw new RangeError(`${fn}: ${channels} channels`);
  if (!Number.isInteger(opts.sampleRate) || opts.sampleRate < 1 || opts.sampleRate > MAX_SAMPLE_RATE) {
    throw new RangeError(`${fn}: sample rate ${opts.sampleRate}`);
  }
  if (!Object.hasOwn(BYTES_PER_SAMPLE, opts.format)) {
    throw new RangeError(`${fn}: format ${String(opts.format)}; expected one of ${Object.keys(BYTES_PER_SAMPLE).join(", ")}`);
  }
}

/**
 * The header of a little-endian RIFF WAV holding `frames` sample frames of
 * `channels` channels: everything up to the first sample byte. Followed by
 * {@link encodeFrames} output it makes the same bytes as {@link encodeWav}.
 * One or two channels get a plain fmt chunk, more get WAVE_FORMAT_EXTENSIBLE
 * with a speaker mask; float data gets the fact chunk the spec requires.
 */
export function wavHeader(channels: number, frames: number, opts: EncodeOptions): Uint8Array {
  return checkedHeader("wavHeader", channels, frames, opts);
}

/** {@link wavHeader} with errors named after `fn`, the public function called. */
function checkedHeader(fn: string, channels: number, frames: number, opts: EncodeOptions): Uint8Array {
  checkEncodeOptions(fn, channels, opts);
  const bytesPerSample = BYTES_PER_SAMPLE[opts.format];
  const blockAlign = channels * bytesPerSample;
  const dataBytes = frames * blockAlign;
  if (!Number.isInteger(frames) || frames < 0 || dataBytes > MAX_DATA_BYTES) {
    throw new RangeError(`${fn}: ${frames} frames of ${blockAlign} bytes do not fit a WAV file (4 GiB at most)`);
  }
  const isFloat = opts.format === "float32";
  const extensible = channels > 2;
  const fmtSize = extensible ? 40 : 16;
  const factSize = isFloat ? 12 : 0;
  const size = 12 + 8 + fmtSize + factSize + 8;
  const h = new Uint8Array(size);
  const v = new DataView(h.buffer);
  const ascii = (s: string, at: number) => { for (let i = 0; i < 4; i++) h[at + i] = s.charCodeAt(i); };
  ascii("RIFF", 0);
  v.setUint32(4, size - 8 + dataBytes, true);
  ascii("WAVE", 8);
  ascii("fmt ", 12);
  v.setUint32(16, fmtSize, true);
  const code = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  v.setUint16(20, extensible ? WAVE_FORMAT_EXTENSIBLE : code, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, opts.sampleRate, true);
  v.setUint32(28, blockAlign * opts.sampleRate, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bytesPerSample * 8, true);
  let p = 36;
  if (extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, bytesPerSample * 8, true);
    v.setUint32(40, (opts.channelMask || defaultChannelMask(channels)) >>> 0, true);
    v.setUint16(44, code, true);
    h.set(KSDATAFORMAT_TAIL, 46);
    p = 60;
  }
  if (isFloat) {
    ascii("fact", p);
    v.setUint32(p + 4, 4, true);
    v.setUint32(p + 8, frames, true);
    p += 12;
  }
  ascii("data", p);
  v.setUint32(p + 4, dataBytes, true);
  return h;
}

/**
 * Pack frames `[from, to)` of `channels` (full scale ±1) as interleaved
 * little-endian samples of `format`. Integer formats round to nearest and
 * clip to full scale (no dither), so values read by {@link decodeWav} from an
 * integer file re-encode bit-exactly.
 */
export function encodeFrames(channels: Float32Array[], format: WritableFormat, from = 0, to = channels[0]?.length ?? 0): EncodedWav {
  const nch = channels.length;
  const bytesPerSample = BYTES_PER_SAMPLE[format];
  const frames = to - from;
  const data = new Uint8Array(frames * nch * bytesPerSample);
  const view = new DataView(data.buffer);
  const stride = nch * bytesPerSample;
  let clipped = 0;
  for (let c = 0; c < nch; c++) {
    const x = channels[c];
    let p = c * bytesPerSample;
    if (format === "float32") {
      for (let i = from; i < to; i++, p += stride) view.setFloat32(p, x[i], true);
      continue;
    }
    const scale = 2 ** (bytesPerSample * 8 - 1);
    const hi = scale - 1;
    for (let i = from; i < to; i++, p += stride) {
      let q = Math.round(x[i] * scale);
      if (q > hi) { q = hi; clipped++; }
      else if (q < -scale) { q = -scale; clipped++; }
      else if (q !== q) q = 0; // NaN never reaches a file as a full-scale click
      if (bytesPerSample === 2) view.setInt16(p, q, true);
      else if (bytesPerSample === 4) view.setInt32(p, q, true);
      else { data[p] = q & 255; data[p + 1] = (q >> 8) & 255; data[p + 2] = (q >> 16) & 255; }
    }
  }
  return { bytes: data, clipped };
}

/** Encode channels (full scale ±1) as a little-endian RIFF WAV; see {@link encodeFrames} for rounding. */
export function encodeWav(channels: Float32Array[], opts: EncodeOptions): EncodedWav {
  needChannels("encodeWav(): channels (1st argument)", channels);
  if (!isPlainObject(opts)) {
    throw new TypeError(`percepnet: encodeWav() needs options { sampleRate, format } as its 2nd argument, got ${describe(opts)}`);
  }
  checkOptionKeys("encodeWav()", opts, ["sampleRate", "format", "channelMask"]);
  if (typeof opts.sampleRate !== "number") throw new TypeError(`percepnet: encodeWav(): options.sampleRate must be a number (Hz), got ${describe(opts.sampleRate)}`);
  if (!Object.hasOwn(BYTES_PER_SAMPLE, opts.format)) throw new TypeError(`percepnet: encodeWav(): options.format must be one of ${Object.keys(BYTES_PER_SAMPLE).join(", ")}, got ${describe(opts.format)}`);
  if (opts.channelMask !== undefined && !Number.isInteger(opts.channelMask)) throw new TypeError(`percepnet: encodeWav(): options.channelMask must be an integer, got ${describe(opts.channelMask)}`);
  // needChannels has checked that every channel has channel 0's length.
  const header = checkedHeader("encodeWav", channels.length, channels[0].length, opts);
  const { bytes: data, clipped } = encodeFrames(channels, opts.format);
  const bytes = new Uint8Array(header.length + data.length);
  bytes.set(header);
  bytes.set(data, header.length);
  return { bytes, clipped };
}
