// Tests of the voice perturbations (lab/dataset/perturb.ts), the EQ and
// speed augmentations' effects on known signals, and the generated noises
// (lab/dataset/synth-noise.ts). No corpus needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../lab/dataset/rng.js";
import { fft } from "../lab/fft.js";
import { applyCascade, butterworth, cascadeResponseDb, designBiquad } from "../lab/dataset/filters.js";
import { FS, randomEq, toFs, meanPower, powerDb } from "../lab/dataset/augment.js";
import { bandLimit, bandLimitEdgeHz, bandwidthAfterPitch, formantWarp, pitchShift, timeStretch } from "../lab/dataset/perturb.js";
import { SYNTH_NOISE_KINDS, colouredNoise, parseSynthNoiseKinds, synthNoise } from "../lab/dataset/synth-noise.js";

/** Welch power spectrum (Hann, 50 % overlap) of x[from, from+len): bin k is k * fs / nfft. */
function psd(x: Float32Array, nfft: number, from = 0, len = x.length - from): Float64Array {
  const out = new Float64Array(nfft / 2 + 1);
  const re = new Float64Array(nfft), im = new Float64Array(nfft);
  let frames = 0;
  for (let s = from; s + nfft <= from + len; s += nfft / 2) {
    for (let i = 0; i < nfft; i++) {
      re[i] = x[s + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft));
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k <= nfft / 2; k++) out[k] += re[k] * re[k] + im[k] * im[k];
    frames++;
  }
  for (let k = 0; k <= nfft / 2; k++) out[k] /= Math.max(1, frames);
  return out;
}

/** Frequency of the strongest bin of x[from, from+len), refined by a parabola through log powers. */
function peakHz(x: Float32Array, fs: number, nfft = 16384, from = 0, len = Math.min(nfft, x.length - from), loHz = 20, hiHz = fs / 2): number {
  const p = psd(x, nfft, from, len);
  let best = 0;
  for (let k = Math.ceil((loHz * nfft) / fs); k < Math.min(p.length - 1, (hiHz * nfft) / fs); k++) if (p[k] > p[best] || best === 0) best = k;
  const a = Math.log(p[best - 1] + 1e-30), b = Math.log(p[best] + 1e-30), c = Math.log(p[best + 1] + 1e-30);
  const d = (a - c) / (2 * (a - 2 * b + c));
  return ((best + d) * fs) / nfft;
}

function sine(f: number, fs: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / fs));
}

/** Sum of power in bins whose frequency lies in [lo, hi). */
function bandPower(p: Float64Array, fs: number, lo: number, hi: number): number {
  const nfft = 2 * (p.length - 1);
  let s = 0;
  for (let k = 0; k < p.length; k++) {
    const f = (k * fs) / nfft;
    if (f >= lo && f < hi) s += p[k];
  }
  return s;
}

/** Synthetic vowel: harmonics of f0 under one resonance at formantHz (bandwidth bwHz). */
function vowel(f0: number, formantHz: number, bwHz: number, n: number, fs = FS): Float32Array {
  const x = new Float32Array(n);
  for (let h = 1; h * f0 < 8000; h++) {
    const f = h * f0;
    const a = 1 / Math.hypot(1 - (f / formantHz) ** 2, f / formantHz * (bwHz / formantHz)) + 0.02;
    const ph = (h * h * 0.7) % (2 * Math.PI);
    for (let i = 0; i < n; i++) x[i] += 0.02 * a * Math.sin((2 * Math.PI * f * i) / fs + ph);
  }
  return x;
}

/** Harmonic of f0 with the most energy (as a frequency), measured with a 0.34 s window in the middle. */
function strongestHarmonic(x: Float32Array, f0: number, fs = FS): number {
  const nfft = 16384;
  const p = psd(x, nfft, Math.floor(x.length / 2) - nfft, 2 * nfft);
  let best = 0, bestP = -1;
  for (let h = 1; h * f0 < 8000; h++) {
    const k = Math.round((h * f0 * nfft) / fs);
    const e = p[k - 1] + p[k] + p[k + 1];
    if (e > bestP) (bestP = e), (best = h * f0);
  }
  return best;
}

test("speed change (existing): duration and frequency both scale by 1 + pct/100", () => {
  const x = sine(1000, FS, FS);
  const y = toFs(x, FS, 10);
  assert.ok(Math.abs(y.length - FS / 1.1) <= 2, `length ${y.length}`);
  const f = peakHz(y, FS, 16384, 4000);
  assert.ok(Math.abs(f - 1100) < 2, `peak ${f}`);
});

