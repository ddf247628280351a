/**
 * tools/heldout-tables.ts and readme-sections' --heldout: the held-out sets'
 * tables from small synthetic eval.json reports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileResult } from "../bench/report.js";
import {
  conditionLabel, DEFAULT_SYSTEMS, FIGURE_NAME, parseSystems, readmeMarkdown, resultsMarkdown, setTables, type HeldoutSet,
} from "../tools/heldout-tables.js";
import { defaultClip } from "../tools/heldout-figure.js";
import { main } from "../tools/readme-sections.js";

const SYSTEMS = "ours=default,peer=Peer,dfn3=DeepFilterNet3";

/**
 * Two conditions of `n` clips: "ours" scores ovrl 2 + i/10 on clip i, "peer"
 * 0.5 lower on every clip, "dfn3" 0.25 higher; siSdr and estoi likewise.
 * "c0" (an experimental model) and the clean references are also there.
 */
function rows(n = 4, extra = 0): FileResult[] {
  const out: FileResult[] = [];
  for (const [c, cond] of ["dry-snr5", "babble-snr10"].entries()) {
    for (let i = 0; i < n; i++) {
      const file = `T-0${c}-00${i}_cond-${cond}_snr${c ? 10 : 5}.wav`;
      const base = { file, snr: c ? 10 : 5, reverb: false, delay: 0, rtf: 0 };
      const v = (d: number) => ({ siSdr: 5 + i + 4 * d, estoi: 0.5 + i / 100 + d / 10, ovrl: 2 + i / 10 + c + d });
      out.push({ ...base, system: "clean (reference)", ovrl: 3 });
      out.push({ ...base, system: "ours", ...v(0) });
      out.push({ ...base, system: "peer", ...v(-0.5) });
      out.push({ ...base, system: "dfn3", ...v(0.25) });
      out.push({ ...base, system: "c0", ...v(1 + extra) });
    }
  }
  return out;
}

const setOf = (rs: FileResult[], byCondition = true, name = "T"): HeldoutSet => ({ name, about: "", rows: rs, byCondition });

test("parseSystems reads NAME=LABEL lists, the first being the default", () => {
  assert.deepEqual(parseSystems("ours=default, gtcrn , dfn3=DeepFilterNet3"), [
    { name: "ours", label: "default" }, { name: "gtcrn", label: "gtcrn" }, { name: "dfn3", label: "DeepFilterNet3" }]);
  assert.equal(parseSystems(DEFAULT_SYSTEMS).find((s) => s.name === "dfn3")?.label, "DeepFilterNet3", "dfn3 is shown by default");
  assert.throws(() => parseSystems("ours"), /at least one/);
  assert.throws(() => parseSystems("ours=a,gtcrn=a"), /given twice/);
  assert.throws(() => parseSystems("ours=a,ours=b"), /given twice/);
  assert.throws(() => parseSystems("=x,ours"), /NAME=LABEL/);
  assert.equal(parseSystems("ours", 1).length, 1);
});

test("conditionLabel names the conditions of the held-out sets", () => {
  const r = (snr: number) => ({ snr } as FileResult);
  assert.equal(conditionLabel("dry-snr-5", [r(-5)]), "noise, -5 dB SNR");
  assert.equal(conditionLabel("reverb-snr10", [r(10)]), "reverberant room + noise, 10 dB SNR");
  assert.equal(conditionLabel("band8k", [r(10), r(5), r(10)]), "8 kHz channel, 5/10 dB SNR");
  assert.equal(conditionLabel("something-new", [r(0)]), "something-new");
});

