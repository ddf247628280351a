// Tests of the training-mixture synthesiser (host/dataset). The corpus-backed
// tests read /work/shared/data/train (or PERCEPNET_TRAIN_DATA) and are
// skipped when it is absent.
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../lab/dataset/rng.js";
import { resample, resampleRational, FAST_QUALITY } from "../lab/dataset/resample.js";
import { convolve2 } from "../lab/fft.js";
import { applyCascade, butterworth, cascadeResponseDb } from "../lab/dataset/filters.js";
import {
  imageMethodRir,
  randomRoom,
  estimateRt60,
  earlyPart,
  normaliseMeasuredRir,
  SOUND_SPEED,
} from "../lab/dataset/room.js";
import { Corpus, DEFAULT_CORPUS_ROOT, readExtra, splitCorpus } from "../lab/dataset/corpus.js";
import { activePower, meanPower, powerDb, peakAbs, fitLength } from "../lab/dataset/augment.js";
import { makeMixture, mixtureAt, validBandsFor, REVERB_ONLY, DEFAULT_MIXTURE_OPTIONS } from "../lab/dataset/mixture.js";
import { DEFAULT_SYNTH_NOISE_OPTIONS, SYNTH_NOISE_KINDS } from "../lab/dataset/synth-noise.js";

const haveCorpus = existsSync(join(DEFAULT_CORPUS_ROOT, "MANIFEST.tsv"));

/** Level (dB) of a sinusoidal component at f, Hann-windowed, relative to a unit-amplitude sine. */
function toneDb(x: Float32Array, f: number, fs: number, from = 0, len = x.length - from): number {
  let re = 0, im = 0, wsum = 0;
  for (let i = 0; i < len; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / len);
    const ph = (2 * Math.PI * f * i) / fs;
    re += w * x[from + i] * Math.cos(ph);
    im -= w * x[from + i] * Math.sin(ph);
    wsum += w;
  }
  return 20 * Math.log10((2 * Math.hypot(re, im)) / wsum + 1e-30);
}

function sine(f: number, fs: number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * f * i) / fs);
  return x;
}

test("rng: same seed, same stream; sane moments", () => {
  const a = new Rng(42, 7), b = new Rng(42, 7), c = new Rng(42, 8);
  const sa = Array.from({ length: 100 }, () => a.nextU32());
  assert.deepEqual(sa, Array.from({ length: 100 }, () => b.nextU32()));
  assert.notDeepEqual(sa, Array.from({ length: 100 }, () => c.nextU32()));
  const r = new Rng(1);
  let s = 0, s2 = 0, u = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    s += v;
    s2 += v * v;
    u += r.next();
  }
  assert.ok(Math.abs(s / n) < 0.03 && Math.abs(s2 / n - 1) < 0.05, "normal moments");
  assert.ok(Math.abs(u / n - 0.5) < 0.01, "uniform mean");
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[r.int(0, 2)]++;
  assert.ok(counts.every((k) => k > 900), `int spread ${counts}`);
});

test("resampler: flat pass band, >= 70 dB stop band (down and up)", () => {
  const n = 48000;
  // 48 -> 16 kHz: in-band tone kept, tones above 8 kHz must not alias in.
  assert.ok(Math.abs(toneDb(resample(sine(5000, 48000, n), 48000, 16000), 5000, 16000, 1000, 14000)) < 0.1);
  // 8.4 kHz is only 5 % past the new Nyquist: the transition band must end before it.
  for (const f of [8400, 9000, 12000, 20000]) {
    const y = resample(sine(f, 48000, n), 48000, 16000);
    const alias = 16000 - f > 0 ? 16000 - f : f - 16000;
    const lvl = toneDb(y, Math.abs(alias) % 16000, 16000, 1000, 14000);
    assert.ok(lvl < -70, `alias of ${f} Hz at ${lvl.toFixed(1)} dB`);
  }
  // 16 -> 48 kHz: images of a 3 kHz tone at 13 and 19 kHz must be gone.
  const up = resample(sine(3000, 16000, 16000), 16000, 48000);
  assert.equal(up.length, 48000);
  assert.ok(Math.abs(toneDb(up, 3000, 48000, 3000, 42000)) < 0.1);
  for (const f of [13000, 19000]) assert.ok(toneDb(up, f, 48000, 3000, 42000) < -70, `image at ${f}`);
  // Near the top of the pass band: 6.8 kHz kept flat, its image at 9.2 kHz removed.
  const upHi = resample(sine(6800, 16000, 16000), 16000, 48000);
  assert.ok(Math.abs(toneDb(upHi, 6800, 48000, 3000, 42000)) < 0.2);
  assert.ok(toneDb(upHi, 9200, 48000, 3000, 42000) < -70);
  // The fast kernel still rejects well past the transition.
  const fast = resampleRational(sine(3000, 16000, 16000), 3, 1, FAST_QUALITY);
  assert.ok(toneDb(fast, 13000, 48000, 3000, 42000) < -60);
  // Speed change: a 1 kHz tone played 10 % faster is at 1.1 kHz.
  const sp = resampleRational(sine(1000, 48000, 48000), 100, 110);
  assert.ok(Math.abs(toneDb(sp, 1100, 48000, 2000, 40000)) < 0.2);
});

