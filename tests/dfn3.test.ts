/**
 * The DeepFilterNet3 peer's own DSP (bench/enhancers/dfn/dsp.ts) and its
 * skip path: everything here holds without the ONNX graphs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDeepFilterNet3, DFN3_ENV } from "../bench/enhancers/deepfilternet.js";
import { EnhancerUnavailable } from "../bench/enhancers/types.js";
import { noise } from "./util.js";
import {
  applyModel, configMismatches, DFN3_CONFIG, erbFeatures, erbWidths, istft, MixedFft, normAlpha, parseIni,
  shiftFrames, stft, unitNormFeatures, vorbisWindow, type Spectrogram,
} from "../bench/enhancers/dfn/dsp.js";

test("MixedFft matches a direct DFT for 960 = 2^6 3 5 and other 2-3-5 lengths", () => {
  for (const n of [960, 30, 8, 45]) {
    const fft = new MixedFft(n);
    const re = Float64Array.from(noise(n, n)), im = Float64Array.from(noise(n, n + 1));
    const Xr = new Float64Array(n), Xi = new Float64Array(n);
    fft.forward(re, im, Xr, Xi);
    for (let k = 0; k < n; k += n > 100 ? 41 : 1) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
        si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
      }
      assert.ok(Math.abs(sr - Xr[k]) < 1e-9 && Math.abs(si - Xi[k]) < 1e-9, `n=${n} k=${k}`);
    }
  }
  assert.throws(() => new MixedFft(14), /prime factor/);
});

test("Vorbis window is power-complementary at 50 % overlap", () => {
  const w = vorbisWindow(960);
  for (let i = 0; i < 480; i++) assert.ok(Math.abs(w[i] ** 2 + w[i + 480] ** 2 - 1) < 1e-12);
  assert.ok(Math.abs(w[479] - w[480]) < 1e-12, "symmetric");
});

test("stft then istft reconstructs the input delayed by fft - hop (480 samples)", () => {
  const x = noise(48000, 3);
  const spec = stft(x);
  assert.equal(spec.frames, 100);
  assert.equal(spec.bins, 481);
  const y = istft(spec);
  assert.equal(y.length, x.length);
  let err = 0;
  for (let i = 0; i < x.length - 480; i++) err = Math.max(err, Math.abs(y[i + 480] - x[i]));
  assert.ok(err < 1e-6, `max error ${err}`);
  for (let i = 0; i < 480; i++) assert.ok(Math.abs(y[i]) < 1e-6, "nothing before the delay");
});

test("stft scales like libDF: a bin-aligned cosine gives sum(w) / 2 x 2 hop / fft^2", () => {
  const x = new Float32Array(4800).map((_, i) => Math.cos((2 * Math.PI * 48 * i) / 960));
  const spec = stft(x);
  const o = 5 * spec.bins * 2; // frame 5: the window lies wholly on the signal
  const mag = Math.hypot(spec.data[o + 96], spec.data[o + 97]);
  const want = (vorbisWindow(960).reduce((a, b) => a + b, 0) / 2) * (2 * 480 / 960 ** 2);
  assert.ok(Math.abs(mag / want - 1) < 1e-3, `|X| = ${mag}, expected ${want}`);
});

test("ERB bands: 32 bands of at least 2 bins covering bins 0..480 exactly, widths as libDF computes them", () => {
  const w = erbWidths();
  assert.equal(w.length, 32);
  assert.equal(w.reduce((a, b) => a + b, 0), 481);
  assert.ok(w.every((x) => x >= 2));
  for (let i = 1; i < w.length; i++) assert.ok(w[i] >= w[i - 1], "non-decreasing");
  // libDF's erb_fb(48000, 960, 32, 2), worked out independently (float32 Python of the same formula).
  assert.deepEqual(w, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 7, 7, 8, 10, 12, 13, 15, 18, 20, 24, 28, 31, 37, 42, 50, 56, 67]);
});

test("normalisation alpha for 10 ms hops and tau = 1 s is 0.99 (libDF's rounding)", () => {
  assert.equal(normAlpha(48000, 480, 1), 0.99);
  assert.equal(normAlpha(48000, 480, 10), 0.999);
  assert.ok(normAlpha(48000, 480, 1000) < 1);
});

/** A spectrogram with every bin of every frame equal to `v` (complex). */
function constSpec(frames: number, re: number, im: number): Spectrogram {
  const bins = 481, data = new Float32Array(frames * bins * 2);
  for (let i = 0; i < data.length; i += 2) { data[i] = re; data[i + 1] = im; }
  return { frames, bins, data };
}

test("unit norm follows s = alpha s + (1 - alpha) |X| from 1e-3..1e-4 and outputs X / sqrt(s), real then imaginary plane", () => {
  const frames = 50, alpha = 0.99, re = 0.3, im = -0.4, mag = 0.5, nbDf = 96;
  const out = unitNormFeatures(constSpec(frames, re, im), nbDf, alpha);
  assert.equal(out.length, 2 * frames * nbDf);
  for (const f of [0, 40, 95]) {
    const s0 = 1e-3 + ((1e-4 - 1e-3) * f) / 95;
    for (const t of [0, 1, 10, 49]) {
      const s = mag + (s0 - mag) * alpha ** (t + 1); // closed form of the recursion for a constant input
      assert.ok(Math.abs(out[t * nbDf + f] - re / Math.sqrt(s)) < 1e-4 * Math.abs(re / Math.sqrt(s)), `re t=${t} f=${f}`);
      assert.ok(Math.abs(out[frames * nbDf + t * nbDf + f] - im / Math.sqrt(s)) < 1e-4 * Math.abs(im / Math.sqrt(s)), `im t=${t} f=${f}`);
    }
  }
});