test("time stretch: length scales, a tone keeps its frequency and level, no gaps", () => {
  for (const s of [0.8, 1.15]) {
    const x = sine(440, FS, FS);
    const y = timeStretch(x, s);
    assert.equal(y.length, Math.round(FS * s));
    const f = peakHz(y, FS, 16384, 8000);
    assert.ok(Math.abs(f - 440) < 1, `stretch ${s}: peak ${f}`);
    // WSOLA's frame choice keeps the periods in phase: the envelope stays flat (a bad splice dips or doubles).
    let min = Infinity, max = 0;
    for (let b = 4; b < Math.floor(y.length / 480) - 4; b++) {
      let e = 0;
      for (let i = b * 480; i < (b + 1) * 480; i++) e += y[i] * y[i];
      min = Math.min(min, e), (max = Math.max(max, e));
    }
    assert.ok(powerDb(max) - powerDb(min) < 0.5, `stretch ${s}: envelope ${powerDb(min)}..${powerDb(max)}`);
  }
});

test("pitch shift: a tone's frequency moves by the factor, the duration stays", () => {
  for (const pct of [-12, 7, 15]) {
    const x = sine(500, FS, FS);
    const y = pitchShift(x, pct);
    assert.equal(y.length, x.length);
    const f = peakHz(y, FS, 16384, 8000);
    assert.ok(Math.abs(f - 500 * (1 + pct / 100)) < 1, `pct ${pct}: peak ${f}`);
    // The tone fills the clip up to its end, as the input did.
    const tail = meanPower(y.subarray(y.length - 4800, y.length - 2400));
    assert.ok(Math.abs(powerDb(tail) - powerDb(meanPower(x))) < 1, `pct ${pct}: tail ${powerDb(tail)}`);
  }
  // Full band stays full band; a pitch rise scales a band limit.
  assert.equal(bandwidthAfterPitch(Infinity, 10), Infinity);
  assert.ok(Math.abs(bandwidthAfterPitch(8000, 10) - 8800) < 1e-6);
});

test("formant warp: the spectral peak moves by the factor, the harmonics stay where they were", () => {
  for (const f0 of [100, 200]) {
    const x = vowel(f0, 1000, 120, FS);
    assert.equal(strongestHarmonic(x, f0), 1000);
    for (const [alpha, want] of [[1.2, 1200], [0.8, 800]] as const) {
      const y = formantWarp(x, alpha);
      assert.equal(y.length, x.length);
      assert.equal(strongestHarmonic(y, f0), want, `f0 ${f0}, alpha ${alpha}`);
      // Harmonic structure: nearly all energy within 10 Hz of multiples of f0.
      const nfft = 16384;
      const p = psd(y, nfft, 8000, FS - 16000);
      let on = 0, all = 0;
      for (let k = 1; k < p.length; k++) {
        const f = (k * FS) / nfft;
        all += p[k];
        if (Math.abs(f - f0 * Math.round(f / f0)) <= 10) on += p[k];
      }
      assert.ok(on / all > 0.99, `f0 ${f0}, alpha ${alpha}: ${(100 * on / all).toFixed(2)} % on the harmonics`);
    }
    // No warp leaves the signal as it was (the analysis-synthesis is transparent).
    const same = formantWarp(x, 1);
    const d = x.map((v, i) => v - same[i]);
    assert.ok(powerDb(meanPower(d)) - powerDb(meanPower(x)) < -60);
  }
});

test("formant warp never boosts above the given bandwidth", () => {
  const r = new Rng(3);
  const x = Float32Array.from({ length: FS }, () => r.normal() * 0.1);
  applyCascade(x, butterworth("lowpass", 8, 4000, FS));
  const y = formantWarp(x, 1.3, { bandwidthHz: 4000 });
  const px = psd(x, 4096), py = psd(y, 4096);
  assert.ok(bandPower(py, FS, 6000, 24000) <= bandPower(px, FS, 6000, 24000) * 1.01);
  // Without the bound the warp would lift that residue (the check above can fail).
  const z = formantWarp(x, 1.3);
  assert.ok(bandPower(psd(z, 4096), FS, 6000, 24000) > 2 * bandPower(px, FS, 6000, 24000));
});

test("random EQ: tones far below and above the shelves change by the drawn shelf gains, within the set range", () => {
  let checked = 0;
  for (let seed = 0; checked < 3 && seed < 50; seed++) {
    const { sections, info } = randomEq(new Rng(seed), 12);
    if (info.peaks.length) continue;
    assert.ok(Math.abs(info.lowShelf.db) <= 12 && Math.abs(info.highShelf.db) <= 12);
    const lo = sine(20, FS, FS), hi = sine(21000, FS, FS);
    const dbLo = powerDb(meanPower(applyCascade(lo.slice(), sections).subarray(FS / 2))) - powerDb(meanPower(lo));
    const dbHi = powerDb(meanPower(applyCascade(hi.slice(), sections).subarray(FS / 2))) - powerDb(meanPower(hi));
    assert.ok(Math.abs(dbLo - info.lowShelf.db) < 0.5, `seed ${seed}: low ${dbLo} vs ${info.lowShelf.db}`);
    assert.ok(Math.abs(dbHi - info.highShelf.db) < 0.5, `seed ${seed}: high ${dbHi} vs ${info.highShelf.db}`);
    checked++;
  }
  assert.equal(checked, 3);
});

