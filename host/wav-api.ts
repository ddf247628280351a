/**
 * The WAV functions as the package exports them: argument and option checks
 * in front of host/wav.ts. They sit in their own file because wav.ts is
 * being reworked on another branch; once that lands these checks belong at
 * the top of the functions themselves (and this file goes).
 */
import { decodeWav as decodeWavImpl, encodeWav as encodeWavImpl, outputFormatFor as outputFormatForImpl,
  type DecodeOptions, type EncodeOptions, type EncodedWav, type WavAudio, type WavInfo, type WritableFormat } from "./wav.js";
import { checkOptionKeys, describe, isPlainObject, needChannels } from "./options.js";

const WRITABLE: readonly WritableFormat[] = ["pcm16", "pcm24", "pcm32", "float32"];

/**
 * Decode a WAV file's bytes into one Float32Array per channel (full scale ±1).
 * @throws {WavError} for a file that cannot be read; TypeError for wrong arguments.
 */
export function decodeWav(bytes: Uint8Array, opts: DecodeOptions = {}): WavAudio {
  if (!(bytes instanceof Uint8Array)) {
    const hint = (bytes as unknown) instanceof ArrayBuffer ? " (wrap it: new Uint8Array(buffer))" : "";
    throw new TypeError(`percepnet: decodeWav() takes the file's bytes as a Uint8Array, got ${describe(bytes)}${hint}`);
  }
  checkOptionKeys("decodeWav()", opts, ["sanitize"]);
  if (opts.sanitize !== undefined && typeof opts.sanitize !== "boolean") throw new TypeError(`percepnet: decodeWav(): sanitize must be a boolean, got ${describe(opts.sanitize)}`);
  return decodeWavImpl(bytes, opts);
}

/** Encode channels (full scale ±1) as a little-endian RIFF WAV of `opts.format` at `opts.sampleRate`. */
export function encodeWav(channels: Float32Array[], opts: EncodeOptions): EncodedWav {
  needChannels("encodeWav(): channels (1st argument)", channels);
  if (!isPlainObject(opts)) {
    throw new TypeError(`percepnet: encodeWav() needs options { sampleRate, format } as its 2nd argument, got ${describe(opts)}`);
  }
  checkOptionKeys("encodeWav()", opts, ["sampleRate", "format", "channelMask"]);
  if (typeof opts.sampleRate !== "number") throw new TypeError(`percepnet: encodeWav(): options.sampleRate must be a number (Hz), got ${describe(opts.sampleRate)}`);
  if (!WRITABLE.includes(opts.format)) throw new TypeError(`percepnet: encodeWav(): options.format must be one of ${WRITABLE.join(", ")}, got ${describe(opts.format)}`);
  if (opts.channelMask !== undefined && !Number.isInteger(opts.channelMask)) throw new TypeError(`percepnet: encodeWav(): options.channelMask must be an integer, got ${describe(opts.channelMask)}`);
  return encodeWavImpl(channels, opts);
}

/** The format to write a processed file in, given the input's WavInfo (keeps 24/32-bit and float). */
export function outputFormatFor(info: WavInfo): WritableFormat {
  if (!isPlainObject(info) || typeof info.format !== "string") {
    throw new TypeError(`percepnet: outputFormatFor() takes the WavInfo of a decoded file (decodeWav(bytes).info), got ${describe(info)}`);
  }
  return outputFormatForImpl(info);
}
