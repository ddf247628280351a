/**
 * Second-order sections (RBJ audio-EQ-cookbook forms) and Butterworth
 * cascades used by the augmentations and the room simulator.
 */

/** Normalised biquad: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export type BiquadKind = "lowpass" | "highpass" | "peak" | "lowshelf" | "highshelf";

/** Designs one section; gainDb is used by peak and shelf kinds, q by all (shelves: slope-1 when omitted). */
export function designBiquad(kind: BiquadKind, freqHz: number, fs: number, q = Math.SQRT1_2, gainDb = 0): Biquad {
  const w0 = (2 * Math.PI * Math.min(freqHz, fs * 0.499)) / fs;
  const cw = Math.cos(w0);
  const sw = Math.sin(w0);
  const alpha = sw / (2 * q);
  const A = Math.pow(10, gainDb / 40);
  let b0: number, b1: number, b2: number, a0: number, a1: number, a2: number;
  switch (kind) {
    case "lowpass":
      b0 = (1 - cw) / 2;
      b1 = 1 - cw;
      b2 = b0;
      a0 = 1 + alpha;
      a1 = -2 * cw;
      a2 = 1 - alpha;
      break;
    case "highpass":
      b0 = (1 + cw) / 2;
      b1 = -(1 + cw);
      b2 = b0;
      a0 = 1 + alpha;
      a1 = -2 * cw;
      a2 = 1 - alpha;
      break;
    case "peak":
      b0 = 1 + alpha * A;
      b1 = -2 * cw;
      b2 = 1 - alpha * A;
      a0 = 1 + alpha / A;
      a1 = -2 * cw;
      a2 = 1 - alpha / A;
      break;
    case "lowshelf":
    case "highshelf": {
      const s = kind === "lowshelf" ? 1 : -1;
      const r = 2 * Math.sqrt(A) * alpha;
      b0 = A * (A + 1 - s * (A - 1) * cw + r);
      b1 = s * 2 * A * (A - 1 - s * (A + 1) * cw);
      b2 = A * (A + 1 - s * (A - 1) * cw - r);
      a0 = A + 1 + s * (A - 1) * cw + r;
      a1 = -s * 2 * (A - 1 + s * (A + 1) * cw);
      a2 = A + 1 + s * (A - 1) * cw - r;
      break;
    }
  }
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

/** Butterworth low- or high-pass of even order as a cascade of order/2 sections. */
export function butterworth(kind: "lowpass" | "highpass", order: number, freqHz: number, fs: number): Biquad[] {
  const out: Biquad[] = [];
  for (let k = 0; k < order / 2; k++) {
    const q = 1 / (2 * Math.cos((Math.PI * (2 * k + 1)) / (2 * order)));
    out.push(designBiquad(kind, freqHz, fs, q));
  }
  return out;
}

/** Runs the cascade over x in place (direct form II transposed, double state). */
export function applyCascade(x: Float32Array, sections: readonly Biquad[]): Float32Array {
  for (const s of sections) {
    const { b0, b1, b2, a1, a2 } = s;
    let z1 = 0;
    let z2 = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const y = b0 * v + z1;
      z1 = b1 * v - a1 * y + z2;
      z2 = b2 * v - a2 * y;
      x[i] = y;
    }
  }
  return x;
}

/** Magnitude response of a cascade at freqHz, in dB. */
export function cascadeResponseDb(sections: readonly Biquad[], freqHz: number, fs: number): number {
  const w = (2 * Math.PI * freqHz) / fs;
  let db = 0;
  for (const s of sections) {
    // H(e^jw) with z^-1 = e^-jw.
    const c1 = Math.cos(w), s1 = -Math.sin(w), c2 = Math.cos(2 * w), s2 = -Math.sin(2 * w);
    const nr = s.b0 + s.b1 * c1 + s.b2 * c2;
    const ni = s.b1 * s1 + s.b2 * s2;
    const dr = 1 + s.a1 * c1 + s.a2 * c2;
    const di = s.a1 * s1 + s.a2 * s2;
    db += 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
  }
  return db;
}
