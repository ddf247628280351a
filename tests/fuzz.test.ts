/**
 * Seeded, bounded fuzzing of every boundary: the WAV reader, the model
 * loader (parser and wasm engine), the API options and the audio itself.
 *
 * Each test runs a fixed number of cases from a fixed seed, so a failure
 * reproduces exactly; the failing case's seed and mutation are in the
 * message. PERCEPNET_FUZZ_LONG=1 (or PERCEPNET_FUZZ_ITERS=N) runs many more.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Denoiser } from "../host/denoiser.js";
import { decodeWav, encodeWav, WavError, type WritableFormat } from "../host/wav.js";
import { crc32, parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { rawWav, float32Bytes } from "./wavbytes.js";
import { rng, wasmModule, TEST_WASM } from "./util.js";
import { gruStates, OUTPUT_BOUND, stressSignals } from "./fuzz-util.js";

const LONG = process.env.PERCEPNET_FUZZ_LONG === "1";
const ITERS = Number(process.env.PERCEPNET_FUZZ_ITERS) || (LONG ? 20000 : 1500);
/** A single case slower than this is treated as a hang. */
// A hang guard, not a speed target (the machine running the tests may be loaded):
// allocation is checked separately by counting ArrayBuffer bytes.
const CASE_MS = 5000;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Array-buffer bytes now, after a GC when exposed (--expose-gc), for allocation checks. */
function arrayBufferBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().arrayBuffers;
}

// ---------------------------------------------------------------- WAV reader

function wavSeeds(): Uint8Array[] {
  const r = rng(11);
  const sig = (n: number) => Float32Array.from({ length: n }, () => r() * 1.8 - 0.9);
  const seeds: Uint8Array[] = [];
  for (const format of ["pcm16", "pcm24", "pcm32", "float32"] as WritableFormat[]) {
    seeds.push(encodeWav([sig(37), sig(37)], { sampleRate: 48000, format }).bytes);
  }
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(r, 0, 255));
  seeds.push(rawWav({ formatTag: 1, channels: 1, sampleRate: 8000, bitsPerSample: 8, data: bytes(41) }));
  seeds.push(rawWav({ formatTag: 6, channels: 1, sampleRate: 8000, bitsPerSample: 8, data: bytes(40) }));
  seeds.push(rawWav({ formatTag: 7, channels: 2, sampleRate: 8000, bitsPerSample: 8, data: bytes(40) }));
  seeds.push(rawWav({ formatTag: 3, channels: 1, sampleRate: 44100, bitsPerSample: 64, data: bytes(64) }));
  seeds.push(rawWav({ formatTag: 1, channels: 1, sampleRate: 48000, bitsPerSample: 24, data: bytes(60), bigEndian: true }));
  seeds.push(rawWav({ formatTag: 1, channels: 2, sampleRate: 48000, bitsPerSample: 24, data: bytes(60),
    extensible: { subFormat: 1, validBits: 20, channelMask: 3 } }));
  seeds.push(rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([0.1, -0.2, 0.3]),
    extensible: { subFormat: 3 }, chunksBefore: [["LIST", Uint8Array.from([0x49, 0x4e, 0x46, 0x4f, 1, 2, 3])]], trailer: bytes(9) }));
  return seeds;
}

/** Offsets of the 32-bit size fields of every chunk (RIFF size included). */
function sizeFieldOffsets(b: Uint8Array): number[] {
  const out = [4];
  for (let p = 12; p + 8 <= b.length;) {
    out.push(p + 4);
    const size = new DataView(b.buffer, b.byteOffset).getUint32(p + 4, b[3] === 0x46);
    p += 8 + size + (size & 1);
  }
  return out;
}

