// tools/eval-sets: the published test sets are made as docs/RESULTS.md (sets A
// and B) and training/HISTORY.md (set C, made for stage G1's ship rule) say, a
// fraction keeps whole SNR groups, and a tiny end-to-end run writes every
// set's report and the pooled comparison.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_SETS, scaledCount } from "../tools/eval-sets.js";
import { makeMixturesArgs } from "../bench/default-testset.js";
import { ROOT } from "./util.js";

const TOOL = join(ROOT, "dist/tools/eval-sets.js");

test("every set part is the make-mixtures command the docs give", () => {
  const readme = ["docs/RESULTS.md", "training/HISTORY.md"]
    .map((f) => readFileSync(join(ROOT, f), "utf8")).join(" ").replace(/\s+/g, " ");
  for (const [name, parts] of Object.entries(TEST_SETS)) {
    for (const p of parts) {
      const args = makeMixturesArgs(p, "DIR");
      const tail = args.slice(args.indexOf("--snrs")).join(" ");
      // The docs write "--snrs 0,5,10,20 --no-reverb --n 40 --seed 4242" and "--reverb-only --snrs 5,10,20 --n 12 --seed 4343".
      const ok = readme.includes(tail) ||
        readme.includes(`${p.reverb === "only" ? "--reverb-only" : "--no-reverb"} --snrs ${p.snrs.join(",")} --n ${p.n} --seed ${p.seed}`) ||
        readme.includes(`--snrs ${p.snrs.join(",")} ${p.reverb === "only" ? "--reverb-only" : "--no-reverb"} --n ${p.n} --seed ${p.seed}`);
      assert.ok(ok, `set ${name}: docs/RESULTS.md and training/HISTORY.md lack ${tail}`);
    }
  }
});

test("a fraction keeps whole SNR groups, at least one", () => {
  const [dry, rev] = TEST_SETS.A;
  assert.equal(scaledCount(dry, 1), 40);
  assert.equal(scaledCount(rev, 1), 12);
  assert.equal(scaledCount(dry, 0.1), 4);
  assert.equal(scaledCount(rev, 0.1), 3);
  assert.equal(scaledCount(dry, 0.001), 4);
  assert.equal(scaledCount(TEST_SETS.B[0], 0.5), 40);
});

test("bad options exit 2 and write nothing", () => {
  const out = join(mkdtempSync(join(tmpdir(), "evalsets-")), "o");
  for (const extra of [["--fraction", "2"], ["--sets", "Z"], ["--model", "/nonexistent.pnm"]]) {
    const r = spawnSync(process.execPath, [TOOL, "--out", out, ...extra], { encoding: "utf8" });
    assert.equal(r.status, 2, `${extra.join(" ")}: ${r.stderr}`);
    assert.ok(!existsSync(out));
  }
});

test("a tiny run of set A writes its pairs, its report and the pooled comparison", () => {
  const out = mkdtempSync(join(tmpdir(), "evalsets-"));
  try {
    const args = [TOOL, "--out", out, "--sets", "A", "--fraction", "0.1", "--only", "noisy,ours", "--no-dnsmos"];
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const noisy = readdirSync(join(out, "A", "noisy")).sort();
    assert.equal(noisy.length, 7);
    assert.equal(noisy.filter((f) => f.endsWith("_reverb.wav")).length, 3);
    assert.deepEqual(readdirSync(join(out, "A", "clean")).sort(), noisy);
    const report = JSON.parse(readFileSync(join(out, "A", "report", "eval.json"), "utf8"));
    assert.equal(report.rows.filter((x: { system: string }) => x.system === "ours").length, 7);
    assert.match(readFileSync(join(out, "paired.md"), "utf8"), /\| noisy \| \+\d/);
    // A second run reuses the mixtures instead of making them again.
    const again = spawnSync(process.execPath, args, { encoding: "utf8" });
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /dry mixtures, seed/);
    // A larger fraction remakes the parts; going back leaves no clip of the larger one in the scored folders.
    const withFraction = (f: string) => spawnSync(process.execPath, args.map((a, i) => (args[i - 1] === "--fraction" ? f : a)), { encoding: "utf8" });
    const more = withFraction("0.2");
    assert.equal(more.status, 0, more.stderr);
    assert.equal(readdirSync(join(out, "A", "noisy")).length, 8 + 3);
    const fewer = withFraction("0.1");
    assert.equal(fewer.status, 0, fewer.stderr);
    assert.equal(readdirSync(join(out, "A", "noisy")).length, 7);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
