// The voice perturbations, the band-limited channel and the generated noises
// inside the mixture builder. Corpus-backed: reads /work/shared/data/train
// (or PERCEPNET_TRAIN_DATA) and is skipped when it is absent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Corpus, DEFAULT_CORPUS_ROOT, splitCorpus } from "../lab/dataset/corpus.js";
import { fft } from "../lab/fft.js";
import { activePower, meanPower, powerDb } from "../lab/dataset/augment.js";
import { bandLimitEdgeHz } from "../lab/dataset/perturb.js";
import { mixtureAt, validBandsFor } from "../lab/dataset/mixture.js";

const haveCorpus = existsSync(join(DEFAULT_CORPUS_ROOT, "MANIFEST.tsv"));

/** Power of x above hz relative to all of x, dB, from a Hann-windowed Welch spectrum (sidelobes far below -60 dB a few bins out). */
function aboveDb(x: Float32Array, hz: number): number {
  const nfft = 4096;
  const re = new Float64Array(nfft), im = new Float64Array(nfft);
  let above = 0, all = 0;
  for (let s = 0; s + nfft <= x.length; s += nfft / 2) {
    for (let i = 0; i < nfft; i++) (re[i] = x[s + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft))), (im[i] = 0);
    fft(re, im);
    for (let k = 0; k <= nfft / 2; k++) {
      const p = re[k] * re[k] + im[k] * im[k];
      all += p;
      if ((k * 48000) / nfft >= hz) above += p;
    }
  }
  return powerDb(above) - powerDb(all);
}

/** FNV-1a over bytes, continuing from h. */
function fnv(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) (h ^= b), (h = Math.imul(h, 0x01000193));
  return h >>> 0;
}

function bytesOf(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/**
 * Mixtures 0-3 of seed 51 (2 s, default options) as made before these
 * augmentations existed (commit 4e0b435), for the shared corpus whose
 * manifest hashes to MANIFEST_FNV: comparing the new code against itself
 * could not notice a new option that draws a random number when it is off.
 */
const MANIFEST_FNV = 0x56126919;
const BEFORE = [0x2995a845, 0x53924f9a, 0x71b3d201, 0xc0236cd6];

function diff(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v - b[i]);
}

test("new augmentations: zero probabilities draw nothing, so earlier seeds give the same mixtures", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const base = { seconds: 2 };
  const sameCorpus = fnv(readFileSync(join(DEFAULT_CORPUS_ROOT, "MANIFEST.tsv"))) === MANIFEST_FNV;
  for (let i = 0; i < 4; i++) {
    const off = await mixtureAt(c, train, 51, i, base);
    if (sameCorpus) assert.equal(fnv(bytesOf(off.noisy), fnv(bytesOf(off.clean))), BEFORE[i], `mixture ${i} differs from before`);
    const zero = await mixtureAt(c, train, 51, i, {
      ...base, pitchProb: 0, pitchPct: 20, formantProb: 0, formantPct: 20, inputBandlimitProb: 0, synthNoiseProb: 0, eqDb: 6,
    });
    assert.deepEqual(zero.clean, off.clean);
    assert.deepEqual(zero.noisy, off.noisy);
    assert.equal(off.meta.pitchPct, 0);
    assert.equal(off.meta.formantWarp, null);
    assert.equal(off.meta.inputBandlimitRate, null);
    assert.equal(off.meta.synthNoise, null);
  }
  c.close();
});

