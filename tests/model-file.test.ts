/**
 * The .pnm reader/writer: round trip, CRC-32, and one rejection test per
 * failure class, each made by mutating a valid file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { crc32, dequantize, parseModelFile, quantizeRows, tensorSpecs, weightCount, writeModelFile } from "../host/model-file.js";
import { makeConfig, pruneBlocks, randomFloatTensors, randomModelFile, sparseMatrixNames } from "../lab/random-model.js";

const cfg = makeConfig(40, { dense: 24, gruR: 16, gruLayers: 2 });
const valid = randomModelFile(cfg, 3);

/** Header fields and JSON of a file. */
function split(b: Uint8Array) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const jsonLen = dv.getUint32(8, true), dataLen = dv.getUint32(12, true);
  const json = JSON.parse(Buffer.from(b.subarray(16, 16 + jsonLen)).toString("latin1"));
  const dataStart = (16 + jsonLen + 15) & ~15;
  return { json, data: b.slice(dataStart, dataStart + dataLen) };
}

/** Re-serialise with a mutated JSON header and/or data, fixing lengths and CRC. */
function rebuild(b: Uint8Array, mutate: (json: any, data: Uint8Array) => Uint8Array | void): Uint8Array {
  const { json, data } = split(b);
  const newData = mutate(json, data) ?? data;
  const jb = Buffer.from(JSON.stringify(json), "latin1");
  const ds = (16 + jb.length + 15) & ~15;
  const out = new Uint8Array(ds + newData.length + 4);
  const dv = new DataView(out.buffer);
  out.set(b.subarray(0, 8));
  dv.setUint32(8, jb.length, true);
  dv.setUint32(12, newData.length, true);
  out.set(jb, 16);
  out.fill(0x20, 16 + jb.length, ds);
  out.set(newData, ds);
  dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Re-checksum after a raw byte edit. */
function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

test("crc32 is the IEEE/zlib CRC", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(valid.subarray(0, 1000)), zlib.crc32(valid.subarray(0, 1000)));
});

test("round trip: config, shapes, per-row quantisation", () => {
  const floats = randomFloatTensors(cfg, 3);
  const m = parseModelFile(valid);
  assert.deepEqual(m.config, cfg);
  assert.equal(m.meta.source, "lab/random-model.ts");
  assert.equal(m.specs.length, tensorSpecs(cfg).length);
  assert.equal(weightCount(cfg), 24 * 70 + 40 * 5 * 24 + 40 * 3 * 40 + 3 * 120 * 40 * 2 + 48 * 80 + 48 * 16 + 34 * (40 + 3 * 40) + 34 * 16 + 40);
  const deq = dequantize(m);
  for (const [name, f] of Object.entries(floats)) {
    const d = deq[name];
    assert.equal(d.length, f.length, name);
    if (!name.includes(".w")) { assert.deepEqual(d, f); continue; }
    const scale = m.tensors.get(`${name}_scale`) as Float32Array;
    const cols = f.length / scale.length;
    // round-to-nearest: error <= half a step of that row's scale
    for (let i = 0; i < f.length; i++) assert.ok(Math.abs(d[i] - f[i]) <= scale[Math.floor(i / cols)] * 0.5 + 1e-7, `${name}[${i}]`);
  }
  assert.equal(new DataView(valid.buffer).getUint32(12, true) % 16, 0);
});

test("quantizeRows: max maps to 127, zero rows get scale 1", () => {
  const { q, scale } = quantizeRows(Float32Array.from([0.5, -0.25, 0, 0, 0, 0]), 2, 3);
  assert.deepEqual(Array.from(q), [127, -64, 0, 0, 0, 0]);
  assert.equal(scale[0], Math.fround(0.5 / 127));
  assert.equal(scale[1], 1);
});