test("setTables: means and paired differences of the chosen systems only, per condition", () => {
  const t = setTables(setOf(rows()), parseSystems(SYSTEMS));
  assert.deepEqual(t.map((g) => [g.token, g.clips]), [[null, 8], ["dry-snr5", 4], ["babble-snr10", 4]]);
  const all = t[0];
  assert.deepEqual(all.systems.map((s) => s.system.name), ["ours", "peer", "dfn3"], "c0 is left out");
  assert.equal(all.cleanOvrl, 3);
  const ours = all.systems[0], peer = all.systems[1], dfn3 = all.systems[2];
  assert.ok(Math.abs(ours.mean.ovrl! - (2 + 0.15 + 0.5)) < 1e-9, `ours ovrl ${ours.mean.ovrl}`);
  assert.deepEqual(ours.diff, {}, "no difference of the default to itself");
  // Every clip differs by the same amount: the interval is that amount.
  for (const [s, d] of [[peer, 0.5], [dfn3, -0.25]] as const) {
    assert.ok(Math.abs(s.diff.ovrl!.mean - d) < 1e-9 && Math.abs(s.diff.ovrl!.lo - d) < 1e-9 && Math.abs(s.diff.ovrl!.hi - d) < 1e-9);
    assert.ok(Math.abs(s.diff.siSdr!.mean - 4 * d) < 1e-9);
    assert.equal(s.diff.ovrl!.files, 8);
  }
  assert.ok(Math.abs(t[2].systems[0].mean.ovrl! - (3 + 0.15)) < 1e-9, "the second condition's own mean");
  assert.equal(setTables(setOf(rows(), false), parseSystems(SYSTEMS)).length, 1, "the whole set only");
  assert.throws(() => setTables(setOf(rows().filter((r) => r.system !== "dfn3")), parseSystems(SYSTEMS)), /no rows of dfn3/);
});

test("the interval widens when the differences vary", () => {
  const rs = rows().map((r) => (r.system === "peer" && r.file.includes("-000_") ? { ...r, ovrl: r.ovrl! + 2 } : r));
  const d = setTables(setOf(rs), parseSystems(SYSTEMS))[0].systems[1].diff.ovrl!;
  assert.ok(d.lo < d.mean && d.mean < d.hi && d.hi - d.lo > 0.1, JSON.stringify(d));
});

