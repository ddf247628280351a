// The 7-bit kernels (assembly/nnet.ts packI7, prepI7, matvecI7,
// matvecSparseI7) against exact integer sums. In the relaxed test build they
// run i32x4.relaxed_dot_i8x16_i7x16_add_s; in the plain test builds the same
// functions run their scalar stand-in, so the packing and the 64 * sum(q)
// correction are checked in every runtime (tests/nnet.test.ts), the
// instruction itself where relaxed SIMD runs (tests/relaxed-checks.ts).
import assert from "node:assert/strict";
import type { TestHookExports } from "../host/engine.js";
import { toBlocks } from "../host/model-file.js";
import { rng } from "../lab/random-model.js";

const pad4 = (n: number) => (n + 3) & ~3;
const pad16 = (n: number) => (n + 15) & ~15;

function want(w: Int8Array, x: Int16Array, rows: number, cols: number): number[] {
  const out = new Array<number>(pad4(rows)).fill(0);
  for (let r = 0; r < rows; r++) { let s = 0; for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c]; out[r] = s; }
  return out;
}

/**
 * Dense and block-sparse 7-bit products on `ex` (a test build) equal the
 * exact integer sums, with nonzero activations past the end of the input
 * (they must cancel) and worst-case magnitudes. Returns the number of
 * products checked.
 */
export function checkI7Kernels(ex: TestHookExports, label: string): number {
  const rand = rng(77);
  let checked = 0;
  // [rows, cols, density, extreme]: odd shapes cover padding rows and columns.
  const cases: [number, number, number, "none" | "max" | "min"][] = [
    [37, 200, 1, "none"], [5, 13, 1, "none"], [1, 1, 1, "none"], [64, 1536, 0.3, "none"], [13, 70, 0.5, "none"],
    [4, 8192, 1, "max"], [8, 4096, 1, "min"], [24, 40, 0, "none"],
  ];
  for (const [rows, cols, density, extreme] of cases) {
    const w = new Int8Array(rows * cols);
    for (let r0 = 0; r0 < rows; r0 += 4) {
      for (let c0 = 0; c0 < cols; c0 += 16) {
        if (density < 1 && rand() >= density) continue;
        for (let r = r0; r < Math.min(rows, r0 + 4); r++) {
          for (let c = c0; c < Math.min(cols, c0 + 16); c++) {
            w[r * cols + c] = extreme === "max" ? 63 : extreme === "min" ? -64 : Math.floor(rand() * 128) - 64;
          }
        }
      }
    }
    const x = Int16Array.from({ length: cols }, (_, i) => extreme === "max" ? (i % 2 ? 127 : -127) : extreme === "min" ? -127 : Math.floor(rand() * 255) - 127);
    const expected = want(w, x, rows, cols);
    const xp = ex.nnetAlloc(pad16(cols) * 2 + 64), x8 = ex.nnetAlloc(pad16(cols) + 16), out = ex.nnetAlloc(pad4(rows) * 4);
    // activations past the end: another layer's outputs in the trunk buffer
    new Int16Array(ex.memory.buffer, xp, pad16(cols) + 32).fill(-99);
    new Int16Array(ex.memory.buffer, xp, cols).set(x);
    // dense
    const src = ex.nnetAlloc(rows * cols), packed = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
    new Int8Array(ex.memory.buffer, src, rows * cols).set(w);
    ex.nnetPackI7(packed, src, rows, cols);
    ex.nnetMatvecI7(out, packed, 0, 0, rows, cols, xp, x8);
    assert.deepEqual(Array.from(new Int32Array(ex.memory.buffer, out, pad4(rows))), expected, `${label} dense 7-bit ${rows}x${cols} ${extreme}`);
    // block-sparse: the kernel layout of model.ts (offsets = column block * 32), weights offset in place
    const { index, w: blocks } = toBlocks(w, rows, cols);
    const nbr = Math.ceil(rows / 4), nb = index.length - nbr;
    const counts = ex.nnetAlloc(nbr * 4), offs = ex.nnetAlloc(Math.max(nb, 1) * 4), bw = ex.nnetAlloc(Math.max(nb, 1) * 64);
    const cv = new Int32Array(ex.memory.buffer, counts, nbr), ov = new Int32Array(ex.memory.buffer, offs, Math.max(nb, 1));
    let at = 0, k = 0;
    for (let b = 0; b < nbr; b++) {
      cv[b] = index[at++];
      for (let j = 0; j < cv[b]; j++) ov[k++] = index[at++] * 32;
    }
    new Int8Array(ex.memory.buffer, bw, blocks.length).set(blocks);
    ex.nnetOffsetI7(bw, blocks.length);
    const sums = ex.nnetAlloc((pad16(cols) >> 4) * 4 + 16);
    new Int32Array(ex.memory.buffer, out, pad4(rows)).fill(12345);
    ex.nnetMatvecSparseI7(out, bw, counts, offs, 0, 0, rows, cols, xp, x8, sums);
    assert.deepEqual(Array.from(new Int32Array(ex.memory.buffer, out, pad4(rows))), expected, `${label} sparse 7-bit ${rows}x${cols} ${extreme}`);
    // the 8-bit kernel on the same weights: the same sums
    const p8 = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
    ex.nnetPackI8(p8, src, rows, cols);
    ex.nnetMatvecI8(out, p8, 0, 0, rows, cols, xp);
    assert.deepEqual(Array.from(new Int32Array(ex.memory.buffer, out, pad4(rows))), expected, `${label} 8-bit kernel ${rows}x${cols}`);
    checked += 3;
  }
  return checked;
}
