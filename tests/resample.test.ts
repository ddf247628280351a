import { test } from "node:test";
import assert from "node:assert/strict";
import { resample } from "../host/resample.js";

function tone(freq: number, fs: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(fs * seconds));
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * freq * i) / fs);
  return x;
}

/** RMS over the middle half, away from the filter's edge transients. */
function midRms(x: Float32Array): number {
  const a = Math.floor(x.length / 4), b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return Math.sqrt(s / (b - a));
}

for (const [fin, fout] of [[48000, 16000], [48000, 10000], [16000, 48000]] as const) {
  test(`resample ${fin}->${fout}: pass band flat within 0.05 dB`, () => {
    const nyq = Math.min(fin, fout) / 2;
    for (const f of [100, 0.3 * nyq, 0.6 * nyq, 0.88 * nyq]) {
      const y = resample(tone(f, fin, 0.5), fin, fout);
      assert.equal(y.length, Math.ceil((0.5 * fin * fout) / fin));
      const gainDb = 20 * Math.log10(midRms(y) / Math.SQRT1_2);
      assert.ok(Math.abs(gainDb) < 0.05, `${f} Hz: gain ${gainDb.toFixed(3)} dB`);
    }
  });
  if (fout < fin) {
    test(`resample ${fin}->${fout}: stop band (aliasing) below -75 dB`, () => {
      const nyq = fout / 2;
      for (const f of [1.02 * nyq, 1.5 * nyq, 0.95 * (fin / 2)]) {
        const y = resample(tone(f, fin, 0.5), fin, fout);
        const gainDb = 20 * Math.log10(midRms(y) / Math.SQRT1_2 + 1e-12);
        assert.ok(gainDb < -75, `${f} Hz: leak ${gainDb.toFixed(1)} dB`);
      }
    });
  }
}

test("resample keeps timing: a 48k tone stays in phase at 16k", () => {
  const f = 1000;
  const y = resample(tone(f, 48000, 0.2), 48000, 16000);
  const expected = tone(f, 16000, 0.2);
  for (let i = 800; i < 2400; i++) assert.ok(Math.abs(y[i] - expected[i]) < 1e-3, `sample ${i}`);
});
