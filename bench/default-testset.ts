/**
 * The test set `npm run eval` uses when given no --clean/--noisy: mixtures
 * of the corpus's validation split (speakers and noises never trained on)
 * at 0, 5, 10 and 20 dB SNR with room reverberation, written by
 * tools/make-mixtures.ts into a git-ignored folder and reused while its
 * parameters match (the mixtures are a pure function of them).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Parameters of a validation-split test set. reverb: "mixed" (make-mixtures
 * --reverb: rooms on some clips; the default set), "none" (--no-reverb) or
 * "only" (--reverb-only: every clip in a room).
 */
export interface TestsetSpec { n: number; seed: number; snrs: number[]; reverb?: "mixed" | "none" | "only" }

const REVERB_FLAG = { mixed: "--reverb", none: "--no-reverb", only: "--reverb-only" } as const;

export const DEFAULT_TESTSET: TestsetSpec = { n: 16, seed: 1, snrs: [0, 5, 10, 20] };

/** Where a set is kept: out/ is git-ignored. */
export function testsetDir(s: TestsetSpec): string {
  return join("out", `eval-testset-val-n${s.n}-seed${s.seed}-snr${s.snrs.join("_")}`);
}

/** The make-mixtures arguments for a set. */
export function makeMixturesArgs(s: TestsetSpec, dir: string): string[] {
  return ["--out", dir, "--split", "val", "--snrs", s.snrs.join(","), REVERB_FLAG[s.reverb ?? "mixed"], "--n", String(s.n), "--seed", String(s.seed)];
}

/** Whether make-mixtures' recorded options are those of the spec's reverb mode. */
function reverbMatches(o: { reverb?: boolean; noiseFreeProb?: number } | undefined, mode: TestsetSpec["reverb"]): boolean {
  if (mode === "none") return o?.reverb === false;
  // --reverb-only sets noiseFreeProb 1 (REVERB_ONLY in lab/dataset/mixture.ts); --reverb leaves it unset.
  return o?.reverb === true && (mode === "only") === (o?.noiseFreeProb === 1);
}

/** True if `dir` holds a complete set made with exactly these parameters. */
export function isCurrent(dir: string, s: TestsetSpec): boolean {
  const meta = join(dir, "mixtures.json");
  if (!existsSync(meta)) return false;
  try {
    const m = JSON.parse(readFileSync(meta, "utf8"));
    return m.split === "val" && m.n === s.n && m.seed === s.seed && reverbMatches(m.options, s.reverb)
      && JSON.stringify(m.options?.snrs) === JSON.stringify(s.snrs)
      && Array.isArray(m.clips) && m.clips.every((c: { name: string }) =>
        existsSync(join(dir, "clean", c.name)) && existsSync(join(dir, "noisy", c.name)));
  } catch {
    return false;
  }
}

/**
 * Make the set (or reuse it) and return its clean and noisy folders.
 * mixtures.json is written last, so an interrupted run is redone. `what`
 * names the set in the progress lines (default: eval's own default set).
 */
export function ensureTestset(s: TestsetSpec, dir = testsetDir(s),
  what = { making: "eval: no --clean/--noisy given; making the default test set", using: "eval: using the default test set", hint: "; give --clean DIR --noisy DIR instead" }):
  { clean: string; noisy: string } {
  if (!isCurrent(dir, s)) {
    rmSync(dir, { recursive: true, force: true });
    const tool = fileURLToPath(new URL("../tools/make-mixtures.js", import.meta.url));
    const args = makeMixturesArgs(s, dir);
    console.error(`${what.making}:\n  node ${tool} ${args.join(" ")}`);
    const r = spawnSync(process.execPath, [tool, ...args], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`make-mixtures failed (exit ${r.status ?? r.signal})${what.hint}`);
    if (!isCurrent(dir, s)) throw new Error(`make-mixtures did not produce a complete set in ${dir}`);
  } else {
    console.error(`${what.using} in ${dir}`);
  }
  return { clean: join(dir, "clean"), noisy: join(dir, "noisy") };
}