test("ERB features: band mean power in dB minus a running mean from -60..-90 dB, over 40", () => {
  const frames = 30, alpha = 0.99, w = erbWidths();
  const p = 0.3 ** 2 + 0.4 ** 2, db = 10 * Math.log10(p + 1e-10);
  const out = erbFeatures(constSpec(frames, 0.3, 0.4), w, alpha);
  for (const b of [0, 17, 31]) {
    const s0 = -60 + (-30 * b) / 31;
    for (const t of [0, 5, 29]) {
      const s = db + (s0 - db) * alpha ** (t + 1);
      assert.ok(Math.abs(out[t * 32 + b] - (db - s) / 40) < 1e-5, `t=${t} b=${b}`);
    }
  }
});

test("shiftFrames gives frame t + shift at t, zeros at the end, per plane", () => {
  const f = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 2 planes x 3 frames x 2
  assert.deepEqual([...shiftFrames(f, 3, 2, 2)], [5, 6, 0, 0, 0, 0, 11, 12, 0, 0, 0, 0]);
  assert.deepEqual([...shiftFrames(f, 3, 2, 0)], [...f]);
});

test("applyModel: band gains on every bin, then the deep filter (order 5, lookahead 2) on the lowest 96 bins", () => {
  const frames = 8, cfg = DFN3_CONFIG, w = erbWidths();
  const spec = constSpec(frames, 0, 0);
  // Frame s has value (s + 1) + 0.5i in every bin.
  for (let s = 0; s < frames; s++) for (let f = 0; f < 481; f++) { spec.data[(s * 481 + f) * 2] = s + 1; spec.data[(s * 481 + f) * 2 + 1] = 0.5; }
  const gains = new Float32Array(frames * 32).fill(0.5);
  const coefs = new Float32Array(frames * 96 * 5 * 2);
  // Identity deep filter: tap i = 2 (order - 1 - lookahead, the current frame) = 1.
  const tap = (t: number, f: number, i: number) => ((t * 96 + f) * 5 + i) * 2;
  for (let t = 0; t < frames; t++) for (let f = 0; f < 96; f++) coefs[tap(t, f, 2)] = 1;
  let y = applyModel(spec, w, gains, coefs, cfg);
  const at = (t: number, f: number) => [y.data[(t * 481 + f) * 2], y.data[(t * 481 + f) * 2 + 1]];
  assert.deepEqual(at(3, 10), [4, 0.5], "identity filter keeps the unmasked low bins");
  assert.deepEqual(at(3, 96), [2, 0.25], "high bins get the band gain");
  assert.deepEqual(at(3, 480), [2, 0.25]);
  // Tap 4 = two frames ahead, with a complex coefficient i: (s + 1 + 0.5i) * i.
  coefs.fill(0);
  for (let t = 0; t < frames; t++) for (let f = 0; f < 96; f++) coefs[tap(t, f, 4) + 1] = 1;
  y = applyModel(spec, w, gains, coefs, cfg);
  assert.deepEqual(at(3, 0), [-0.5, 6], "frame 5 through tap 4");
  assert.deepEqual(at(6, 0), [0, 0], "frames past the end are zero");
  // Tap 0 = two frames back.
  coefs.fill(0);
  for (let t = 0; t < frames; t++) for (let f = 0; f < 96; f++) coefs[tap(t, f, 0)] = 2;
  y = applyModel(spec, w, gains, coefs, cfg);
  assert.deepEqual(at(5, 95), [8, 1]);
  assert.deepEqual(at(1, 95), [0, 0], "frames before the start are zero");
});

test("config.ini check: the official values pass, another export is named", () => {
  const ini = `[train]\nmodel = deepfilternet3\n[df]\nsr = 48000\nfft_size = 960\nhop_size = 480\nnb_erb = 32\nnb_df = 96\nnorm_tau = 1\n` +
    `min_nb_erb_freqs = 2\ndf_order = 5\ndf_lookahead = 2\n[deepfilternet]\nconv_lookahead = 2\n`;
  assert.deepEqual(configMismatches(parseIni(ini)), []);
  const ll = ini.replace("df_lookahead = 2", "df_lookahead = 0").replace("conv_lookahead = 2", "conv_lookahead = 0");
  assert.deepEqual(configMismatches(parseIni(ll)), ["df.df_lookahead: expected 2, found 0", "deepfilternet.conv_lookahead: expected 2, found 0"]);
});

test("createDeepFilterNet3 without graphs throws EnhancerUnavailable saying where to get them and what to set", async () => {
  const saved = process.env[DFN3_ENV];
  delete process.env[DFN3_ENV];
  try {
    await assert.rejects(createDeepFilterNet3(), (e: Error) =>
      e instanceof EnhancerUnavailable && e.message.includes(DFN3_ENV) && e.message.includes("--dfn3-dir") &&
      e.message.includes("DeepFilterNet3_onnx.tar.gz") && e.message.includes("github.com/Rikorose/DeepFilterNet"));
    const dir = mkdtempSync(join(tmpdir(), "dfn3-"));
    try {
      await assert.rejects(createDeepFilterNet3({ dir }), (e: Error) =>
        e instanceof EnhancerUnavailable && /enc\.onnx, erb_dec\.onnx, df_dec\.onnx, config\.ini not found/.test(e.message));
      process.env[DFN3_ENV] = dir;
      for (const f of ["enc.onnx", "erb_dec.onnx", "df_dec.onnx", "config.ini"]) writeFileSync(join(dir, f), "not the model");
      await assert.rejects(createDeepFilterNet3(), (e: Error) =>
        e instanceof EnhancerUnavailable && /enc\.onnx is not the official export's/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    if (saved === undefined) delete process.env[DFN3_ENV]; else process.env[DFN3_ENV] = saved;
  }
});
