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

/** Parameters of the default set. */
export interface TestsetSpec { n: number; seed: number; snrs: number[] }

export const DEFAULT_TESTSET: TestsetSpec = { n: 16, seed: 1, snrs: [0, 5, 10, 20] };

/** Where a set is kept: out/ is git-ignored. */
export function testsetDir(s: TestsetSpec): string {
  return join("out", `eval-testset-val-n${s.n}-seed${s.seed}-snr${s.snrs.join("_")}`);
}

/** The make-mixtures arguments for a set. */
export function makeMixturesArgs(s: TestsetSpec, dir: string): string[] {
  return ["--out", dir, "--split", "val", "--snrs", s.snrs.join(","), "--reverb", "--n", String(s.n), "--seed", String(s.seed)];
}

/** True if `dir` holds a complete set made with exactly these parameters. */
export function isCurrent(dir: string, s: TestsetSpec): boolean {
  const meta = join(dir, "mixtures.json");
  if (!existsSync(meta)) return false;
  try {
    const m = JSON.parse(readFileSync(meta, "utf8"));
    return m.split === "val" && m.n === s.n && m.seed === s.seed && m.options?.reverb === true
      && JSON.stringify(m.options?.snrs) === JSON.stringify(s.snrs)
      && Array.isArray(m.clips) && m.clips.every((c: { name: string }) =>
        existsSync(join(dir, "clean", c.name)) && existsSync(join(dir, "noisy", c.name)));
  } catch {
    return false;
  }
}

/**
 * Make the set (or reuse it) and return its clean and noisy folders.
 * mixtures.json is written last, so an interrupted run is redone.
 */
export function ensureTestset(s: TestsetSpec, dir = testsetDir(s)): { clean: string; noisy: string } {
  if (!isCurrent(dir, s)) {
    rmSync(dir, { recursive: true, force: true });
    const tool = fileURLToPath(new URL("../tools/make-mixtures.js", import.meta.url));
    const args = makeMixturesArgs(s, dir);
    console.error(`eval: no --clean/--noisy given; making the default test set:\n  node ${tool} ${args.join(" ")}`);
    const r = spawnSync(process.execPath, [tool, ...args], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`make-mixtures failed (exit ${r.status ?? r.signal}); give --clean DIR --noisy DIR instead`);
    if (!isCurrent(dir, s)) throw new Error(`make-mixtures did not produce a complete set in ${dir}`);
  } else {
    console.error(`eval: using the default test set in ${dir}`);
  }
  return { clean: join(dir, "clean"), noisy: join(dir, "noisy") };
}