test("partitioned FFT convolution matches direct convolution", () => {
  const r = new Rng(3);
  const x = Float32Array.from({ length: 3000 }, () => r.normal());
  for (const hl of [5, 1500, 5000]) {
    const h1 = Float32Array.from({ length: hl }, () => r.normal());
    const h2 = Float32Array.from({ length: Math.min(hl, 300) }, () => r.normal());
    const off = Math.min(3, hl - 1);
    const [y1, y2] = convolve2(x, h1, h2, off);
    for (let nn = 0; nn < x.length; nn += 37) {
      let a = 0, b = 0;
      for (let k = 0; k < hl; k++) {
        const j = nn + off - k;
        if (j < 0 || j >= x.length) continue;
        a += x[j] * h1[k];
        if (k < h2.length) b += x[j] * h2[k];
      }
      assert.ok(Math.abs(a - y1[nn]) < 1e-3 && Math.abs(b - y2[nn]) < 1e-3, `hl=${hl} n=${nn}`);
    }
  }
});

test("Butterworth low-pass: -3 dB at cutoff, 8th order rolls off 48 dB/octave", () => {
  const lp = butterworth("lowpass", 8, 6000, 48000);
  assert.ok(Math.abs(cascadeResponseDb(lp, 6000, 48000) + 3.01) < 0.1);
  assert.ok(Math.abs(cascadeResponseDb(lp, 1000, 48000)) < 0.01);
  assert.ok(cascadeResponseDb(lp, 12000, 48000) < -45);
  const y = applyCascade(sine(12000, 48000, 9600), lp);
  assert.ok(toneDb(y, 12000, 48000, 4800, 4800) < -45);
});

test("image-method RIR: direct path at distance/c, unit peak, T20 near the target RT60", () => {
  const rng = new Rng(11);
  for (let k = 0; k < 5; k++) {
    const p = randomRoom(rng);
    const d = Math.hypot(p.src[0] - p.mic[0], p.src[1] - p.mic[1], p.src[2] - p.mic[2]);
    const abs = imageMethodRir(p, { absoluteTime: true, tailSeed: k });
    assert.ok(Math.abs(abs.directIndex - (d / SOUND_SPEED) * p.fs) <= 1, `direct at ${abs.directIndex}, expected ${((d / SOUND_SPEED) * p.fs).toFixed(1)}`);
    const r = imageMethodRir(p, { tailSeed: k });
    assert.equal(r.rir[r.directIndex], 1);
    assert.equal(peakAbs(r.rir), 1);
    // Nothing of substance before the direct sound.
    let pre = 0;
    for (let i = 0; i < r.directIndex - 20; i++) pre += r.rir[i] * r.rir[i];
    assert.ok(pre < 1e-6);
    const rt = estimateRt60(r);
    assert.ok(Math.abs(rt / p.rt60 - 1) < 0.2, `room ${k}: T20 ${rt.toFixed(3)} vs target ${p.rt60.toFixed(3)}`);
    // Early part: identical up to the early time, zero after the fade.
    const e = earlyPart(r, 15, 5);
    const cut = r.directIndex + 720;
    for (let i = 0; i < cut; i++) assert.equal(e[i], r.rir[i]);
    assert.equal(e.length, cut + 240);
  }
  // Longer RT60 -> longer measured decay (the generator responds to its target).
  const q = randomRoom(new Rng(2));
  const short = estimateRt60(imageMethodRir({ ...q, rt60: 0.25 }));
  const long = estimateRt60(imageMethodRir({ ...q, rt60: 0.9 }));
  assert.ok(long > 2.5 * short);
});