test("resultsMarkdown: a table per condition with every system's row; readmeMarkdown: OVRL by condition", () => {
  const systems = parseSystems(SYSTEMS);
  const sets = [setOf(rows()), setOf(rows(2), false, "X")];
  const md = resultsMarkdown(sets, systems, { link: "img/x.png" });
  assert.match(md, /^#### T: all \(8 clips\)$/m);
  assert.match(md, /^#### T: noise, 5 dB SNR \(`dry-snr5`, 4 clips\)$/m);
  assert.match(md, /^#### T: babble \(3-6 talkers\), 10 dB SNR \(`babble-snr10`, 4 clips\)$/m);
  assert.match(md, /^#### X: all \(4 clips\)$/m);
  assert.ok(!/#### X: noise/.test(md), "X as a whole only");
  assert.match(md, /^\| DeepFilterNet3 \| 7\.50 \| 0\.540 \| 2\.90 \| -1\.00 \[-1\.00, -1\.00\] \| -0\.025 \[-0\.025, -0\.025\] \| -0\.25 \[-0\.25, -0\.25\] \|$/m);
  assert.match(md, /^\| Peer \| [^|]+ \| [^|]+ \| 2\.15 \| \+2\.00 \[\+2\.00, \+2\.00\] \|/m);
  assert.ok(!md.includes("c0"), "experimental rows never shown");
  assert.ok(md.includes("![spectrograms before and after](img/x.png)"));
  const readme = readmeMarkdown(sets, systems, { link: "docs/img/x.png" });
  assert.match(readme, /^\| set: condition \| clips \| default \| Peer \| DeepFilterNet3 \|$/m);
  const body = readme.split("\n").filter((l) => /^\| (\*\*)?[TX]:/.test(l));
  assert.deepEqual(body, [
    "| T: noise, 5 dB SNR | 4 | 2.15 | 1.65 | **2.40** |",
    "| T: babble (3-6 talkers), 10 dB SNR | 4 | 3.15 | 2.65 | **3.40** |",
    "| **T: all** | 8 | 2.65 | 2.15 | **2.90** |",
    "| **X: all** | 4 | 2.55 | 2.05 | **2.80** |",
  ]);
  assert.ok(readme.includes("(docs/img/x.png)"));
});

test("defaultClip is the first clip of dry-snr5, as eval.js plots", () => {
  assert.equal(defaultClip(["T-02-001_cond-dry-snr5_snr5.wav", "T-00-000_cond-dry-snr-5_snr-5.wav", "T-02-000_cond-dry-snr5_snr5.wav"]),
    "T-02-000_cond-dry-snr5_snr5.wav");
  assert.equal(defaultClip(["b.wav", "a.wav"]), "a.wav");
});

const DOC = "# Results\n\n## Held-out sets\n<!-- heldout:start -->\n<!-- heldout:end -->\n\n## Soak\n";
const README = "# x\n\n## Quality\n\nIntro.\n\n<!-- quality:start -->\nstale text\n<!-- quality:end -->\n\nReproduce.\n";

test("readme-sections --heldout fills both documents, ignores other systems' rows, --check catches staleness", () => {
  const dir = mkdtempSync(join(tmpdir(), "heldout-sections-"));
  try {
    const h = join(dir, "heldout");
    const write = (set: string, rs: FileResult[]) => {
      mkdirSync(join(h, set, "report"), { recursive: true });
      writeFileSync(join(h, set, "report", "eval.json"), JSON.stringify({ rows: rs }));
    };
    write("T", rows());
    write("X", rows(2));
    writeFileSync(join(h, FIGURE_NAME), "png 1");
    mkdirSync(join(dir, "docs"));
    const doc = join(dir, "docs", "RESULTS.md"), readme = join(dir, "README.md");
    writeFileSync(doc, DOC);
    writeFileSync(readme, README);
    const logs: string[] = [];
    const args = ["--doc", doc, "--summary", readme, "--heldout", h, "--systems", SYSTEMS,
      "--bench", join(dir, "none.md"), "--eval", join(dir, "none.md")];
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 1, "stale before");
    assert.equal(readFileSync(readme, "utf8"), README, "--check writes nothing");
    assert.equal(main(args, (s) => logs.push(s)), 0, logs.join("\n"));
    const d = readFileSync(doc, "utf8"), r = readFileSync(readme, "utf8");
    assert.match(d, /<!-- heldout:start -->\n<!-- generated by tools\/readme-sections.ts[^\n]*\n/);
    assert.match(d, /^#### T: noise, 5 dB SNR/m);
    assert.ok(d.includes("](img/heldout-spectrogram.png)") && d.endsWith("## Soak\n"));
    assert.match(r, /^\| \*\*T: all\*\* \| 8 \| 2\.65 \| 2\.15 \| \*\*2\.90\*\* \|$/m);
    assert.ok(r.includes("](docs/img/heldout-spectrogram.png)") && r.includes("Intro.") && r.endsWith("Reproduce.\n") && !r.includes("stale text"));
    assert.ok(r.includes("(docs/RESULTS.md#held-out-sets)"));
    assert.equal(readFileSync(join(dir, "docs", "img", FIGURE_NAME), "utf8"), "png 1");
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 0, "up to date after");
    write("T", rows(4, 0.7));
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 0, "c0's rows changing changes nothing");
    write("T", rows().map((x) => (x.system === "dfn3" && x.file.includes("-000_") ? { ...x, ovrl: 4.5 } : x)));
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 1, "a shown system's score changing is stale");
    assert.equal(main(args, (s) => logs.push(s)), 0);
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 0);
    writeFileSync(readme, readFileSync(readme, "utf8").replace("| **T: all** | 8 |", "| **T: all** | 9 |"));
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 1, "a hand edit of README is stale");
    writeFileSync(join(h, FIGURE_NAME), "png 2");
    assert.equal(main([...args, "--check"], (s) => logs.push(s)), 1, "a new figure is stale");
    rmSync(join(h, FIGURE_NAME));
    assert.equal(main(args, (s) => logs.push(s)), 1, "no figure: error");
    writeFileSync(join(h, FIGURE_NAME), "png 2");
    assert.equal(main([...args, "--systems", "ours=default,gtcrn=GTCRN"], (s) => logs.push(s)), 1, "a system the report lacks: error");
    assert.match(logs.at(-1)!, /no rows of gtcrn/);
    assert.equal(main([...args.slice(0, 5), join(dir, "nowhere"), ...args.slice(6)], (s) => logs.push(s)), 1, "no report: error");
    assert.match(logs.at(-1)!, /no held-out report/);
    writeFileSync(readme, "no markers\n");
    assert.equal(main(args, (s) => logs.push(s)), 1, "README without markers: error");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