const rejects: [string, () => Uint8Array, RegExp][] = [
  ["wrong magic", () => fixCrc(Uint8Array.from(valid, (v, i) => (i === 0 ? 0x58 : v))), /wrong magic/],
  ["newer version", () => { const b = valid.slice(); new DataView(b.buffer).setUint32(4, 3, true); return fixCrc(b); }, /newer/],
  ["truncation", () => valid.slice(0, valid.length - 100), /truncated/],
  ["tiny file", () => valid.slice(0, 10), /truncated/],
  ["trailing bytes", () => { const b = new Uint8Array(valid.length + 16); b.set(valid); return b; }, /size mismatch/],
  ["bad checksum", () => { const b = valid.slice(); b[b.length - 200] ^= 1; return b; }, /bad checksum/],
  ["shape mismatch", () => rebuild(valid, (j) => { j.tensors[0].shape = [24, 71]; }), /shape mismatch for fc_in\.w/],
  ["config shape mismatch", () => rebuild(valid, (j) => { j.config.gru = 48; }), /shape mismatch|bytes/],
  ["missing tensor", () => rebuild(valid, (j) => { j.tensors = j.tensors.filter((t: any) => t.name !== "gru_r.b_hh"); }), /missing tensor gru_r\.b_hh/],
  ["unexpected tensor", () => rebuild(valid, (j) => { j.tensors.push({ ...j.tensors[1], name: "extra.w" }); }), /unexpected tensor/],
  ["wrong dtype", () => rebuild(valid, (j) => { j.tensors[1].dtype = "i8"; }), /dtype/],
  ["misaligned offset", () => rebuild(valid, (j) => { j.tensors[2].offset += 4; }), /multiple of 16/],
  ["offset out of bounds", () => rebuild(valid, (j, d) => { j.tensors[j.tensors.length - 1].offset = d.length; }), /past the data section/],
  ["giant width before allocation", () => rebuild(valid, (j) => { j.config.gru = 1e9; }), /config\.gru must be an integer/],
  ["bad kernel", () => rebuild(valid, (j) => { j.config.conv1.k = 0; }), /config\.k/],
  ["wrong feature count", () => rebuild(valid, (j) => { j.config.nFeatures = 42; }), /nFeatures 70/],
  ["non-finite weight scale", () => rebuild(valid, (j, d) => {
    const t = j.tensors.find((x: any) => x.name === "conv1.w_scale");
    new DataView(d.buffer).setFloat32(t.offset, NaN, true);
  }), /non-finite/],
  ["weightBits not 7 or 8", () => rebuild(valid, (j) => { j.weightBits = 6; }), /weightBits must be 7 or 8, got 6/],
  ["weightBits as a string", () => rebuild(valid, (j) => { j.weightBits = "7"; }), /weightBits must be 7 or 8, got "7"/],
  ["weightBits 7 on 8-bit weights", () => rebuild(valid, (j) => { j.weightBits = 7; }), /weightBits is 7 but conv1\.w has weight -?\d+ at \d+, outside \[-64, 63\]/],
  ["bad JSON", () => { const b = valid.slice(); b[16] = 0x7b + 1; return fixCrc(b); }, /bad JSON/],
  ["non-ASCII JSON", () => { const b = valid.slice(); b[20] = 0xc3; return fixCrc(b); }, /non-ASCII/],
];
for (const [name, make, re] of rejects) {
  test(`rejects: ${name}`, () => {
    assert.throws(() => parseModelFile(make()), (e: Error) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, re);
      return true;
    });
  });
}

// weightBits 7 (docs/FORMATS.md): kernel matrices in [-63, 63] for relaxed SIMD's dot product.
const file7 = writeModelFile(cfg, randomFloatTensors(cfg, 3), {}, { weightBits: 7 });

test("weightBits 7: kernel matrices quantised to [-63, 63] (scale max|row| / 63), fc_in.w kept at 8 bits, flag in the JSON", () => {
  const m = parseModelFile(file7), m8 = parseModelFile(valid);
  assert.equal(m.weightBits, 7);
  assert.equal(m8.weightBits, 8);
  assert.equal(split(file7).json.weightBits, 7);
  assert.equal("weightBits" in split(valid).json, false, "an 8-bit file is written as before");
  assert.equal(m.version, 1, "no format version bump: older readers run a 7-bit file unchanged");
  const f = randomFloatTensors(cfg, 3);
  for (const s of tensorSpecs(cfg)) {
    if (s.dtype !== "i8") continue;
    const w = m.tensors.get(s.name) as Int8Array, scale = m.tensors.get(`${s.name}_scale`) as Float32Array;
    const top = s.name === "fc_in.w" ? 127 : 63;
    const [rows, cols] = s.shape;
    for (let r = 0; r < rows; r++) {
      let peak = 0, amax = 0;
      for (let c = 0; c < cols; c++) { peak = Math.max(peak, Math.abs(w[r * cols + c])); amax = Math.max(amax, Math.abs(f[s.name][r * cols + c])); }
      assert.equal(peak, top, `${s.name} row ${r}`);
      assert.ok(Math.abs(scale[r] - amax / top) <= 1e-7 * amax, `${s.name} row ${r} scale`);
      for (let c = 0; c < cols; c++) assert.ok(Math.abs(w[r * cols + c] * scale[r] - f[s.name][r * cols + c]) <= scale[r] / 2 + 1e-6, `${s.name} [${r}, ${c}]`);
    }
  }
  // block-sparse and 7-bit together: version 2 with the flag
  const both = parseModelFile(writeModelFile(cfg, pruned, {}, { sparse: sparseMatrixNames(cfg), weightBits: 7 }));
  assert.deepEqual([both.version, both.weightBits], [2, 7]);
  assert.deepEqual(quantizeRows(Float32Array.from([0.63, -0.315, 0]), 1, 3, 7).q, Int8Array.from([63, -32, 0]));
});