test("measured RIR normalisation: peak +1, 2 ms pre-roll, tail trimmed", () => {
  const fs = 48000;
  const x = new Float32Array(fs);
  const r = new Rng(5);
  for (let i = 3000; i < x.length; i++) x[i] = -0.3 * Math.exp(-(i - 3000) / 2000) * r.normal();
  x[3000] = -0.5;
  const n = normaliseMeasuredRir(x, fs);
  assert.equal(n.directIndex, 96);
  assert.ok(Math.abs(n.rir[96] - 1) < 1e-6);
  assert.ok(n.rir.length < x.length - 3000);
});

test("validBands from bandwidth", () => {
  assert.equal(validBandsFor(Infinity), 34);
  assert.equal(validBandsFor(20000), 34);
  assert.equal(validBandsFor(19999), 32);
  assert.equal(validBandsFor(8000), 25);
  assert.equal(validBandsFor(4000), 19);
  assert.equal(validBandsFor(50), 0);
});

test("fitLength loops short noise without gaps and crops long noise", () => {
  const r = new Rng(9);
  const x = Float32Array.from({ length: 3 * 48000 }, () => 1);
  const y = fitLength(r, x, 10 * 48000);
  let min = Infinity, max = -Infinity;
  for (const v of y) (min = Math.min(min, v)), (max = Math.max(max, v));
  assert.ok(min > 0.99 && max < 1.01, `loop seams ${min}..${max}`);
  assert.equal(fitLength(r, y, 1000).length, 1000);
});

test("corpus split keeps speakers, noise files and rooms on one side", { skip: !haveCorpus }, () => {
  const c = Corpus.open();
  const a = splitCorpus(c.entries), b = splitCorpus(c.entries);
  assert.deepEqual(a.val.speech.map((e) => e.file), b.val.speech.map((e) => e.file));
  for (const kind of ["speech", "noise", "rir"] as const) {
    const tr = new Set(a.train[kind].map((e) => e.group));
    const va = new Set(a.val[kind].map((e) => e.group));
    assert.ok(va.size > 0);
    for (const g of va) assert.ok(!tr.has(g), `${kind} group ${g} on both sides`);
    const frac = va.size / (va.size + tr.size);
    assert.ok(frac > 0.05 && frac < 0.2, `${kind} val fraction ${frac}`);
  }
  const trLabels = new Set(a.train.speech.map((e) => e.label));
  for (const e of a.val.speech) assert.ok(!trLabels.has(e.label));
  const trNoise = new Set(a.train.noise.map((e) => e.file));
  for (const e of a.val.noise) assert.ok(!trNoise.has(e.file));
  c.close();
});

