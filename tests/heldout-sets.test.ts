// The held-out sets T and X (bench/heldout-testset.ts, tools/heldout-sets.ts):
// the specification's size and conditions, condition names in file names and
// reports, rows drawn only from the test / xsrc side of a fake extra folder
// (needs the corpus for audio and rooms; skipped without it), and a clear
// error when a folder is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HELDOUT_SETS, clipName, conditionCount, makeHeldoutSet, orderRooms, pickNonstationary, planHeldoutSet,
  readHeldoutSources, setCount, speakerOf, spreadOrder, type HeldoutCondition,
} from "../bench/heldout-testset.js";
import { conditionOf, groupByCondition, type FileResult } from "../bench/report.js";
import { Corpus, DEFAULT_CORPUS_ROOT, splitCorpus, type Entry } from "../lab/dataset/corpus.js";
import { ROOT } from "./util.js";

const haveCorpus = existsSync(join(DEFAULT_CORPUS_ROOT, "MANIFEST.tsv"));
const TOOL = join(ROOT, "dist/tools/heldout-sets.js");

const byName = (set: string) => new Map(HELDOUT_SETS[set].conditions.map((c) => [c.name, c]));

test("set T has at least 300 clips and every condition the issue names; X at least 120 of its own", () => {
  const T = HELDOUT_SETS.T, X = HELDOUT_SETS.X;
  assert.equal(T.side, "test");
  assert.equal(X.side, "xsrc");
  assert.ok(setCount(T) >= 300, `T has ${setCount(T)}`);
  assert.ok(setCount(X) >= 120, `X has ${setCount(X)}`);
  const t = byName("T");
  for (const snr of [-5, 0, 5, 10, 20]) {
    const c = t.get(`dry-snr${snr}`);
    assert.ok(c && c.snrs.length === 1 && c.snrs[0] === snr && !c.room && c.noise === "all", `dry at ${snr} dB`);
    assert.ok(byName("X").get(`dry-snr${snr}`), `X dry at ${snr} dB`);
  }
  for (const snr of [5, 10]) {
    const c = t.get(`reverb-snr${snr}`)!;
    assert.ok(c.room && c.options.reverb === true && c.snrs[0] === snr, `reverberant at ${snr} dB`);
    assert.ok(c.n >= 8, "enough clips to visit every validation room response");
  }
  const babble = t.get("babble-snr5")!;
  assert.ok(babble.noise === "none" && babble.options.babbleProb === 1, "babble only: no noise recording");
  assert.equal(t.get("nonstat-snr5")!.noise, "nonstationary");
  for (const [name, rate] of [["band8k", 8000], ["band16k", 16000]] as const) {
    const c = t.get(name)!;
    assert.deepEqual(c.options.inputBandlimitRates, [rate]);
    assert.equal(c.options.inputBandlimitProb, 1);
    assert.ok(c.snrs.every((s) => s >= 5 && s <= 10));
  }
  assert.deepEqual(t.get("quiet-snr10")!.options.levelDb, [-40, -40]);
  assert.deepEqual(t.get("loud-snr10")!.options.levelDb, [-10, -10]);
  for (const s of [T, X]) {
    assert.equal(new Set(s.conditions.map((c) => c.name)).size, s.conditions.length, "condition names unique");
    for (const c of s.conditions) assert.equal(c.n % c.snrs.length, 0, `${c.name}: whole SNR cycles`);
  }
});

test("file names carry the condition and the SNR; a fraction keeps whole SNR cycles", () => {
  for (const s of Object.values(HELDOUT_SETS)) {
    for (const [ci, c] of s.conditions.entries()) {
      for (let j = 0; j < c.snrs.length; j++) {
        const name = clipName(s.name, ci, j, c);
        assert.equal(conditionOf(name), c.name, name);
        // eval.js reads the first snr<dB> token; reverberant names contain "reverb".
        assert.equal(Number(/snr(-?\d+(?:\.\d+)?)/i.exec(name)![1]), c.snrs[j], name);
        assert.equal(/reverb/i.test(name), c.room, name);
      }
    }
  }
  const band = byName("T").get("band8k") as HeldoutCondition;
  assert.equal(conditionCount(band, 1), band.n);
  assert.equal(conditionCount(band, 0.1), 2);
  assert.equal(conditionCount(band, 0.001), 2, "at least one cycle");
  assert.equal(conditionCount(byName("T").get("dry-snr0")!, 0.1), 3);
});