test("weightBits 7: -64 is a 7-bit weight, 64 is not; the writer takes only 7 or 8", () => {
  const edit = (v: number) => rebuild(file7, (j, d) => { const t = j.tensors.find((x: any) => x.name === "gru1.w_hh"); d[t.offset + 5] = v & 255; });
  assert.equal(parseModelFile(edit(-64)).weightBits, 7);
  assert.throws(() => parseModelFile(edit(64)), /weightBits is 7 but gru1\.w_hh has weight 64 at 5, outside \[-64, 63\]/);
  // fc_in.w is not a kernel matrix: 8 bits even in a 7-bit file
  assert.equal(parseModelFile(rebuild(file7, (j, d) => { d[j.tensors.find((x: any) => x.name === "fc_in.w").offset] = 127; })).weightBits, 7);
  assert.throws(() => writeModelFile(cfg, randomFloatTensors(cfg, 1), {}, { weightBits: 6 as 7 }), /weightBits must be 7 or 8/);
});

test("the mutation helper itself yields a valid file when nothing changes", () => {
  assert.deepEqual(parseModelFile(rebuild(valid, () => {})).config, cfg);
});

test("writer rejects tensors of the wrong length", () => {
  const f = randomFloatTensors(cfg, 1);
  f["conv2.w"] = new Float32Array(3);
  assert.throws(() => writeModelFile(cfg, f), /conv2\.w needs/);
});

// Format v2: block-sparse matrices (docs/FORMATS.md "Sparse matrices").
const pruned = pruneBlocks(cfg, randomFloatTensors(cfg, 3), sparseMatrixNames(cfg), 0.4, 3);
const sparseFile = writeModelFile(cfg, pruned, {}, { sparse: sparseMatrixNames(cfg) });

test("v2 round trip: block index before its matrix, same weights as the dense file", () => {
  const denseFile = writeModelFile(cfg, pruned);
  assert.equal(new DataView(denseFile.buffer).getUint32(4, true), 1, "no sparse matrix: still version 1");
  assert.deepEqual(writeModelFile(cfg, pruned, {}, { sparse: [] }), denseFile);
  assert.equal(new DataView(sparseFile.buffer).getUint32(4, true), 2);
  const m = parseModelFile(sparseFile), d = parseModelFile(denseFile);
  assert.equal(m.version, 2);
  const names = m.specs.map((x) => x.name);
  for (const n of sparseMatrixNames(cfg)) {
    const i = names.indexOf(`${n}.blocks`);
    assert.ok(i >= 0 && names[i + 1] === n, `${n}.blocks right before ${n}`);
    assert.equal(m.specs[i].id, m.specs[i + 1].id);
    assert.deepEqual(m.specs[i + 1].shape.slice(1), [4, 16]);
  }
  assert.equal(m.specs.length, tensorSpecs(cfg).length + sparseMatrixNames(cfg).length);
  const a = dequantize(m), b = dequantize(d);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(b)) assert.deepEqual(a[k], b[k], k);
  // gru1.w_hh is 120 x 40: 30 block rows of 3 column blocks, about 40 % kept
  const idx = m.tensors.get("gru1.w_hh.blocks") as Int32Array;
  const kept = idx.length - 30;
  assert.ok(kept > 0.2 * 90 && kept < 0.6 * 90, `kept ${kept} of 90 blocks`);
});

test("writer: only int8 matrices other than fc_in.w can be sparse", () => {
  assert.throws(() => writeModelFile(cfg, pruned, {}, { sparse: ["fc_in.w"] }), /cannot|can be stored sparse/);
  assert.throws(() => writeModelFile(cfg, pruned, {}, { sparse: ["gru1.b_ih"] }), /can be stored sparse/);
  assert.throws(() => writeModelFile(cfg, pruned, {}, { sparse: ["gru9.w_hh"] }), /can be stored sparse/);
});

/** The entry and an Int32Array view of the data of tensor `name` in a mutation. */
function view(j: any, d: Uint8Array, name: string): { t: any; v: Int32Array } {
  const t = j.tensors.find((x: any) => x.name === name);
  return { t, v: new Int32Array(d.buffer, d.byteOffset + t.offset, t.shape[0]) };
}