test("extra noise and speech: rows of another folder's manifest, decoded from that folder, training side only", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const tr = splitCorpus(c.entries).train;
  const src = tr.noise[0], sp = tr.speech.find((e) => e.folder === "speech48")!;
  const dir = mkdtempSync(join(tmpdir(), "extra-noise-"));
  try {
    mkdirSync(join(dir, "noise", "pkg"), { recursive: true });
    mkdirSync(join(dir, "speech48", "pkg"), { recursive: true });
    copyFileSync(join(DEFAULT_CORPUS_ROOT, src.file), join(dir, "noise", "pkg", "a.flac"));
    copyFileSync(join(DEFAULT_CORPUS_ROOT, sp.file), join(dir, "speech48", "pkg", "s.flac"));
    const head = "kind\tfile\tseconds\tsample_rate\tbandwidth_khz\tlabel\tlicense\tsource";
    const row = ["noise", "noise/pkg/a.flac", src.seconds, src.sampleRate, src.bandwidthKhz, "test", "CC0", "test"].join("\t");
    const srow = ["speech", "speech48/pkg/s.flac", sp.seconds, sp.sampleRate, sp.bandwidthKhz, "pkg speaker", "CC0", "test"].join("\t");
    writeFileSync(join(dir, "MANIFEST.tsv"), `${head}\n${row}\n${srow}\nrir\trir/x.flac\t1\t48000\t20\troom\tCC0\ttest\n`);
    const extra = readExtra(dir, "noise");
    assert.equal(extra.length, 1, "only noise rows");
    assert.equal(extra[0].root, dir);
    // Same bytes from another folder: the same samples, cached under its own key.
    const a = await c.audio(src), b = await c.audio(extra[0]);
    assert.deepEqual(b, a);
    assert.notEqual(b, a, "a separate cache entry, not the corpus file's");
    const speech = readExtra(dir, "speech");
    assert.equal(speech.length, 1, "only speech rows");
    assert.equal(speech[0].label, "pkg speaker");
    assert.equal(speech[0].folder, "speech48", "full band like the corpus's speech48");
    // A mixture drawn from the extra speaker alone uses its recording.
    const m = await makeMixture(new Rng(3), c, { speech, noise: extra, rir: [] }, { seconds: 2, reverb: false });
    assert.equal(m.meta.speaker, "pkg speaker");
    assert.ok(m.clean.some((v) => v !== 0));
    // A split column (lists made from candidates): each side reads its own rows only.
    const split = (side: string) => `${head}\tsplit\n${row}\ttrain\n${srow}\t${side}\n`;
    writeFileSync(join(dir, "MANIFEST.tsv"), split("test"));
    assert.equal(readExtra(dir, "speech").length, 0, "a test speaker never trains");
    assert.equal(readExtra(dir, "speech", "test")[0].label, "pkg speaker");
    assert.equal(readExtra(dir, "noise").length, 1);
    writeFileSync(join(dir, "MANIFEST.tsv"), split("holdout"));
    assert.throws(() => readExtra(dir, "speech"), /split "holdout" of speech48\/pkg\/s.flac is not train, val, test or xsrc/);
    writeFileSync(join(dir, "MANIFEST.tsv"), `${head}\n${row}\n`);
    assert.throws(() => readExtra(dir, "speech"), /no speech rows/);
    writeFileSync(join(dir, "MANIFEST.tsv"), `${head}\n`);
    assert.throws(() => readExtra(dir, "noise"), /no noise rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    c.close();
  }
});

test("mixtures: reproducible, SNR and level as drawn, peak limited, bands", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train, val } = splitCorpus(c.entries);
  const opts = { seconds: 4 };
  const m1 = await mixtureAt(c, train, 99, 3, opts);
  const m2 = await mixtureAt(c, train, 99, 3, opts);
  assert.deepEqual(m1.noisy, m2.noisy);
  assert.deepEqual(m1.clean, m2.clean);
  assert.deepEqual(m1.meta, m2.meta);
  const m3 = await mixtureAt(c, train, 99, 4, opts);
  assert.notDeepEqual(m1.noisy, m3.noisy);
  assert.equal(m1.clean.length, 4 * 48000);

  // Fixed SNR without a room: noisy - clean is exactly the scaled noise.
  for (const [i, snr] of [0, 5, 10, 20].entries()) {
    const m = await mixtureAt(c, val, 5, i, { seconds: 4, fixedSnrDb: snr, reverb: false, clipProb: 0 });
    const noise = m.noisy.map((v, k) => v - m.clean[k]);
    const got = powerDb(activePower(m.clean)) - powerDb(meanPower(noise));
    assert.ok(Math.abs(got - snr) < 0.5, `SNR ${snr}: measured ${got.toFixed(2)}`);
    assert.equal(m.meta.snrDb, snr);
    assert.equal(m.meta.room, null);
  }

  // Random draws: levels in range, limiter respected, bands consistent.
  let limited = 0;
  for (let i = 0; i < 6; i++) {
    const m = await mixtureAt(c, train, 1234, i, { seconds: 3, clipProb: 0, reverb: false });
    const lvl = powerDb(activePower(m.clean));
    assert.ok(Math.abs(lvl - m.meta.levelDb) < 0.01);
    assert.ok(lvl <= 10 + 1e-6 && lvl >= -45 - 1e-6, `level ${lvl}`);
    assert.ok(Math.abs(lvl - (m.meta.levelDbRequested + m.meta.limiterDb)) < 0.05);
    assert.ok(peakAbs(m.noisy) <= 0.99 + 1e-6 && peakAbs(m.clean) <= 0.99 + 1e-6);
    if (m.meta.limiterDb < 0) limited++;
    if (m.meta.snrDb !== null) {
      const noise = m.noisy.map((v, k) => v - m.clean[k]);
      const got = powerDb(activePower(m.clean)) - powerDb(meanPower(noise));
      assert.ok(Math.abs(got - m.meta.snrDb) < 0.5);
    }
    assert.equal(m.validBands, validBandsFor(m.meta.bandwidthHz ?? Infinity));
    assert.ok(m.meta.speechFiles.every((f) => val.speech.every((e) => e.file !== f)));
  }
  assert.ok(limited < 6);
  c.close();
});