/** One mutation of a valid WAV file; returns the bytes and what was done. */
function mutateWav(seed: Uint8Array, r: () => number): [Uint8Array, string] {
  const b = seed.slice();
  const dv = new DataView(b.buffer);
  const le = b[3] === 0x46;
  switch (int(r, 0, 7)) {
    case 0: { const n = int(r, 0, b.length - 1); return [b.slice(0, n), `truncate to ${n}`]; }
    case 1: {
      const flips: number[] = [];
      for (let k = int(r, 1, 4); k > 0; k--) { const at = int(r, 0, Math.min(b.length, 80) - 1); b[at] ^= 1 << int(r, 0, 7); flips.push(at); }
      return [b, `flip header bits at ${flips}`];
    }
    case 2: {
      const at = pick(r, sizeFieldOffsets(seed));
      const v = pick(r, [0, 1, 0x7fffffff, 0xffffffff, 0xfffffff0, int(r, 0, 2 ** 32 - 1), int(r, 0, 200)]);
      dv.setUint32(at, v, le);
      return [b, `size field at ${at} = ${v}`];
    }
    case 3: { // fmt fields: bits, block align, channels, rate, format tag
      const field = pick(r, [[34, 2], [32, 2], [22, 2], [24, 4], [20, 2]] as const);
      const v = pick(r, [0, 1, 3, 7, 12, 20, 33, 48, 64, 255, 0xffff, int(r, 0, 0xffff)]);
      if (field[1] === 2) dv.setUint16(field[0], v, le); else dv.setUint32(field[0], v * 1000, le);
      return [b, `fmt field at ${field[0]} = ${v}`];
    }
    case 4: { // random bytes anywhere
      for (let k = int(r, 1, 16); k > 0; k--) b[int(r, 0, b.length - 1)] = int(r, 0, 255);
      return [b, "random bytes"];
    }
    case 5: { // a junk chunk with a random size before data
      const junk = new Uint8Array(b.length + 8);
      junk.set(b.subarray(0, 36));
      junk.set([0x6a, 0x75, 0x6e, 0x6b], 36);
      new DataView(junk.buffer).setUint32(40, int(r, 0, 2 ** 32 - 1), le);
      junk.set(b.subarray(36), 44);
      return [junk, "junk chunk"];
    }
    case 6: { const n = int(r, 0, 64); return [Uint8Array.from({ length: n }, () => int(r, 0, 255)), `${n} random bytes`]; }
    default: { const n = int(r, 1, b.length); return [Uint8Array.from({ length: n }, (_, i) => (i < 12 ? b[i] : int(r, 0, 255))), "RIFF/WAVE then garbage"]; }
  }
}

