// The oracle (ideal targets from the clean signal) on real speech + real noise,
// and the training feature dump.
import { test } from "node:test";
import assert from "node:assert/strict";
import { enhanceOracle, dumpFeatures } from "../host/offline.js";
import { PnfWriter, readPnf, PNF_RECORD } from "../lab/pnf.js";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSample, mix, segSnr, rng } from "./util.js";
import { siSdr } from "../bench/metrics/sisdr.js";

const clean = readSample("speech_clean_freesound_33711.wav").subarray(48000, 48000 * 5);
const noise = readSample("noise_freesound_573577.wav");

test("oracle improves SI-SDR at 0/5/10 dB, and comb + postfilter is no worse than gains alone", async () => {
  for (const snr of [0, 5, 10]) {
    const noisy = mix(clean, noise, snr);
    const gainsOnly = await enhanceOracle(clean, noisy, { comb: false, postfilter: false });
    const full = await enhanceOracle(clean, noisy);
    const s0 = siSdr(clean, noisy), s1 = siSdr(clean, gainsOnly), s2 = siSdr(clean, full);
    assert.ok(s1 > s0 + 8, `${snr} dB: gains-only oracle SI-SDR ${s1.toFixed(2)} vs noisy ${s0.toFixed(2)}`);
    assert.ok(s2 > s0 + 8, `${snr} dB: full oracle SI-SDR ${s2.toFixed(2)}`);
    assert.ok(segSnr(clean, full) >= segSnr(clean, gainsOnly) - 0.05, `${snr} dB: segSNR full ${segSnr(clean, full)} < gains ${segSnr(clean, gainsOnly)}`);
  }
});

test("oracle on a clean input is transparent (gains ~1, SI-SDR > 25 dB)", async () => {
  const y = await enhanceOracle(clean, clean);
  assert.ok(siSdr(clean, y) > 25, `SI-SDR ${siSdr(clean, y)}`);
});

test("dump: features and targets finite and in range for silence, full-scale noise, DC, clipping", async () => {
  const n = 48000;
  const r = rng(9);
  const cases: Record<string, Float32Array> = {
    silence: new Float32Array(n),
    fullScaleNoise: new Float32Array(n).map(() => r() * 2 - 1),
    dc: new Float32Array(n).fill(0.9),
    clipped: clean.subarray(0, n).map((v) => Math.max(-0.05, Math.min(0.05, v * 20))),
    square: new Float32Array(n).map((_, i) => (Math.floor(i / 100) % 2 ? 1 : -1)),
  };
  for (const [name, x] of Object.entries(cases)) {
    for (const ref of [x, clean.subarray(0, n)]) {
      const d = await dumpFeatures(ref, x);
      for (const arr of [d.features, d.gains, d.strengths, d.vad]) {
        for (const v of arr) assert.ok(Number.isFinite(v), `${name}: non-finite`);
      }
      for (const v of d.gains) assert.ok(v >= 0 && v <= 1, `${name}: gain ${v}`);
      for (const v of d.strengths) assert.ok(v >= 0 && v <= 1, `${name}: strength ${v}`);
    }
  }
});

test("dump: a noisy mixture gives gains < 1 where noise dominates, VAD follows speech, and the .pnf round-trips", async () => {
  const noisy = mix(clean, noise, 0);
  const d = await dumpFeatures(clean, noisy);
  let mean = 0; for (const v of d.gains) mean += v; mean /= d.gains.length;
  assert.ok(mean < 0.8 && mean > 0.05, `mean gain ${mean}`);
  let vad = 0; for (const v of d.vad) vad += v;
  assert.ok(vad > 0.2 * d.frames && vad < d.frames, `vad frames ${vad}/${d.frames}`);
  const dir = mkdtempSync(join(tmpdir(), "pnf-"));
  const path = join(dir, "a.pnf");
  const w = await PnfWriter.create(path, 2, 100);
  await w.add(d, 34, 0);
  await w.add(d, 20, 100);
  await w.close();
  const f = readPnf(readFileSync(path));
  assert.equal(f.nSeq, 2); assert.equal(f.seqLen, 100);
  assert.deepEqual(Array.from(f.validBands), [34, 20]);
  // second sequence, frame 5 = dump frame 105
  const o = (100 + 5) * PNF_RECORD;
  assert.deepEqual(f.records.subarray(o, o + 70), d.features.subarray(105 * 70, 106 * 70));
  assert.deepEqual(f.records.subarray(o + 70, o + 104), d.gains.subarray(105 * 34, 106 * 34));
});