test("named conditions group apart in file order; plain names group by reverb and SNR as before", () => {
  const row = (file: string, snr: number | null, reverb = false): FileResult => ({ file, system: "ours", snr, reverb, delay: 0, rtf: 0 });
  const rows = [
    row("T-00-000_cond-dry-snr-5_snr-5.wav", -5), row("T-07-000_cond-babble-snr5_snr5.wav", 5),
    row("0:T-05-000_cond-reverb-snr5_snr5.wav", 5, true), row("val_0001_snr5.wav", 5), row("val_0002_snr0_reverb.wav", 0, true),
    row("T-07-001_cond-babble-snr5_snr5.wav", 5),
  ];
  const g = groupByCondition(rows);
  assert.deepEqual([...g.keys()], ["snr 5", "reverb snr 0", "dry-snr-5", "babble-snr5", "reverb-snr5"]);
  assert.equal(g.get("babble-snr5")!.length, 2);
  assert.equal(conditionOf("val_0001_snr5.wav"), null);
  assert.equal(conditionOf("a/secondcond-x.wav"), null, "only a whole token");
});

test("rooms are taken spanning their range; non-stationary noises by level spread", () => {
  assert.deepEqual(spreadOrder(8), [0, 7, 3, 1, 5, 2, 4, 6]);
  for (const n of [1, 2, 3, 5, 13]) assert.deepEqual([...spreadOrder(n)].sort((a, b) => a - b), [...Array(n).keys()]);
  const e = (file: string) => ({ file }) as Entry;
  const rows = [e("a"), e("b"), e("c"), e("d")];
  assert.deepEqual(pickNonstationary(rows, [3, 12, 25, 9]).map((r) => r.file), ["b", "c"]);
  assert.deepEqual(pickNonstationary(rows, [3, 2, 25, 9]).map((r) => r.file), ["c", "d"], "fewer than two pass: the more variable half");
});