test("WAV fuzz: every mutated file decodes validly or throws a WavError, quickly and without big allocations", () => {
  const seeds = wavSeeds();
  for (const s of seeds) decodeWav(s, { sanitize: true }); // the seeds themselves are valid
  const r = rng(1234);
  let decoded = 0, rejected = 0;
  for (let i = 0; i < ITERS; i++) {
    const [bytes, what] = mutateWav(pick(r, seeds), r);
    const t0 = performance.now();
    try {
      const w = decodeWav(bytes, { sanitize: r() < 0.5 });
      decoded++;
      assert.equal(w.channels.length, w.info.channels, `case ${i} (${what})`);
      for (const ch of w.channels) {
        assert.equal(ch.length, w.info.frames, `case ${i} (${what})`);
        for (const v of ch) assert.ok(Number.isFinite(v) && Math.abs(v) <= 1 + 1e-6 || w.info.format.startsWith("float"), `case ${i}: sample ${v}`);
      }
      // The decoded audio can never be bigger than 4 floats per input byte (8-bit -> float32).
      assert.ok(w.info.frames * w.info.channels <= bytes.length, `case ${i} (${what}): ${w.info.frames} frames from ${bytes.length} bytes`);
    } catch (e) {
      rejected++;
      if (!(e instanceof WavError)) assert.fail(`case ${i} (${what}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      assert.match(e.message, /\w{3,}.*\w{3,}/, `case ${i}: message "${e.message}"`);
      assert.ok(["EMPTY", "NOT_WAV", "TRUNCATED", "CORRUPT", "UNSUPPORTED", "NONFINITE"].includes(e.code));
    }
    const ms = performance.now() - t0;
    assert.ok(ms < CASE_MS, `case ${i} (${what}) took ${ms.toFixed(0)} ms`);
  }
  // both outcomes must occur, or the mutations are not reaching the decoder
  assert.ok(decoded > ITERS / 50 && rejected > ITERS / 4, `decoded ${decoded}, rejected ${rejected}`);
});

test("WAV: a header declaring gigabytes fails fast without allocating them", () => {
  const before = arrayBufferBytes();
  for (const size of [0xffffffff, 0x7fffffff, 0xfffffff0]) {
    const b = rawWav({ formatTag: 1, channels: 2, sampleRate: 48000, bitsPerSample: 16, data: new Uint8Array(8), dataSize: size });
    const t0 = performance.now();
    assert.throws(() => decodeWav(b), (e: unknown) => e instanceof WavError && e.code === "TRUNCATED" && /declares \d+ bytes/.test(e.message));
    assert.ok(performance.now() - t0 < CASE_MS);
  }
  assert.ok(arrayBufferBytes() - before < 1 << 20);
});

// -------------------------------------------------------------- model loader

const smallCfg = makeConfig(24, { dense: 16, gruR: 8, gruLayers: 2 });
const validModel = randomModelFile(smallCfg, 5);
// Format v2 seed: every GRU and conv matrix block-sparse (docs/FORMATS.md "Sparse matrices").
const validSparse = randomModelFile(smallCfg, 5, { density: 0.4 });
// weightBits 7 seed, sparse too (docs/FORMATS.md `weightBits`): the parser checks every kernel weight's range.
const valid7 = randomModelFile(smallCfg, 6, { density: 0.5, weightBits: 7 });

function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

/** Rewrite the JSON header (lengths and CRC fixed up), keeping the data section. */
function withJson(b: Uint8Array, edit: (j: any) => void): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset);
  const jsonLen = dv.getUint32(8, true), dataLen = dv.getUint32(12, true);
  const j = JSON.parse(Buffer.from(b.subarray(16, 16 + jsonLen)).toString("latin1"));
  edit(j);
  const jb = Buffer.from(JSON.stringify(j) ?? "null", "latin1");
  const oldStart = (16 + jsonLen + 15) & ~15, start = (16 + jb.length + 15) & ~15;
  const out = new Uint8Array(start + dataLen + 4);
  out.set(b.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, jb.length, true);
  new DataView(out.buffer).setUint32(12, dataLen, true);
  out.set(jb, 16);
  out.fill(0x20, 16 + jb.length, start);
  out.set(b.subarray(oldStart, oldStart + dataLen), start);
  return fixCrc(out);
}

const WEIRD = [0, -1, 1.5, 1e9, 2 ** 31, -(2 ** 31), 4097, 4096, 3, "12", null, [], {}, true, 1e308];

/** Data-section offsets and lengths (in i32) of the block indices of a v2 file. */
function blockIndices(b: Uint8Array): { at: number; n: number; name: string }[] {
  const dv = new DataView(b.buffer, b.byteOffset);
  const jsonLen = dv.getUint32(8, true);
  const j = JSON.parse(Buffer.from(b.subarray(16, 16 + jsonLen)).toString("latin1"));
  const start = (16 + jsonLen + 15) & ~15;
  return j.tensors.filter((t: any) => t.name.endsWith(".blocks")).map((t: any) => ({ at: start + t.offset, n: t.shape[0], name: t.name }));
}

function mutateModel(r: () => number, sparse: boolean): [Uint8Array, string] {
  const seven = sparse && r() < 0.4;
  const b = (seven ? valid7 : sparse ? validSparse : validModel).slice();
  const dv = new DataView(b.buffer);
  switch (seven && r() < 0.5 ? 9 : int(r, 0, sparse ? 8 : 6)) {
    case 0: { const n = int(r, 0, b.length - 1); return [b.slice(0, n), `truncate to ${n}`]; }
    case 1: { const at = int(r, 0, b.length - 1); b[at] ^= 1 << int(r, 0, 7); return [b, `flip a bit at ${at} (CRC now wrong)`]; }
    case 2: { // bit flips with the CRC fixed: reaches the JSON and the weights
      const at: number[] = [];
      for (let k = int(r, 1, 6); k > 0; k--) { const p = int(r, 0, b.length - 5); b[p] ^= 1 << int(r, 0, 7); at.push(p); }
      return [fixCrc(b), `flip bits at ${at}, CRC fixed`];
    }
    case 3: { const f = pick(r, [8, 12, 4]); const v = pick(r, [0, 0xffffffff, 0x7fffffff, int(r, 0, 2 ** 32 - 1)]); dv.setUint32(f, v, true); return [r() < 0.5 ? fixCrc(b) : b, `header u32 at ${f} = ${v}`]; }
    case 4: {
      const key = pick(r, ["nFeatures", "nBands", "lookahead", "dense", "gru", "gruLayers", "gruR", "vad", "conv1", "conv2"]);
      const v = r() < 0.3 && key.startsWith("conv") ? { k: pick(r, WEIRD), out: pick(r, WEIRD) } : pick(r, WEIRD);
      return [withJson(b, (j) => { j.config[key] = v; }), `config.${key} = ${JSON.stringify(v)}`];
    }
    case 5: {
      const field = pick(r, ["shape", "offset", "bytes", "dtype", "name"]);
      const v = field === "shape" ? pick(r, [[1e9, 70], [16, 70, 1], [], [-16, -70], "x", [24.5, 70], [3, 4, 16], [40]]) : pick(r, [...WEIRD, "i8", "f32", "i32", "fc_in.w", "gru1.w_hh.blocks"]);
      const ti = int(r, 0, 20);
      return [withJson(b, (j) => { j.tensors[ti % j.tensors.length][field] = v; }), `tensor ${ti}.${field} = ${JSON.stringify(v)}`];
    }
    case 7: case 8: { // v2: one entry of a block index (a count or a column block), CRC fixed
      const t = pick(r, blockIndices(b));
      const k = int(r, 0, t.n - 1);
      const v = pick(r, [-1, 0, 1, 2, 3, 4, 2 ** 31 - 1, -(2 ** 31), dv.getInt32(t.at + 4 * k, true) + pick(r, [-1, 1])]);
      dv.setInt32(t.at + 4 * k, v, true);
      return [fixCrc(b), `${t.name}[${k}] = ${v}, CRC fixed`];
    }
    case 9: { // weightBits 7: the flag, or one weight pushed to the edge of (or past) the 7-bit range, CRC fixed
      if (r() < 0.4) {
        const v = pick(r, [...WEIRD, 7, 8, "7", 6, 9]);
        return [withJson(b, (j) => { j.weightBits = v; }), `weightBits = ${JSON.stringify(v)}`];
      }
      const jsonLen = dv.getUint32(8, true), start = (16 + jsonLen + 15) & ~15;
      const j = JSON.parse(Buffer.from(b.subarray(16, 16 + jsonLen)).toString("latin1"));
      const t: { name: string; offset: number; bytes: number } = pick(r, j.tensors.filter((x: any) => x.dtype === "i8"));
      const at = start + t.offset + int(r, 0, t.bytes - 1);
      const v = pick(r, [-64, 63, 64, -65, 127, -128, 0]);
      b[at] = v & 255;
      return [fixCrc(b), `${t.name} byte at ${at} = ${v}, CRC fixed`];
    }
    default: {
      const v = pick(r, [null, 5, "x", [], [null], [{}], { config: 1 }]);
      return [withJson(b, (j) => { j[pick(r, ["tensors", "config", "meta"])] = v; }), `top-level field = ${JSON.stringify(v)}`];
    }
  }
}

test("model fuzz: corrupt files are rejected with a 'model file:' Error; accepted ones load and run finite", async () => {
  // the test build: gruStates needs its modelLayerOutPtr; its frame loop gives the shipped build's bits (exports.test.ts)
  const module = await wasmModule(TEST_WASM);
  const r = rng(99);
  const n = Math.max(100, Math.floor(ITERS / 3));
  const x = Float32Array.from({ length: 480 * 6 }, (_, i) => Math.sin(i * 0.05) * 0.3);
  let accepted = 0, rejected = 0;
  for (const seed of [validModel, validSparse, valid7]) assert.ok(parseModelFile(seed).version >= 1);
  assert.equal(parseModelFile(validSparse).version, 2);
  assert.equal(parseModelFile(valid7).weightBits, 7);
  for (let i = 0; i < n; i++) {
    // odd cases mutate the v2 (block-sparse) seed: accepted ones must also pass the engine's own index check
    const [bytes, what] = mutateModel(r, i % 2 === 1);
    const t0 = performance.now();
    let parsed;
    try {
      parsed = parseModelFile(bytes);
    } catch (e) {
      rejected++;
      assert.ok(e instanceof Error && e.constructor === Error, `case ${i} (${what}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      assert.match(e.message, /^model file: \S/, `case ${i} (${what})`);
      assert.ok(performance.now() - t0 < CASE_MS, `case ${i} (${what}) slow`);
      continue;
    }
    accepted++;
    const d = new Denoiser(module, { model: parsed });
    const y = d.process(x);
    for (const v of y) assert.ok(Number.isFinite(v) && Math.abs(v) <= OUTPUT_BOUND, `case ${i} (${what}): output ${v}`);
    for (const h of gruStates(d, parsed.config)) for (const v of h) assert.ok(Number.isFinite(v), `case ${i} (${what}): GRU state ${v}`);
    assert.ok(Number.isFinite(d.frameInfo.vad), `case ${i} (${what}): vad ${d.frameInfo.vad}`);
  }
  assert.ok(accepted > 3 && rejected > n / 2, `accepted ${accepted}, rejected ${rejected}`);
});

test("model: absurd declared sizes and widths fail fast, before any allocation", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["width 1e9", withJson(validModel, (j) => { j.config.gru = 1e9; }), /config\.gru/],
    ["conv width 2^31", withJson(validModel, (j) => { j.config.conv1.out = 2 ** 31; }), /config\.out/],
    ["1e9 GRU layers", withJson(validModel, (j) => { j.config.gruLayers = 1e9; }), /gruLayers/],
    ["tensor shape 1e9 x 70", withJson(validModel, (j) => { j.tensors[0].shape = [1e9, 70]; j.tensors[0].bytes = 7e10; }), /shape mismatch/],
    ["data section 4 GiB", fixCrc((() => { const b = validModel.slice(); new DataView(b.buffer).setUint32(12, 0xffffffff, true); return b; })()), /truncated/],
    ["JSON header 4 GiB", (() => { const b = validModel.slice(); new DataView(b.buffer).setUint32(8, 0xfffffff0, true); return b; })(), /JSON header/],
  ];
  const before = arrayBufferBytes();
  for (const [name, bytes, re] of cases) {
    const t0 = performance.now();
    assert.throws(() => parseModelFile(bytes), re, name);
    assert.ok(performance.now() - t0 < CASE_MS, `${name}: ${(performance.now() - t0).toFixed(1)} ms`);
  }
  assert.ok(arrayBufferBytes() - before < 4 << 20, "allocated while rejecting");
});

