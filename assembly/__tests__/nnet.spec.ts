/// <reference types="@as-pect/assembly/types/as-pect" />
import { allocAligned, packI8, packedBytes, matvecI8, quantizef, tanhf, sigmoidf, gruUpdate } from "../nnet";

describe("matvecI8", () => {
  it("equals naive integer loops, and ignores garbage past the last column", () => {
    const rows = 7, cols = 21;
    const src = allocAligned(rows * cols);
    const w = allocAligned(packedBytes(rows, cols));
    const x = allocAligned(64 * 2);
    const out = allocAligned(8 * 4);
    let seed: u32 = 12345;
    for (let i = 0; i < rows * cols; i++) {
      seed = seed * 1103515245 + 12345;
      store<i8>(src + <usize>i, <i8>(<i32>((seed >> 16) % 255) - 127));
    }
    for (let c = 0; c < 64; c++) {
      // columns >= cols hold garbage: zero-padded weights must cancel it
      store<i16>(x + <usize>(c << 1), <i16>(c < cols ? (c * 37) % 255 - 127 : 1000 + c));
    }
    packI8(w, src, rows, cols);
    matvecI8(out, w, 0, 0, rows, cols, x);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += <i32>load<i8>(src + <usize>(r * cols + c)) * <i32>load<i16>(x + <usize>(c << 1));
      expect(load<i32>(out + <usize>(r << 2))).toBe(s);
    }
    expect(load<i32>(out + 28)).toBe(0); // padding row
  });
});

describe("activations", () => {
  it("tanh and sigmoid are within the documented error", () => {
    for (let i = -1000; i <= 1000; i++) {
      const x = <f32>i * 0.01;
      expect(Math.abs(<f64>tanhf(x) - Math.tanh(<f64>x))).toBeLessThan(1e-4);
      expect(Math.abs(<f64>sigmoidf(x) - 1.0 / (1.0 + Math.exp(-<f64>x)))).toBeLessThan(5e-5);
    }
  });
  it("quantizef rounds half to even and clamps", () => {
    expect(quantizef(<f32>0.5 / 127)).toBe(0);
    expect(quantizef(<f32>1.5 / 127)).toBe(2);
    expect(quantizef(2.0)).toBe(127);
    expect(quantizef(-2.0)).toBe(-127);
    expect(quantizef(NaN)).toBe(0);
  });
  it("gruUpdate with z = 1 keeps the state", () => {
    const h = allocAligned(16), gi = allocAligned(48), gh = allocAligned(48);
    for (let j = 0; j < 4; j++) {
      store<f32>(h + <usize>(j << 2), 0.25 * <f32>j);
      store<f32>(gi + <usize>((4 + j) << 2), 100.0);
    }
    gruUpdate(h, gi, gh, 4);
    for (let j = 0; j < 4; j++) expect(load<f32>(h + <usize>(j << 2))).toBe(0.25 * <f32>j);
  });
});