/** A fake extra speech folder and noise folder: four speakers and two noises on each side, each its own file. */
function fakeFolders(c: Corpus): { speechDir: string; noiseDir: string; files: Map<string, string>; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), "heldout-"));
  const speechDir = join(base, "x-speech"), noiseDir = join(base, "x-noise");
  const sides = ["train", "val", "test", "xsrc"];
  const sp = splitCorpus(c.entries).train.speech.filter((e) => e.seconds >= 1 && e.seconds <= 6).slice(0, 4 * sides.length);
  const nz = splitCorpus(c.entries).train.noise.filter((e) => e.seconds >= 1 && e.seconds <= 30).slice(0, 2 * sides.length);
  assert.equal(sp.length, 16);
  assert.equal(nz.length, 8);
  const files = new Map<string, string>();
  const head = "kind\tfile\tseconds\tsample_rate\tbandwidth_khz\tlabel\tlicense\tsource\tsplit";
  const write = (dir: string, kind: string, src: Entry[], per: number, sub: string) => {
    mkdirSync(join(dir, sub, "pkg"), { recursive: true });
    const rows = src.map((e, i) => {
      const side = sides[Math.floor(i / per)];
      const f = `${sub}/pkg/${side}-${i}.flac`;
      copyFileSync(join(DEFAULT_CORPUS_ROOT, e.file), join(dir, f));
      files.set(f, side);
      const label = kind === "speech" ? `spk-${side}-${i % per}` : `${side} noise`;
      return [kind, f, e.seconds, e.sampleRate, e.bandwidthKhz, label, "CC0", "test", side].join("\t");
    });
    writeFileSync(join(dir, "MANIFEST.tsv"), `${head}\n${rows.join("\n")}\n`);
  };
  write(speechDir, "speech", sp, 4, "speech16");
  write(noiseDir, "noise", nz, 2, "noise");
  return { speechDir, noiseDir, files, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

test("T draws only test rows and X only xsrc rows: speakers, babble talkers, noises", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { speechDir, noiseDir, files, cleanup } = fakeFolders(c);
  try {
    const rooms = await orderRooms(c, splitCorpus(c.entries).val.rir);
    for (const s of ["T", "X"]) {
      const set = HELDOUT_SETS[s];
      const src = readHeldoutSources([speechDir], [noiseDir], set.side);
      assert.equal(src.speech.length, 4);
      assert.equal(src.noise.length, 2);
      assert.ok([...src.speech, ...src.noise].every((e) => e.split === set.side && files.get(e.file) === set.side));
      const plan = await planHeldoutSet(set, src, rooms, c, 0.001, 1.5);
      const out = mkdtempSync(join(tmpdir(), `heldout-${s}-`));
      try {
        const { clips } = await makeHeldoutSet(plan, c, out);
        assert.equal(clips.length, setCount(set, 0.001));
        assert.deepEqual([...new Set(clips.map((k) => k.condition))], set.conditions.map((k) => k.name));
        for (const k of clips) {
          assert.match(k.speaker, new RegExp(`^spk-${set.side}-`), `${k.name}: speaker ${k.speaker}`);
          for (const f of [...k.speechFiles, ...k.noiseFiles]) assert.equal(files.get(f), set.side, `${k.name}: ${f}`);
          for (const l of k.babbleLabels) assert.match(l, new RegExp(`^spk-${set.side}-`), `${k.name}: talker ${l}`);
          assert.ok(existsSync(join(out, "clean", k.name)) && existsSync(join(out, "noisy", k.name)));
        }
        const babble = clips.find((k) => k.condition === "babble-snr5")!;
        assert.ok(babble.babbleLabels.length >= 3 && babble.noiseFiles.length === 0, "babble: other test speakers, no noise");
        const rev = clips.filter((k) => k.room !== null);
        assert.ok(rev.length > 0 && rev.every((k) => k.room!.kind === "measured" && k.rt60 !== null));
        // Speakers take turns (babble aside).
        const ci = set.conditions.findIndex((k) => k.name === "dry-snr0");
        assert.equal(new Set([0, 1, 2, 3].map((j) => speakerOf(plan, ci, j))).size, 4);
        // Made again from the same plan: reused, same clips.
        const again = await makeHeldoutSet(plan, c, out);
        assert.ok(again.reused);
        assert.deepEqual(again.clips.map((k) => k.name), clips.map((k) => k.name));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  } finally {
    c.close();
    cleanup();
  }
});

test("V draws only validation rows; S puts test speakers in one generated steady noise per condition, no recording", { skip: !haveCorpus }, async () => {
  const c = Corpus.open();
  const { speechDir, noiseDir, files, cleanup } = fakeFolders(c);
  try {
    const rooms = await orderRooms(c, splitCorpus(c.entries).val.rir);
    assert.equal(HELDOUT_SETS.V.side, "val");
    assert.equal(HELDOUT_SETS.S.side, "test");
    for (const s of ["V", "S"]) {
      const set = HELDOUT_SETS[s];
      const src = readHeldoutSources([speechDir], [noiseDir], set.side);
      const plan = await planHeldoutSet(set, src, rooms, c, 0.001, 1.5);
      const out = mkdtempSync(join(tmpdir(), `heldout-${s}-`));
      try {
        const { clips } = await makeHeldoutSet(plan, c, out);
        assert.deepEqual([...new Set(clips.map((k) => k.condition))], set.conditions.map((k) => k.name));
        for (const k of clips) {
          assert.match(k.speaker, new RegExp(`^spk-${set.side}-`), `${k.name}: speaker ${k.speaker}`);
          for (const f of [...k.speechFiles, ...k.noiseFiles]) assert.equal(files.get(f), set.side, `${k.name}: ${f}`);
          if (s === "S") {
            const kind = k.condition.replace(/-snr.*/, "");
            assert.equal(k.synthNoise?.info.kind, kind, `${k.name}: ${JSON.stringify(k.synthNoise)}`);
            assert.equal(k.noiseFiles.length, 0, `${k.name}: no recording`);
          } else {
            assert.equal(k.synthNoise, null, `${k.name}: nothing generated in V`);
          }
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  } finally {
    c.close();
    cleanup();
  }
});

test("a missing folder, or one without rows of the side, is a clear error and the tool writes nothing", { skip: !haveCorpus }, () => {
  const c = Corpus.open();
  const { speechDir, noiseDir, cleanup } = fakeFolders(c);
  c.close();
  try {
    assert.throws(() => readHeldoutSources([], [noiseDir], "test"), /give --extra-speech DIR.*training\.fetch_extra/);
    assert.throws(() => readHeldoutSources([speechDir], [], "xsrc"), /give --extra-noise DIR/);
    assert.throws(() => readHeldoutSources(["/nonexistent/x-speech"], [noiseDir], "test"), /--extra-speech \/nonexistent\/x-speech: no MANIFEST\.tsv/);
    writeFileSync(join(speechDir, "MANIFEST.tsv"), "kind\tfile\tseconds\tsample_rate\tbandwidth_khz\tlabel\tsplit\nspeech\ta.flac\t1\t48000\t8\tspk\ttrain\n");
    assert.throws(() => readHeldoutSources([speechDir], [noiseDir], "test"), /no speech rows with split test/);
    const out = join(tmpdir(), `heldout-none-${process.pid}`);
    for (const extra of [[], ["--extra-speech", "/nonexistent", "--extra-noise", noiseDir], ["--extra-speech", speechDir, "--extra-noise", noiseDir]]) {
      const r = spawnSync(process.execPath, [TOOL, "--out", out, "--sets", "T", ...extra], { encoding: "utf8" });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /fetch_extra/);
      assert.ok(!existsSync(out));
    }
  } finally {
    cleanup();
  }
});