// ------------------------------------------------------------------ options

test("API options: wrong types and values throw TypeError/RangeError naming the option", async () => {
  const module = await wasmModule();
  const bad: [string, unknown, RegExp, typeof TypeError | typeof RangeError][] = [
    ["mode", "loud", /unknown mode/, TypeError],
    ["mode", "toString", /unknown mode/, TypeError],
    ["mode", "constructor", /unknown mode/, TypeError],
    ["mode", 1, /unknown mode/, TypeError],
    ["mode", null, /unknown mode/, TypeError],
    ["comb", 1, /comb must be a boolean/, TypeError],
    ["comb", "yes", /comb must be a boolean/, TypeError],
    ["postfilter", null, /postfilter must be a boolean/, TypeError],
    ["levelNormalize", "on", /levelNormalize must be a boolean/, TypeError],
    ["levelNormalize", 0, /levelNormalize must be a boolean/, TypeError],
    ["attenuationLimitDb", -1, /attenuationLimitDb/, RangeError],
    ["attenuationLimitDb", -Infinity, /attenuationLimitDb/, RangeError],
    ["attenuationLimitDb", NaN, /attenuationLimitDb/, RangeError],
    ["attenuationLimitDb", "20", /attenuationLimitDb/, TypeError],
    ["attenuationLimitDb", {}, /attenuationLimitDb/, TypeError],
    ["model", 42, /model must be/, TypeError],
    ["model", {}, /model must be/, TypeError],
    ["model", new Float32Array(4), /model must be/, TypeError],
    ["model", true, /model must be/, TypeError],
    ["wasm", 42, /wasm must be/, TypeError],
    ["wasm", {}, /wasm must be/, TypeError],
  ];
  for (const [key, value, re, type] of bad) {
    const opts = { [key]: value } as Record<string, unknown>;
    const check = (e: unknown) => e instanceof type && re.test((e as Error).message);
    await assert.rejects(Denoiser.create(opts), check, `create ${key}=${String(value)}`);
    if (key !== "wasm") assert.throws(() => new Denoiser(module, opts), check, `new ${key}=${String(value)}`);
  }
  for (const opts of [null, 5, "network"]) {
    await assert.rejects(Denoiser.create(opts as any), TypeError, `create(${String(opts)})`);
    assert.throws(() => new Denoiser(module, opts as any), TypeError);
  }
  assert.throws(() => new Denoiser({} as any), TypeError);
  // extreme but legal values work
  for (const attenuationLimitDb of [0, 1e-30, 300, 1e308, Infinity]) {
    const d = new Denoiser(module, { model: null, attenuationLimitDb });
    for (const v of d.process(new Float32Array(4800).fill(0.5))) assert.ok(Number.isFinite(v));
  }
  const d = new Denoiser(module, { model: null });
  for (const input of [[1, 2, 3], new Float64Array(4), "abc", null, new Int16Array(4)]) {
    assert.throws(() => d.process(input as any), /input must be a Float32Array/);
  }
  assert.throws(() => d.process(new Float32Array(10), new Float32Array(9)), RangeError);
  assert.throws(() => d.process(new Float32Array(10), [0] as any), TypeError);
});