test("CLI: percepnet oracle writes an enhanced, time-aligned file and refuses to overwrite it", async () => {
  const { main } = await import("../host/cli.js");
  const { decodeWav } = await import("../host/wav.js");
  const { SAMPLES } = await import("./util.js");
  const dir = mkdtempSync(join(tmpdir(), "oracle-"));
  const out = join(dir, "o.wav");
  const io = { stdout: { write() {} }, stderr: { write() {} } };
  const args = ["oracle", "--clean", `${SAMPLES}/speech_clean_freesound_33711.wav`, "--noisy", `${SAMPLES}/speech_noisy_snr0.wav`, "-o", out];
  assert.equal(await main(args, { io }), 0);
  const y = decodeWav(readFileSync(out)).channels[0];
  const c = readSample("speech_clean_freesound_33711.wav"), n = readSample("speech_noisy_snr0.wav");
  assert.equal(y.length, n.length);
  assert.ok(siSdr(c, y) > siSdr(c, n) + 8, `oracle ${siSdr(c, y)} vs noisy ${siSdr(c, n)}`);
  const before = readFileSync(out);
  assert.equal(await main(args, { io }), 2);
  assert.deepEqual(readFileSync(out), before);
});

test("npm run dump (tools/dump.ts) mixes clean + noise (+ room) into a .pnf the trainer can read; refuses to overwrite", async () => {
  const { dumpMain } = await import("../tools/dump.js");
  const { main } = await import("../host/cli.js");
  const { SAMPLES } = await import("./util.js");
  const dir = mkdtempSync(join(tmpdir(), "dump-"));
  const out = join(dir, "d.pnf");
  const io = { stdout: { write() {} }, stderr: { write() {} } };
  const args = ["--clean", `${SAMPLES}/speech_clean_freesound_33711.wav`, "--noise", `${SAMPLES}/noise_freesound_573577.wav`,
    "--rir", `${SAMPLES}/rir_sim_rt60_0.79.wav`, "--snr", "0", "-o", out];
  assert.equal(await dumpMain(args, io), 0);
  const f = readPnf(readFileSync(out));
  assert.equal(f.nSeq, 1);
  assert.equal(f.seqLen, Math.floor(readSample("speech_clean_freesound_33711.wav").length / 480));
  let meanGain = 0;
  for (let t = 0; t < f.seqLen; t++) for (let b = 0; b < 34; b++) meanGain += f.records[t * PNF_RECORD + 70 + b];
  meanGain /= f.seqLen * 34;
  assert.ok(meanGain > 0.05 && meanGain < 0.8, `mean oracle gain at 0 dB with a room: ${meanGain}`);
  const before = readFileSync(out);
  assert.equal(await dumpMain(args, io), 2);
  assert.deepEqual(readFileSync(out), before);
  assert.equal(await dumpMain(["--clean", "x.wav", "--noise", "y.wav", "--snr", "abc", "-o", join(dir, "e.pnf")], io), 2);
  // The product CLI no longer carries the training tool, and says where it went.
  let err = "";
  assert.equal(await main(["dump", "--clean", "x.wav"], { io: { stdout: { write() {} }, stderr: { write: (s: string) => (err += s) } } }), 2);
  assert.match(err, /npm run dump --/);
});
