import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeWav, encodeWav, outputFormatFor, WavError, type WavErrorCode, type WritableFormat } from "../host/wav.js";
import { float32Bytes, float64Bytes, pcm16, rawWav, rng } from "./wavbytes.js";

/** Channels of exactly representable values for `format`, so round trips can be bit-exact. */
function quantisedNoise(format: WritableFormat, channels: number, frames: number, seed: number): Float32Array[] {
  const r = rng(seed);
  const bits = format === "pcm16" ? 16 : format === "pcm24" ? 24 : format === "pcm32" ? 32 : 0;
  return Array.from({ length: channels }, () => {
    const x = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      const u = r() * 2 - 1;
      // pcm32: float32 holds only 24 mantissa bits, so the grid is coarser than 2^-31.
      x[i] = bits === 0 ? u * 1.5 : bits === 32 ? Math.round(u * 2 ** 23) / 2 ** 23 : Math.round(u * 2 ** (bits - 1)) / 2 ** (bits - 1);
    }
    if (bits) { x[0] = -1; x[1] = bits === 32 ? 1 - 2 ** -24 : (2 ** (bits - 1) - 1) / 2 ** (bits - 1); }
    return x;
  });
}

function expectWavError(bytes: Uint8Array, code: WavErrorCode, message: RegExp): void {
  assert.throws(() => decodeWav(bytes), (e: unknown) => {
    assert.ok(e instanceof WavError, `expected WavError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

for (const format of ["pcm16", "pcm24", "pcm32", "float32"] as const) {
  for (const channels of [1, 2, 5]) {
    test(`round trip ${format}, ${channels} channel(s) is bit-exact`, () => {
      const x = quantisedNoise(format, channels, 1001, 7 * channels);
      const { bytes, clipped } = encodeWav(x, { sampleRate: 48000, format });
      const format_ = format === "float32" ? "float32" : format;
      const back = decodeWav(bytes);
      assert.equal(clipped, 0);
      const header = new DataView(bytes.buffer, bytes.byteOffset);
      assert.equal(header.getUint32(4, true), bytes.length - 8, "RIFF size");
      assert.equal(header.getUint32(28, true), 48000 * header.getUint16(32, true), "byte rate = rate * block align");
      assert.equal(new TextDecoder().decode(bytes).includes("fact"), format === "float32", "fact chunk for float only");
      assert.equal(back.info.format, format_);
      assert.equal(back.info.channels, channels);
      assert.equal(back.info.sampleRate, 48000);
      assert.equal(back.info.frames, 1001);
      assert.equal(back.info.extensible, channels > 2);
      for (let c = 0; c < channels; c++) assert.deepEqual(back.channels[c], x[c], `channel ${c}`);
      assert.equal(outputFormatFor(back.info), format);
    });
  }
}

test("integer encoding rounds to nearest and clips (counting clips)", () => {
  const x = new Float32Array([0.1 / 32768, 0.6 / 32768, -0.6 / 32768, 1.5, -2, 1, -1]);
  const { bytes, clipped } = encodeWav([x], { sampleRate: 16000, format: "pcm16" });
  assert.equal(clipped, 3); // 1.5, -2 and +1 (which is 32768, one past full scale)
  const y = decodeWav(bytes).channels[0];
  assert.deepEqual(Array.from(y, (v) => v * 32768), [0, 1, -1, 32767, -32768, 32767, -32768]);
});

test("decodes hand-made PCM16 with exact scaling", () => {
  const bytes = rawWav({ formatTag: 1, channels: 2, sampleRate: 48000, bitsPerSample: 16, data: pcm16([0, 16384, -32768, 32767]) });
  const { info, channels } = decodeWav(bytes);
  assert.equal(info.format, "pcm16");
  assert.equal(info.frames, 2);
  assert.deepEqual(Array.from(channels[0]), [0, -1]);
  assert.deepEqual(Array.from(channels[1]), [0.5, 32767 / 32768]);
});

test("decodes 24-bit little- and big-endian (RIFX)", () => {
  const values = [0, 1, -1, 8388607, -8388608, 0x123456, -0x123456];
  const le = new Uint8Array(values.length * 3), be = new Uint8Array(values.length * 3);
  values.forEach((v, i) => {
    const u = v & 0xffffff;
    le.set([u & 255, (u >> 8) & 255, u >> 16], i * 3);
    be.set([u >> 16, (u >> 8) & 255, u & 255], i * 3);
  });
  for (const [data, bigEndian] of [[le, false], [be, true]] as const) {
    const { info, channels } = decodeWav(rawWav({ formatTag: 1, channels: 1, sampleRate: 44100, bitsPerSample: 24, data, bigEndian }));
    assert.equal(info.container, bigEndian ? "RIFX" : "RIFF");
    assert.deepEqual(Array.from(channels[0], (x) => x * 8388608), values);
  }
});

test("decodes unsigned 8-bit and writes it back as 16-bit", () => {
  const { info, channels } = decodeWav(rawWav({ formatTag: 1, channels: 1, sampleRate: 8000, bitsPerSample: 8, data: new Uint8Array([0, 128, 255]) }));
  assert.equal(info.format, "pcm8");
  assert.deepEqual(Array.from(channels[0]), [-1, 0, 127 / 128]);
  assert.equal(outputFormatFor(info), "pcm16");
});

test("decodes float64 (written back as float32) and EXTENSIBLE float32 with its channel mask", () => {
  const f64 = decodeWav(rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 64, data: float64Bytes([0.25, -0.5]) }));
  assert.equal(f64.info.format, "float64");
  assert.deepEqual(Array.from(f64.channels[0]), [0.25, -0.5]);
  assert.equal(outputFormatFor(f64.info), "float32");

  const ext = decodeWav(rawWav({
    formatTag: 0, channels: 3, sampleRate: 48000, bitsPerSample: 32,
    extensible: { subFormat: 3, channelMask: 0x7 }, data: float32Bytes([0.5, -0.25, 2, 0, 1, -1]),
  }));
  assert.equal(ext.info.format, "float32");
  assert.equal(ext.info.extensible, true);
  assert.equal(ext.info.channelMask, 0x7);
  assert.deepEqual(ext.channels.map((c) => Array.from(c)), [[0.5, 0], [-0.25, 1], [2, -1]]);
  const again = decodeWav(encodeWav(ext.channels, { sampleRate: 48000, format: "float32", channelMask: 0x7 }).bytes);
  assert.equal(again.info.channelMask, 0x7);
  assert.deepEqual(again.channels, ext.channels);
});

test("EXTENSIBLE PCM with 20 valid bits in a 24-bit container", () => {
  const data = new Uint8Array([0x00, 0x00, 0x40]); // 0x400000 = 0.5 full scale
  const { info, channels } = decodeWav(rawWav({ formatTag: 0, channels: 1, sampleRate: 48000, bitsPerSample: 24, extensible: { subFormat: 1, validBits: 20 }, data }));
  assert.equal(info.format, "pcm24");
  assert.equal(info.validBitsPerSample, 20);
  assert.equal(channels[0][0], 0.5);
});

test("decodes A-law and mu-law (G.711) to 16-bit values", () => {
  const alaw = decodeWav(rawWav({ formatTag: 6, channels: 1, sampleRate: 8000, bitsPerSample: 8, data: new Uint8Array([0xd5, 0x55]) }));
  assert.equal(alaw.info.format, "alaw");
  assert.deepEqual(Array.from(alaw.channels[0], (x) => x * 32768), [8, -8]);
  const mulaw = decodeWav(rawWav({ formatTag: 7, channels: 1, sampleRate: 8000, bitsPerSample: 8, data: new Uint8Array([0xff, 0x80, 0x00]) }));
  assert.equal(mulaw.info.format, "mulaw");
  assert.deepEqual(Array.from(mulaw.channels[0], (x) => x * 32768), [0, 32124, -32124]);
  assert.equal(outputFormatFor(mulaw.info), "pcm16");
});

test("tolerates LIST chunks before data and junk after it", () => {
  const bytes = rawWav({
    formatTag: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16, data: pcm16([1, 2, 3]),
    chunksBefore: [["LIST", new Uint8Array([..."INFOISFT"].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 97, 98, 0]))]],
    trailer: new Uint8Array([0x4a, 0x55, 0x4e, 0x4b, 0xff, 0xff, 0xff, 0x7f, 1, 2]), // "JUNK" claiming 2 GiB
  });
  const { channels } = decodeWav(bytes);
  assert.deepEqual(Array.from(channels[0], (x) => x * 32768), [1, 2, 3]);
});

const good = () => rawWav({ formatTag: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16, data: pcm16([1, 2, 3, 4]) });

test("rejects empty, truncated and non-WAV files with clear messages", () => {
  expectWavError(new Uint8Array(0), "EMPTY", /empty \(0 bytes\)/);
  expectWavError(good().subarray(0, 10), "TRUNCATED", /truncated header.*10 bytes/);
  expectWavError(good().subarray(0, 30), "TRUNCATED", /truncated header: chunk "fmt " at byte 12 declares 16 bytes/);
  expectWavError(good().subarray(0, 44 + 5), "TRUNCATED", /data chunk declares 8 bytes but only 5/);
  expectWavError(new TextEncoder().encode("ID3\u0004 this is an mp3 file, honest"), "NOT_WAV", /not a WAV file.*ID3/);
  const notWave = good(); notWave.set([65, 86, 73, 32], 8);
  expectWavError(notWave, "NOT_WAV", /form type is "AVI "/);
});

test("rejects corrupt headers", () => {
  const bigFmt = good(); new DataView(bigFmt.buffer).setUint32(16, 0x7fffff00, true);
  expectWavError(bigFmt, "CORRUPT", /corrupt header: chunk "fmt " .* declares 2147483392 bytes/);
  const garbageId = good(); garbageId.set([0, 1, 2, 3], 36);
  expectWavError(garbageId, "CORRUPT", /unreadable chunk id/);
  expectWavError(rawWav({ formatTag: 1, channels: 0, sampleRate: 48000, bitsPerSample: 16, blockAlign: 2, data: pcm16([1]) }), "CORRUPT", /0 channels/);
  expectWavError(rawWav({ formatTag: 1, channels: 1, sampleRate: 0, bitsPerSample: 16, data: pcm16([1]) }), "CORRUPT", /sample rate 0/);
  expectWavError(rawWav({ formatTag: 1, channels: 2, sampleRate: 48000, bitsPerSample: 16, blockAlign: 3, data: pcm16([1, 2, 3]) }), "CORRUPT", /block align is 3/);
  expectWavError(rawWav({ formatTag: 1, channels: 2, sampleRate: 48000, bitsPerSample: 16, data: pcm16([1, 2, 3]) }), "CORRUPT", /not a whole number/);
  const noData = good().subarray(0, 36); new DataView(noData.buffer, noData.byteOffset).setUint32(4, 28, true);
  expectWavError(noData, "CORRUPT", /no "data" chunk/);
  expectWavError(rawWav({ formatTag: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16, data: new Uint8Array(0) }), "EMPTY", /no audio/);
});

test("rejects unsupported encodings, naming them", () => {
  expectWavError(rawWav({ formatTag: 0x11, channels: 1, sampleRate: 8000, bitsPerSample: 4, blockAlign: 1, data: new Uint8Array(256) }), "UNSUPPORTED", /IMA ADPCM.*ffmpeg/);
  expectWavError(rawWav({ formatTag: 0x55, channels: 1, sampleRate: 48000, bitsPerSample: 16, data: new Uint8Array(4) }), "UNSUPPORTED", /MP3/);
  expectWavError(rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 16, data: new Uint8Array(4) }), "UNSUPPORTED", /16-bit samples with format tag 3/);
  expectWavError(rawWav({ formatTag: 0, channels: 1, sampleRate: 48000, bitsPerSample: 16, extensible: { subFormat: 0x55 }, data: new Uint8Array(4) }), "UNSUPPORTED", /MP3/);
  const rf64 = good(); rf64.set([82, 70, 54, 52], 0);
  expectWavError(rf64, "UNSUPPORTED", /RF64/);
});

test("rejects NaN/Inf float samples naming the sample, or zeroes them with sanitize", () => {
  const nan = rawWav({ formatTag: 3, channels: 2, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([0, 0, 0.5, 0.5, 0, NaN]) });
  expectWavError(nan, "NONFINITE", /sample 2 of channel 1 .*NaN/);
  const inf = rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([0, -Infinity]) });
  expectWavError(inf, "NONFINITE", /sample 1 of channel 0 .*infinite/);
  // Finite in float64 but not representable as float32.
  expectWavError(rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 64, data: float64Bytes([1e300]) }), "NONFINITE", /sample 0/);
  const fixed = decodeWav(nan, { sanitize: true });
  assert.equal(fixed.sanitized, 1);
  assert.deepEqual(Array.from(fixed.channels[1]), [0, 0.5, 0]);
});