// -------------------------------------------------------------------- audio

test("audio fuzz: hostile signals give finite, bounded output in network and unity modes, and GRU states stay finite", async () => {
  // the test build: gruStates needs its modelLayerOutPtr; its frame loop gives the shipped build's bits (exports.test.ts)
  const module = await wasmModule(TEST_WASM);
  const model = parseModelFile(randomModelFile(makeConfig(128), 3));
  const r = rng(77);
  const configs = [
    { name: "network", opts: { model }, },
    { name: "network, no comb/postfilter", opts: { model, comb: false, postfilter: false } },
    { name: "network, 12 dB limit", opts: { model, attenuationLimitDb: 12 } },
    { name: "unity", opts: { model: null } },
  ];
  const signals = stressSignals(LONG ? 3 : 1);
  for (const { name, opts } of configs) {
    const d = new Denoiser(module, opts);
    let peak = 0;
    for (const [sname, x] of signals) {
      // random chunking: framing must not matter to robustness
      for (let i = 0; i < x.length;) {
        const n = Math.min(x.length - i, int(r, 1, 3000));
        const y = d.process(x.subarray(i, i + n));
        for (let k = 0; k < n; k++) {
          const v = y[k];
          if (!(Math.abs(v) <= OUTPUT_BOUND)) assert.fail(`${name} / ${sname}: output ${v} at ${i + k}`);
          peak = Math.max(peak, Math.abs(v));
        }
        i += n;
      }
      const info = d.frameInfo;
      assert.ok(Number.isFinite(info.vad) && info.vad >= 0 && info.vad <= 1, `${name} / ${sname}: vad ${info.vad}`);
      for (const g of info.gains) assert.ok(g >= 0 && g <= 1, `${name} / ${sname}: gain ${g}`);
      for (const s of info.strengths) assert.ok(s >= 0 && s <= 1, `${name} / ${sname}: strength ${s}`);
      for (const h of gruStates(d, (opts as { model?: any }).model?.config)) for (const v of h) assert.ok(Number.isFinite(v), `${name} / ${sname}: GRU state ${v}`);
    }
    assert.ok(peak > 0.5, `${name}: output peak ${peak} (the stress signals are loud)`);
  }
});

test("near-silent input (below -300 dBFS, denormal territory) is flushed to exact zeros", async () => {
  const module = await wasmModule();
  const model = parseModelFile(randomModelFile(makeConfig(32, { dense: 16, gruR: 16 }), 2));
  for (const opts of [{ model }, { model: null }]) {
    const d = new Denoiser(module, opts);
    d.process(Float32Array.from({ length: 9600 }, (_, i) => Math.sin(i / 7) * 0.9)); // loud first
    d.process(new Float32Array(9600)); // let the loud part leave every buffer
    const r = rng(3);
    const y = d.process(Float32Array.from({ length: 9600 }, () => (r() - 0.5) * 1e-16 * (r() < 0.5 ? 1 : 1e-25)));
    assert.ok(y.every((v) => v === 0), `max |y| ${Math.max(...y.map(Math.abs))}`);
  }
});