test("extra speech probability: extra speakers drawn by duration when asked, nothing drawn by default", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const sp = train.speech.find((e) => e.folder === "speech48")!;
  const dir = mkdtempSync(join(tmpdir(), "extra-speech-"));
  try {
    mkdirSync(join(dir, "speech16", "pkg"), { recursive: true });
    const head = "kind\tfile\tseconds\tsample_rate\tbandwidth_khz\tlabel\tlicense\tsource";
    const rows: string[] = [];
    // "long" has nine recordings, "short" one: by duration, long is drawn ~90 % of the time.
    for (let k = 0; k < 10; k++) {
      const f = `speech16/pkg/s${k}.flac`;
      copyFileSync(join(DEFAULT_CORPUS_ROOT, sp.file), join(dir, f));
      rows.push(["speech", f, sp.seconds, sp.sampleRate, 7, k < 9 ? "pkg long" : "pkg short", "CC0", "test"].join("\t"));
    }
    writeFileSync(join(dir, "MANIFEST.tsv"), `${head}\n${rows.join("\n")}\n`);
    const lists = { ...train, speech: [...train.speech, ...readExtra(dir, "speech")] };
    const base = { seconds: 1, reverb: false, clipProb: 0, babbleProb: 0, maxNoises: 1 };
    const count = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const off = await mixtureAt(c, lists, 7, i, base);
      // An explicit 0 must not consume random numbers: the default mixture.
      const zero = await mixtureAt(c, lists, 7, i, { ...base, extraSpeechProb: 0 });
      assert.deepEqual(zero.noisy, off.noisy);
      const on = await mixtureAt(c, lists, 7, i, { ...base, extraSpeechProb: 1 });
      count.set(on.meta.speaker, (count.get(on.meta.speaker) ?? 0) + 1);
    }
    assert.deepEqual([...count.keys()].filter((k) => !k.startsWith("pkg ")), [], "only extra speakers at probability 1");
    const long = count.get("pkg long") ?? 0;
    assert.ok(long >= 30 && long < 40, `long drawn ${long}/40 (expected ~36)`);
    // By the square root of duration: long is 3/(3+1) = 75 % of the draws.
    let longSqrt = 0;
    for (let i = 0; i < 80; i++) {
      const on = await mixtureAt(c, lists, 7, i, { ...base, extraSpeechProb: 1, extraSpeechWeight: "sqrt" });
      if (on.meta.speaker === "pkg long") longSqrt++;
    }
    assert.ok(longSqrt >= 50 && longSqrt <= 70, `long drawn ${longSqrt}/80 by sqrt (expected ~60)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    c.close();
  }
});

test("build-dataset refuses absurd augmentation options with a message, before reading any audio", () => {
  const tool = fileURLToPath(new URL("../tools/build-dataset.js", import.meta.url));
  const out = join(tmpdir(), "never-written.pnf");
  const run = (...args: string[]) => spawnSync(process.execPath, [tool, "--out", out, ...args], { encoding: "utf8" });
  for (const [args, msg] of [
    [["--extra-speech-prob", "2"], /--extra-speech-prob must be a probability from 0 to 1, got 2/],
    [["--extra-speech-prob", "nan"], /--extra-speech-prob must be a probability/],
    [["--extra-speech-prob", "0.2"], /--extra-speech-prob needs at least one --extra-speech folder/],
    [["--extra-speech-weight", "speakers"], /--extra-speech-weight must be duration or sqrt, got speakers/],
    [["--noise-speed", "80"], /--noise-speed must be an integer percentage from 0 to 50, got 80/],
    [["--pitch-prob", "1.5"], /--pitch-prob must be a probability from 0 to 1, got 1.5/],
    [["--pitch-pct", "7.5"], /--pitch-pct must be an integer percentage from 0 to 50, got 7.5/],
    [["--formant-pct", "60"], /--formant-pct must be a percentage from 0 to 50, got 60/],
    [["--eq-db=-3"], /--eq-db must be a number from 0 to 24, got -3/],
    [["--level-min", "5", "--level-max", "0"], /--level-min 5 is above --level-max 0/],
    [["--input-bandlimit-rates", "8000,foo"], /--input-bandlimit-rates must be a comma list of integer sample rates/],
    [["--synth-noise-kinds", "hum,pink"], /--synth-noise-kinds: unknown noise kind pink/],
    [["--synth-noise-prob=-0.1"], /--synth-noise-prob must be a probability/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.ok(!existsSync(out), "nothing written");
  }
});

test("build-dataset --show-options: the defaults are the builder's, each augmentation flag reaches the options", () => {
  const tool = fileURLToPath(new URL("../tools/build-dataset.js", import.meta.url));
  const show = (...args: string[]) => {
    const r = spawnSync(process.execPath, [tool, "--show-options", ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  // Without flags the shipped pipeline's mixtures: every option as in DEFAULT_MIXTURE_OPTIONS.
  const d = show();
  for (const [k, v] of Object.entries(d)) {
    if (k === "synthNoise") assert.deepEqual(v, { whineDriftHzPerS: DEFAULT_SYNTH_NOISE_OPTIONS.whineDriftHzPerS });
    else assert.deepEqual(v, DEFAULT_MIXTURE_OPTIONS[k as keyof typeof DEFAULT_MIXTURE_OPTIONS], k);
  }
  assert.ok(["pitchProb", "formantProb", "inputBandlimitProb", "synthNoiseProb", "speedProb", "eqDb", "levelDb"].every((k) => k in d));
  const o = show("--speed-prob", "0.2", "--speed-pct", "5", "--pitch-prob", "0.3", "--pitch-pct", "12", "--formant-prob", "0.4",
    "--formant-pct", "8.5", "--eq-prob", "0.1", "--eq-db", "9", "--level-min=-30", "--level-max=-10", "--lowpass-prob", "0",
    "--input-bandlimit-prob", "0.25", "--input-bandlimit-rates", "8000, 16000", "--synth-noise-prob", "0.15",
    "--synth-noise-kinds", "hum,whine", "--synth-noise-replace-prob", "0.7", "--whine-drift", "5");
  assert.deepEqual(o, {
    ...o,
    speedProb: 0.2, speedPct: 5, pitchProb: 0.3, pitchPct: 12, formantProb: 0.4, formantPct: 8.5, eqProb: 0.1, eqDb: 9,
    levelDb: [-30, -10], lowpassProb: 0, inputBandlimitProb: 0.25, inputBandlimitRates: [8000, 16000], synthNoiseProb: 0.15,
    synthNoiseKinds: ["hum", "whine"], synthNoiseReplaceProb: 0.7, synthNoise: { whineDriftHzPerS: 5 },
  });
  assert.deepEqual(show("--synth-noise-kinds", "all").synthNoiseKinds, [...SYNTH_NOISE_KINDS]);
});

test("build-dataset refuses an --out of the wrong kind (folder without --loop, file with it) before any work", () => {
  const tool = fileURLToPath(new URL("../tools/build-dataset.js", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "bd-out-"));
  try {
    const file = join(dir, "x.pnf");
    writeFileSync(file, "keep me");
    let r = spawnSync(process.execPath, [tool, "--out", dir, "--n", "1"], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a folder; without --loop, --out names the \.pnf file to write/);
    r = spawnSync(process.execPath, [tool, "--out", file, "--n", "1", "--loop"], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a file; with --loop, --out names the folder/);
    assert.equal(readFileSync(file, "utf8"), "keep me");
    assert.deepEqual(readdirSync(dir), ["x.pnf"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("noise speed perturbation: drawn per noise recording, leaves the target alone, off by default", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const base = { seconds: 3, fixedSnrDb: 5, reverb: false, clipProb: 0, babbleProb: 0, maxNoises: 3 };
  const speeds: number[] = [];
  let changed = 0;
  for (let i = 0; i < 6; i++) {
    const off = await mixtureAt(c, train, 42, i, base);
    // An explicit 0 probability must not consume random numbers: same mixture as the default.
    const zero = await mixtureAt(c, train, 42, i, { ...base, noiseSpeedProb: 0, noiseSpeedPct: 30 });
    assert.deepEqual(zero.noisy, off.noisy);
    assert.ok(off.meta.noiseSpeedPct.every((v) => v === 0));
    assert.equal(off.meta.noiseSpeedPct.length, off.meta.noiseFiles.length);
    const on = await mixtureAt(c, train, 42, i, { ...base, noiseSpeedProb: 1, noiseSpeedPct: 30 });
    assert.equal(on.meta.noiseSpeedPct.length, on.meta.noiseFiles.length);
    speeds.push(...on.meta.noiseSpeedPct);
    // Speech is drawn before the noise: same target, up to the common peak limit.
    const k = peakAbs(on.clean) / peakAbs(off.clean);
    assert.ok(on.clean.every((v, j) => Math.abs(v - k * off.clean[j]) <= 1e-5 + 1e-4 * Math.abs(v)));
    if (on.meta.noiseSpeedPct.some((v) => v !== 0)) {
      changed++;
      const d = on.noisy.map((v, j) => v - off.noisy[j] * k);
      assert.ok(powerDb(meanPower(d)) - powerDb(meanPower(on.noisy)) > -20, "a sped-up noise differs from the original");
    }
  }
  assert.ok(speeds.every((v) => Number.isInteger(v) && v >= -30 && v <= 30));
  assert.ok(changed >= 4 && new Set(speeds).size >= 4, `speeds ${speeds}`);
  // The same random draws with a +-0 % range (it still draws): a recording whose
  // drawn speed is 0 gives the same samples, any other speed different ones.
  let same = 0, differ = 0;
  for (let i = 0; i < 8; i++) {
    const ref = await mixtureAt(c, train, 43, i, { ...base, noiseSpeedProb: 1, noiseSpeedPct: 0 });
    const on = await mixtureAt(c, train, 43, i, { ...base, noiseSpeedProb: 1, noiseSpeedPct: 30 });
    assert.deepEqual(on.meta.noiseFiles, ref.meta.noiseFiles);
    if (on.meta.noiseSpeedPct.every((v) => v === 0)) { assert.deepEqual(on.noisy, ref.noisy); same++; continue; }
    const d = on.noisy.map((v, j) => v - ref.noisy[j]);
    assert.ok(powerDb(meanPower(d)) - powerDb(meanPower(on.noisy)) > -20, `mixture ${i}: speeds ${on.meta.noiseSpeedPct}`);
    differ++;
  }
  assert.ok(differ >= 4, `${differ} of 8 mixtures with a sped-up noise (${same} drew 0 % only)`);
  c.close();
});

test("band-limited speech: validBands < 34 and no target energy above the bandwidth", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { train } = splitCorpus(c.entries);
  const m = await mixtureAt(c, train, 8, 0, { seconds: 3, fullbandSpeechProb: 0, reverb: false, speedProb: 0, lowpassProb: 0 });
  assert.ok(m.meta.bandwidthHz !== null && m.meta.bandwidthHz <= 8000);
  assert.ok(m.validBands < 30 && m.validBands > 15, `validBands ${m.validBands}`);
  // Up-sampling images of the 0-8 kHz content would land in 8-16 kHz; above 12 kHz
  // (clear of the measuring filter's own skirt) there must be essentially nothing.
  const hp = applyCascade(m.clean.slice(), butterworth("highpass", 8, 12000, 48000));
  assert.ok(powerDb(meanPower(hp)) - powerDb(meanPower(m.clean)) < -60);
  const full = await mixtureAt(c, train, 8, 1, { seconds: 3, fullbandSpeechProb: 1, lowpassProb: 0 });
  assert.equal(full.validBands, 34);
  c.close();
});

test("reverberant-only evaluation clips: noise-free, target is the early part", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { val } = splitCorpus(c.entries);
  const m = await mixtureAt(c, val, 77, 0, { seconds: 3, ...REVERB_ONLY, measuredRirProb: 0 });
  assert.ok(m.meta.room !== null && m.meta.snrDb === null && m.meta.noiseFiles.length === 0);
  // The reverberant input has more energy than the early-only target and differs from it.
  assert.ok(meanPower(m.noisy) > meanPower(m.clean));
  const diff = m.noisy.map((v, k) => v - m.clean[k]);
  assert.ok(powerDb(meanPower(diff)) - powerDb(meanPower(m.clean)) > -30);
  c.close();
});