/** Block k of gru1.w_hh.blocks: (index position of its column block, column block). */
function firstBlockIn(v: Int32Array, nbr: number, pred: (cnt: number) => boolean): number {
  let at = 0;
  for (let b = 0; b < nbr; b++) { if (pred(v[at])) return at; at += 1 + v[at]; }
  throw new Error("no such block row");
}

const sparseRejects: [string, () => Uint8Array, RegExp][] = [
  ["block index in a v1 file", () => { const b = sparseFile.slice(); new DataView(b.buffer).setUint32(4, 1, true); return fixCrc(b); }, /block index conv1\.w\.blocks in a version 1 file \(sparse matrices need version 2\)/],
  ["column block out of range", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    const at = firstBlockIn(v, 30, (c) => c > 0);
    v[at + v[at]] = 3;
  }), /column block 3, out of range \[0, 3\)/],
  ["negative column block", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    v[firstBlockIn(v, 30, (c) => c > 0) + 1] = -1;
  }), /out of range/],
  ["unsorted column blocks", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    const at = firstBlockIn(v, 30, (c) => c >= 2);
    [v[at + 1], v[at + 2]] = [v[at + 2], v[at + 1]];
  }), /not strictly increasing/],
  ["duplicate column block", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    const at = firstBlockIn(v, 30, (c) => c >= 2);
    v[at + 2] = v[at + 1];
  }), /not strictly increasing/],
  ["count above the column blocks", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    v[0] = 4;
  }), /count 4, must be in \[0, 3\]/],
  ["index cut short", () => rebuild(sparseFile, (j) => {
    const t = j.tensors.find((x: any) => x.name === "gru1.w_hh.blocks");
    t.shape = [t.shape[0] - 1]; t.bytes -= 4;
  }), /only \d+ entries are left|ends before block row 29/],
  ["index entries left over", () => rebuild(sparseFile, (j, d) => {
    const { v } = view(j, d, "gru1.w_hh.blocks");
    v[firstBlockIn(v, 30, (c) => c > 0)] -= 1;
  }), /past its last block row|strictly increasing|count/],
  ["index shorter than its block rows", () => rebuild(sparseFile, (j) => {
    const t = j.tensors.find((x: any) => x.name === "gru1.w_hh.blocks");
    t.shape = [29]; t.bytes = 29 * 4;
  }), /must have shape \[n\] with n >= 30/],
  ["weights disagree with the index", () => rebuild(sparseFile, (j) => {
    const t = j.tensors.find((x: any) => x.name === "gru1.w_hh");
    t.shape = [t.shape[0] - 1, 4, 16]; t.bytes -= 64;
  }), /shape mismatch for gru1\.w_hh/],
  ["weights of a dense shape with an index", () => rebuild(sparseFile, (j) => {
    const t = j.tensors.find((x: any) => x.name === "gru1.w_hh");
    t.shape = [120, 40]; t.bytes = 4800;
  }), /shape mismatch for gru1\.w_hh/],
  ["index of the wrong dtype", () => rebuild(sparseFile, (j) => {
    j.tensors.find((x: any) => x.name === "gru1.w_hh.blocks").dtype = "f32";
  }), /gru1\.w_hh\.blocks has dtype f32, expected i32/],
  ["nonzero weight in a padding column", () => rebuild(sparseFile, (j, d) => {
    // gru1.w_hh has 40 columns: column block 2 covers 32..47, so 40..47 are padding
    const { v } = view(j, d, "gru1.w_hh.blocks");
    const w = j.tensors.find((x: any) => x.name === "gru1.w_hh");
    let at = 0, k = 0;
    for (let b = 0; b < 30; b++) {
      const cnt = v[at++];
      for (let i = 0; i < cnt; i++, k++) if (v[at + i] === 2) { d[w.offset + k * 64 + 3 * 16 + 12] = 5; return; }
      at += cnt;
    }
    throw new Error("no block in column block 2");
  }), /nonzero weight outside the 120 x 40 matrix \(row \d+, column 44\)/],
  ["fc_in sparse", () => rebuild(sparseFile, (j) => { j.tensors.push({ ...j.tensors.find((x: any) => x.name === "gru1.w_hh.blocks"), name: "fc_in.w.blocks" }); }), /block index fc_in\.w\.blocks: fc_in\.w cannot be stored sparse/],
];
for (const [name, make, re] of sparseRejects) {
  test(`rejects v2: ${name}`, () => {
    assert.throws(() => parseModelFile(make()), (e: Error) => {
      assert.match(e.message, re);
      return true;
    });
  });
}