test("pitch change and formant warp: target and input carry the same perturbed voice", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const base = { seconds: 3, fixedSnrDb: 10, reverb: false, clipProb: 0, speedProb: 0, pitchProb: 1, formantProb: 1 };
  let changed = 0;
  for (let i = 0; i < 4; i++) {
    // A 0 % range draws the same numbers, so both runs pick the same speech and noises.
    const off = await mixtureAt(c, train, 61, i, { ...base, pitchPct: 0, formantPct: 0 });
    const on = await mixtureAt(c, train, 61, i, { ...base, pitchPct: 15, formantPct: 15 });
    assert.deepEqual(on.meta.speechFiles, off.meta.speechFiles);
    assert.deepEqual(on.meta.noiseFiles, off.meta.noiseFiles);
    assert.ok(Number.isInteger(on.meta.pitchPct) && Math.abs(on.meta.pitchPct) <= 15);
    assert.ok(on.meta.formantWarp !== null && on.meta.formantWarp >= 1 / 1.15 - 1e-9 && on.meta.formantWarp <= 1.15 + 1e-9);
    assert.equal(off.meta.formantWarp, 1);
    // The input minus the target is the noise alone, the same noise as without
    // the perturbation up to the SNR scale: no perturbed (or unperturbed) speech is left in it.
    const dOn = diff(on.noisy, on.clean), dOff = diff(off.noisy, off.clean);
    let xy = 0, yy = 0;
    for (let j = 0; j < dOn.length; j++) (xy += dOn[j] * dOff[j]), (yy += dOff[j] * dOff[j]);
    const k = xy / yy;
    const res = dOn.map((v, j) => v - k * dOff[j]);
    assert.ok(powerDb(meanPower(res)) - powerDb(meanPower(dOn)) < -40, `mixture ${i}: residual ${powerDb(meanPower(res)) - powerDb(meanPower(dOn))} dB`);
    // ... while the speech itself did change.
    const g = Math.sqrt(activePower(off.clean) / activePower(on.clean));
    const dc = diff(on.clean.map((v) => v * g), off.clean);
    if (on.meta.pitchPct !== 0 || Math.abs(on.meta.formantWarp - 1) > 0.02) {
      assert.ok(powerDb(meanPower(dc)) - powerDb(meanPower(off.clean)) > -10, `mixture ${i}`);
      changed++;
    }
  }
  assert.ok(changed >= 3, `${changed} of 4 changed`);
  c.close();
});

test("band-limited channel: nothing above it in input or target, the bands above it masked", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const opts = { seconds: 3, fixedSnrDb: 10, fullbandNoiseProb: 1, fullbandSpeechProb: 1, lowpassProb: 0, speedProb: 0, clipProb: 0, inputBandlimitProb: 1 };
  const m = await mixtureAt(c, train, 71, 0, { ...opts, inputBandlimitRates: [8000] });
  assert.equal(m.meta.inputBandlimitRate, 8000);
  assert.ok(aboveDb(m.noisy, 4200) < -60, `noisy ${aboveDb(m.noisy, 4200)} dB`);
  assert.ok(aboveDb(m.clean, 4200) < -60, `clean ${aboveDb(m.clean, 4200)} dB`);
  assert.equal(m.validBands, validBandsFor(bandLimitEdgeHz(8000)));
  assert.ok(m.validBands < validBandsFor(4000) + 1 && m.validBands >= validBandsFor(3000));
  // A wide channel on full-band speech still masks the top bands it removed.
  const w = await mixtureAt(c, train, 71, 1, { ...opts, inputBandlimitRates: [32000] });
  assert.equal(w.meta.inputBandlimitRate, 32000);
  assert.equal(w.validBands, validBandsFor(bandLimitEdgeHz(32000)));
  assert.ok(w.validBands < 34);
  c.close();
});

test("generated noise: replaces the recordings at the drawn SNR, or joins them", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const base = { seconds: 3, fixedSnrDb: 0, reverb: false, clipProb: 0, fullbandNoiseProb: 0, synthNoiseProb: 1 };
  const r = await mixtureAt(c, train, 81, 0, { ...base, synthNoiseKinds: ["rumble"], synthNoiseReplaceProb: 1 });
  assert.ok(r.meta.synthNoise !== null && r.meta.synthNoise.replace && r.meta.synthNoise.info.kind === "rumble");
  assert.deepEqual(r.meta.noiseFiles, []);
  assert.deepEqual(r.meta.babbleLabels, []);
  const d = diff(r.noisy, r.clean);
  assert.ok(aboveDb(d, 1000) < -40, `noise above 1 kHz: ${aboveDb(d, 1000)} dB`);
  assert.ok(Math.abs(powerDb(activePower(r.clean)) - powerDb(meanPower(d))) < 0.5, "0 dB SNR");
  let joined = 0;
  for (let i = 0; i < 4; i++) {
    const a = await mixtureAt(c, train, 82, i, { ...base, synthNoiseKinds: ["hum", "whine"], synthNoiseReplaceProb: 0 });
    assert.ok(a.meta.synthNoise !== null && !a.meta.synthNoise.replace);
    assert.ok(["hum", "whine"].includes(a.meta.synthNoise.info.kind));
    assert.ok(a.meta.synthNoise.relDb >= -20 && a.meta.synthNoise.relDb <= 0);
    if (a.meta.noiseFiles.length || a.meta.babbleLabels.length) joined++;
  }
  assert.equal(joined, 4);
  c.close();
});