test("band-limited channel: nothing above the rate's Nyquist, the pass band untouched, same length", () => {
  const r = new Rng(5);
  const x = Float32Array.from({ length: FS }, () => r.normal() * 0.1);
  for (const rate of [8000, 16000]) {
    const y = bandLimit(x, rate);
    assert.equal(y.length, x.length);
    const px = psd(x, 4096), py = psd(y, 4096);
    const edge = bandLimitEdgeHz(rate);
    assert.ok(edge > 0.8 * rate / 2 && edge < rate / 2, `edge ${edge}`);
    const above = powerDb(bandPower(py, FS, rate / 2 + 200, 24000)) - powerDb(bandPower(px, FS, rate / 2 + 200, 24000));
    assert.ok(above < -60, `rate ${rate}: ${above} dB above the cutoff`);
    const pass = powerDb(bandPower(py, FS, 100, edge)) - powerDb(bandPower(px, FS, 100, edge));
    assert.ok(Math.abs(pass) < 0.2, `rate ${rate}: pass band ${pass} dB`);
  }
});

test("generated noises: right length, finite, deterministic for a seed, different for another", () => {
  for (const kind of SYNTH_NOISE_KINDS) {
    const a = synthNoise(new Rng(1), kind, 24000);
    const b = synthNoise(new Rng(1), kind, 24000);
    const c = synthNoise(new Rng(2), kind, 24000);
    assert.equal(a.audio.length, 24000);
    assert.ok(a.audio.every((v) => Number.isFinite(v)), kind);
    assert.ok(meanPower(a.audio) > 1e-6, kind);
    assert.deepEqual(a.audio, b.audio, kind);
    assert.deepEqual(a.info, b.info, kind);
    assert.notDeepEqual(a.audio, c.audio, kind);
    assert.equal(a.info.kind, kind);
  }
  assert.deepEqual(parseSynthNoiseKinds("all"), [...SYNTH_NOISE_KINDS]);
  assert.deepEqual(parseSynthNoiseKinds("hum, whine"), ["hum", "whine"]);
  assert.throws(() => parseSynthNoiseKinds("hum,pink"), /unknown noise kind pink/);
});

test("coloured noise: log power falls along log frequency with the drawn slope", () => {
  for (const beta of [-2, -1, 0, 1]) {
    const x = colouredNoise(new Rng(7), 4 * FS, beta);
    const p = psd(x, 4096);
    // Least-squares line through (log10 f, log10 P) at 100 Hz-10 kHz, on octave-spaced averages.
    const xs: number[] = [], ys: number[] = [];
    for (let f = 100; f < 10000; f *= Math.SQRT2) {
      xs.push(Math.log10(f * Math.pow(2, 0.25)));
      ys.push(Math.log10(bandPower(p, FS, f, f * Math.SQRT2) / (f * (Math.SQRT2 - 1))));
    }
    const mx = xs.reduce((a, v) => a + v, 0) / xs.length, my = ys.reduce((a, v) => a + v, 0) / ys.length;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < xs.length; i++) (sxy += (xs[i] - mx) * (ys[i] - my)), (sxx += (xs[i] - mx) ** 2);
    const slope = sxy / sxx;
    assert.ok(Math.abs(slope - beta) < 0.1, `beta ${beta}: fitted ${slope}`);
  }
  const r = synthNoise(new Rng(3), "colour", 1000, { slope: [0.5, 0.6] });
  assert.ok(r.info.kind === "colour" && r.info.slope >= 0.5 && r.info.slope <= 0.6);
});

test("hum: energy concentrated at multiples of 50 or 60 Hz", () => {
  const seen = new Set<number>();
  for (let seed = 0; seed < 6; seed++) {
    const r = synthNoise(new Rng(seed), "hum", 4 * FS);
    assert.ok(r.info.kind === "hum");
    const f0 = r.info.mainsHz;
    seen.add(f0);
    const nfft = 32768;
    const p = psd(r.audio, nfft);
    let on = 0, all = 0;
    for (let k = 1; k < p.length; k++) {
      const f = (k * FS) / nfft;
      all += p[k];
      const h = Math.max(1, Math.round(f / f0));
      // Window main lobe (2 bins = 3 Hz) plus the wander of harmonic h.
      if (Math.abs(f - h * f0) <= 3 + h * f0 * r.info.jitter) on += p[k];
    }
    assert.ok(on / all > 0.995, `seed ${seed} (${f0} Hz): ${(100 * on / all).toFixed(2)} % on the harmonics`);
    // The fundamental itself is there.
    assert.ok(Math.abs(peakHz(r.audio, FS, nfft, 0, nfft, 20, 1.5 * f0) - f0) < 1);
  }
  assert.deepEqual([...seen].sort(), [50, 60]);
});

