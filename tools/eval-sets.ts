/**
 * The three validation-split test sets of docs/RESULTS.md, made and scored by one
 * command (`npm run eval:sets -- --out DIR`):
 *
 *   node dist/tools/eval-sets.js --out DIR [--sets A,B,C] [--only noisy,ours,...]
 *        [--model PNM] [--fraction F] [--no-dnsmos]
 *
 * Set A (the eval section of docs/RESULTS.md): 40 dry mixtures, 10 per SNR of
 * 0/5/10/20 dB (make-mixtures seed 4242), and 12 reverberant ones at
 * 5/10/20 dB (seed 4343). Set B: 80 + 24 (seeds 5252 / 5353). Set C: 80 + 24
 * (seeds 7272 / 7373; made for stage G1's ship rule). Per set it writes
 * DIR/S/dry and DIR/S/rev (make-mixtures; reused when complete), the pairs
 * in DIR/S/clean and DIR/S/noisy (reverberant names suffixed `_reverb`), the
 * eval.js report in DIR/S/report; then the paired comparison pooled over
 * the sets (eval-paired --by-condition) in DIR/paired.md.
 *
 * --fraction F (0 < F <= 1) keeps the first F of every set, in whole SNR
 * groups (mixture i of a seed is the same clip whatever n is), for a
 * quick look; the published numbers are F = 1. --only, --model and
 * --no-dnsmos go to eval.js (default: noisy, ours, RNNoise, GTCRN).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureTestset, type TestsetSpec } from "../bench/default-testset.js";

type Part = TestsetSpec & { reverb: "none" | "only" };
/** The test sets of docs/RESULTS.md "Quality" (C: training/HISTORY.md, stage G1), as made there: a dry part and a reverberant part each. */
export const TEST_SETS: Record<string, Part[]> = {
  A: [{ n: 40, seed: 4242, snrs: [0, 5, 10, 20], reverb: "none" }, { n: 12, seed: 4343, snrs: [5, 10, 20], reverb: "only" }],
  B: [{ n: 80, seed: 5252, snrs: [0, 5, 10, 20], reverb: "none" }, { n: 24, seed: 5353, snrs: [5, 10, 20], reverb: "only" }],
  C: [{ n: 80, seed: 7272, snrs: [0, 5, 10, 20], reverb: "none" }, { n: 24, seed: 7373, snrs: [5, 10, 20], reverb: "only" }],
};

const USAGE = `usage: eval-sets --out DIR [--sets ${Object.keys(TEST_SETS).join(",")}] [--only SYSTEMS] [--model PNM]
       [--fraction F] [--no-dnsmos]`;

/** How many clips of a part a fraction keeps: whole groups of one clip per SNR, at least one group. */
export function scaledCount(p: Part, fraction: number): number {
  const groups = p.n / p.snrs.length;
  return Math.max(1, Math.round(groups * fraction)) * p.snrs.length;
}

const here = dirname(fileURLToPath(import.meta.url));

function run(tool: string, args: string[], what: string): void {
  const r = spawnSync(process.execPath, [tool, ...args], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
}

function makeSet(name: string, dir: string, fraction: number): void {
  // The scored folders are rebuilt from the parts each time, so clips of an earlier, larger fraction never linger.
  for (const k of ["clean", "noisy"]) {
    rmSync(join(dir, k), { recursive: true, force: true });
    mkdirSync(join(dir, k), { recursive: true });
  }
  for (const p of TEST_SETS[name]) {
    const spec = { ...p, n: scaledCount(p, fraction) };
    const kind = p.reverb === "only" ? "reverberant" : "dry";
    // Reused only while its mixtures.json matches the spec exactly (a different fraction remakes it).
    const part = ensureTestset(spec, join(dir, p.reverb === "only" ? "rev" : "dry"), {
      making: `eval-sets: set ${name}: ${spec.n} ${kind} mixtures, seed ${p.seed}`,
      using: `eval-sets: set ${name}: reusing the ${kind} mixtures`, hint: "",
    });
    for (const k of ["clean", "noisy"] as const) {
      for (const f of readdirSync(part[k]).filter((x) => x.endsWith(".wav"))) {
        copyFileSync(join(part[k], f), join(dir, k, p.reverb === "only" ? f.replace(/\.wav$/, "_reverb.wav") : f));
      }
    }
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      sets: { type: "string", default: Object.keys(TEST_SETS).join(",") },
      only: { type: "string", default: "noisy,ours,rnnoise-jitsi-sync,gtcrn" },
      model: { type: "string" },
      fraction: { type: "string", default: "1" },
      "no-dnsmos": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) { console.log(USAGE); return; }
  const sets = values.sets.split(",").filter(Boolean);
  const fraction = Number(values.fraction);
  const unknown = sets.filter((s) => !(s in TEST_SETS));
  if (!values.out || !sets.length || unknown.length || !(fraction > 0 && fraction <= 1)) {
    console.error(`${unknown.length ? `unknown set ${unknown.join(",")}\n` : ""}${!(fraction > 0 && fraction <= 1) ? "--fraction must be in (0, 1]\n" : ""}${USAGE}`);
    process.exit(2);
  }
  if (values.model && !existsSync(values.model)) { console.error(`eval-sets: --model ${values.model} not found`); process.exit(2); }
  const reports: string[] = [];
  for (const s of sets) {
    const dir = join(values.out, s);
    makeSet(s, dir, fraction);
    const evalArgs = ["--clean", join(dir, "clean"), "--noisy", join(dir, "noisy"), "--out", join(dir, "report"), "--only", values.only];
    if (values.model) evalArgs.push("--model", values.model);
    if (values["no-dnsmos"]) evalArgs.push("--no-dnsmos");
    console.error(`eval-sets: scoring set ${s}`);
    run(join(here, "..", "bench", "eval.js"), evalArgs, `eval.js on set ${s}`);
    reports.push(join(dir, "report", "eval.json"));
  }
  const r = spawnSync(process.execPath, [join(here, "eval-paired.js"), ...reports, "--by-condition"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`eval-paired failed: ${r.stderr}`);
  writeFileSync(join(values.out, "paired.md"), r.stdout);
  console.log(r.stdout);
  console.error(`eval-sets: wrote ${reports.join(", ")} and ${join(values.out, "paired.md")}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try { main(); } catch (e) { console.error(`eval-sets: ${(e as Error).message}`); process.exit(1); }
}