test("whine: tones within 1-7 kHz drifting by at most the set rate", () => {
  for (let seed = 0; seed < 4; seed++) {
    const drift = 50;
    const r = synthNoise(new Rng(seed), "whine", 6 * FS, { whineDriftHzPerS: drift });
    assert.ok(r.info.kind === "whine" && r.info.tones.length >= 1 && r.info.tones.length <= 3);
    const p = psd(r.audio, 4096);
    const inBand = bandPower(p, FS, 950, 7050) / bandPower(p, FS, 0, 24000);
    assert.ok(inBand > 0.999, `seed ${seed}: ${inBand}`);
    for (const t of r.info.tones) assert.ok(Math.abs(t.endHz - t.startHz) <= drift * 6 + 1e-6);
    // Loudest tone's frequency, second by second: consecutive estimates differ by at most the rate (+ resolution).
    let prev = NaN;
    for (let s = 0; s + 1 <= 6; s++) {
      const f = peakHz(r.audio, FS, 16384, s * FS + 8000, 16384);
      assert.ok(f >= 990 && f <= 7010, `seed ${seed}: ${f} Hz at ${s} s`);
      if (Number.isFinite(prev) && r.info.tones.length === 1) assert.ok(Math.abs(f - prev) <= drift + 3, `seed ${seed}: ${prev} -> ${f}`);
      prev = f;
    }
  }
});

test("rumble: energy below 500 Hz", () => {
  for (let seed = 0; seed < 4; seed++) {
    const r = synthNoise(new Rng(seed), "rumble", 4 * FS);
    const p = psd(r.audio, 8192);
    const above = powerDb(bandPower(p, FS, 500, 24000)) - powerDb(bandPower(p, FS, 0, 24000));
    assert.ok(above < -40, `seed ${seed}: ${above} dB above 500 Hz`);
  }
});

test("fan: broadband with resonant peaks and a blade-pass tone", () => {
  for (let seed = 0; seed < 4; seed++) {
    const r = synthNoise(new Rng(seed), "fan", 4 * FS);
    assert.ok(r.info.kind === "fan");
    const nfft = 16384;
    const p = psd(r.audio, nfft);
    const at = (f: number) => p[Math.round((f * nfft) / FS)];
    const b = r.info.bladeHz;
    assert.ok(b >= 30 && b <= 450);
    // The blade tone stands well above the noise a few bins away.
    const tone = Math.max(at(b - 3), at(b), at(b + 3));
    const floor = (at(b * 1.3) + at(b * 0.8)) / 2;
    assert.ok(powerDb(tone) - powerDb(floor) > 15, `seed ${seed}: blade ${b} Hz ${powerDb(tone) - powerDb(floor)} dB`);
    // Divided by the drawn resonances' response, the spectrum is a straight
    // line in log-log (the pinkish base) away from the blade tones: the peaks
    // are there, as drawn (without them this quotient dips by 6-18 dB at each).
    const peaks = r.info.resonances.map((q) => designBiquad("peak", q.hz, FS, q.q, q.db));
    const xs: number[] = [], ys: number[] = [];
    for (let f = 200; f < 10000; f *= Math.pow(2, 1 / 12)) {
      const hi = f * Math.pow(2, 1 / 12);
      if ([1, 2, 3].some((h) => h * b > f - 10 && h * b < hi + 10)) continue;
      let sum = 0, cnt = 0;
      for (let k = Math.ceil((f * nfft) / FS); (k * FS) / nfft < hi; k++) {
        sum += p[k] / Math.pow(10, cascadeResponseDb(peaks, (k * FS) / nfft, FS) / 10);
        cnt++;
      }
      xs.push(Math.log10(Math.sqrt(f * hi)));
      ys.push(10 * Math.log10(sum / cnt));
    }
    const mx = xs.reduce((a, v) => a + v, 0) / xs.length, my = ys.reduce((a, v) => a + v, 0) / ys.length;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < xs.length; i++) (sxy += (xs[i] - mx) * (ys[i] - my)), (sxx += (xs[i] - mx) ** 2);
    const worst = Math.max(...ys.map((y, i) => Math.abs(y - my - (sxy / sxx) * (xs[i] - mx))));
    assert.ok(worst < 2, `seed ${seed}: ${worst.toFixed(2)} dB off the line`);
    // Broadband: energy in every octave from 250 Hz to 8 kHz.
    for (let f = 250; f < 8000; f *= 2) assert.ok(bandPower(p, FS, f, 2 * f) / bandPower(p, FS, 0, 24000) > 1e-4, `seed ${seed}: octave ${f}`);
  }
});
