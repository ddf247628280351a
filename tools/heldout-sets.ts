/**
 * The held-out test sets T (test rows) and X (cross-source, xsrc rows) of
 * bench/heldout-testset.ts, made and scored by one command
 * (`npm run eval:heldout -- ...`); on request (--sets) also S (the test
 * speakers in generated steady noise, a diagnostic) and V (the lists'
 * validation rows, the set to choose models on):
 *
 *   node dist/tools/heldout-sets.js --out DIR
 *        --extra-speech DIR [--extra-speech DIR ...] --extra-noise DIR [--extra-noise DIR ...]
 *        [--sets T,X|S|V] [--only SYSTEMS] [--model PNM] [--ours-name NAME] [--dfn3-dir DIR]
 *        [--fraction F] [--no-dnsmos] [--data CORPUS] [--make-only]
 *
 * The folders are those `python3 -m training.fetch_extra` rebuilds from
 * the committed lists (training/DATA.md); each set takes its side's rows
 * (T and S: split test, X: split xsrc, V: split val) of every folder given, and refuses to run
 * without them. Rooms come from the corpus's validation side (--data).
 *
 * Per set S it writes DIR/S/clean, DIR/S/noisy (same names, each carrying
 * its condition as a cond-NAME token), DIR/S/heldout.json (every clip's
 * draw), DIR/S/summary.md (clips, speakers, noises, rooms per condition),
 * the bench/eval.js report in DIR/S/report, and the paired comparison by
 * condition of every set in DIR/paired.md (also printed). The clips are
 * reused while everything they depend on (the plan's fingerprint) is the same.
 *
 * Systems: noisy, ours, RNNoise (rnnoise-jitsi-sync), GTCRN, and dfn3 when
 * PERCEPNET_DFN3_DIR or --dfn3-dir is set; --only picks others. --model runs
 * ours with another model file. An earlier report of the same clips keeps
 * the rows of systems not run now, so a second model is compared with
 *
 *   ... --only ours --model B.pnm --ours-name ours-B
 *
 * which adds "ours-B" beside the earlier "ours" and pairs it with every
 * system of the report ("ours" included). --fraction F keeps the first F of
 * every condition (whole SNR cycles, at least one cycle) for a quick look.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Corpus, DEFAULT_CORPUS_ROOT, splitCorpus } from "../lab/dataset/corpus.js";
import {
  HELDOUT_SETS, makeHeldoutSet, orderRooms, planHeldoutSet, readHeldoutSources, setCount, summariseClips, summaryTable,
} from "../bench/heldout-testset.js";

/** The sets the README reports; S and V are asked for by name. */
const DEFAULT_SETS = "T,X";

const USAGE = `usage: heldout-sets --out DIR --extra-speech DIR [--extra-speech DIR ...] --extra-noise DIR [--extra-noise DIR ...]
       [--sets SETS (default ${DEFAULT_SETS}; of ${Object.keys(HELDOUT_SETS).join(",")})] [--only SYSTEMS] [--model PNM] [--ours-name NAME] [--dfn3-dir DIR]
       [--fraction F] [--no-dnsmos] [--data CORPUS] [--make-only]`;

/** The systems scored unless --only says otherwise: every peer, dfn3 when its graphs are given. */
export function defaultSystems(dfn3Dir: string | undefined): string {
  return `noisy,ours,rnnoise-jitsi-sync,gtcrn${dfn3Dir ? ",dfn3" : ""}`;
}

const here = dirname(fileURLToPath(import.meta.url));

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "extra-speech": { type: "string", multiple: true, default: [] },
      "extra-noise": { type: "string", multiple: true, default: [] },
      sets: { type: "string", default: DEFAULT_SETS },
      only: { type: "string" },
      model: { type: "string" },
      "ours-name": { type: "string" },
      "dfn3-dir": { type: "string" },
      fraction: { type: "string", default: "1" },
      "no-dnsmos": { type: "boolean", default: false },
      data: { type: "string", default: DEFAULT_CORPUS_ROOT },
      "make-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) { console.log(USAGE); return; }
  const sets = values.sets.split(",").filter(Boolean);
  const fraction = Number(values.fraction);
  const unknown = sets.filter((s) => !(s in HELDOUT_SETS));
  if (!values.out || !sets.length || unknown.length || !(fraction > 0 && fraction <= 1)) {
    throw new UsageError(`${unknown.length ? `unknown set ${unknown.join(",")}\n` : ""}${!(fraction > 0 && fraction <= 1) ? "--fraction must be in (0, 1]\n" : ""}${USAGE}`);
  }
  if (values.model && !existsSync(values.model)) throw new UsageError(`--model ${values.model} not found`);
  const dfn3Dir = values["dfn3-dir"] ?? process.env.PERCEPNET_DFN3_DIR;
  const only = values.only ?? defaultSystems(dfn3Dir);
  const oursName = values["ours-name"] ?? "ours";
  const speechDirs = values["extra-speech"], noiseDirs = values["extra-noise"];
  // Every set's rows first: a missing folder stops the run before anything is written.
  const sources = Object.fromEntries(sets.map((s) => {
    try {
      return [s, readHeldoutSources(speechDirs, noiseDirs, HELDOUT_SETS[s].side)];
    } catch (e) {
      throw new UsageError(`set ${s}: ${(e as Error).message}`);
    }
  }));
  if (!existsSync(join(values.data, "MANIFEST.tsv"))) throw new UsageError(`--data ${values.data}: no MANIFEST.tsv (the corpus, for its validation-side rooms)`);

  const corpus = Corpus.open(values.data);
  const rooms = await orderRooms(corpus, splitCorpus(corpus.entries).val.rir);
  const log = (s: string) => console.error(`heldout-sets: ${s}`);
  const reports: { set: string; json: string }[] = [];
  for (const s of sets) {
    const set = HELDOUT_SETS[s];
    const dir = join(values.out, s);
    const plan = await planHeldoutSet(set, sources[s], rooms, corpus, fraction);
    const { clips } = await makeHeldoutSet(plan, corpus, dir, log);
    const table = summaryTable(summariseClips(clips), clips);
    const head = `# Set ${s}: ${clips.length} clips (fraction ${fraction}; ${setCount(set)} in the full set)\n\n${set.about}.\n\n` +
      `${plan.speech.length} speech rows of ${new Set(plan.speech.map((e) => e.label)).size} speakers, ` +
      `${plan.noise.length} noise recordings (${plan.nonstationary.length} non-stationary), ` +
      `${rooms.length} validation-side room responses (RT60 ${rooms.map((r) => r.rt60.toFixed(2)).sort().join(", ")} s).\n\n`;
    writeFileSync(join(dir, "summary.md"), `${head}${table}\n`);
    console.error(`${head}${table}\n`);
    if (values["make-only"]) continue;

    // An earlier report of exactly these clips lends the rows of the systems not run now.
    const report = join(dir, "report");
    const stamp = join(report, "fingerprint");
    const reusable = existsSync(join(report, "eval.json")) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === plan.fingerprint;
    if (!reusable) rmSync(report, { recursive: true, force: true });
    const evalArgs = ["--clean", join(dir, "clean"), "--noisy", join(dir, "noisy"), "--out", report, "--only", only];
    if (values.model) evalArgs.push("--model", values.model);
    if (values["ours-name"]) evalArgs.push("--ours-name", oursName);
    if (values["dfn3-dir"]) evalArgs.push("--dfn3-dir", values["dfn3-dir"]);
    if (values["no-dnsmos"]) evalArgs.push("--no-dnsmos");
    if (reusable) evalArgs.push("--reuse", join(report, "eval.json"));
    log(`scoring set ${s} (${only}${reusable ? "; other systems from the earlier report" : ""})`);
    const r = spawnSync(process.execPath, [join(here, "..", "bench", "eval.js"), ...evalArgs], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`eval.js on set ${s} failed (exit ${r.status ?? r.signal})`);
    writeFileSync(stamp, `${plan.fingerprint}\n`);
    reports.push({ set: s, json: join(report, "eval.json") });
  }
  corpus.close();
  if (!reports.length) return;
  // Each set on its own: T and X are different questions, never pooled.
  let md = "";
  for (const { set, json } of reports) {
    const r = spawnSync(process.execPath, [join(here, "eval-paired.js"), json, "--system", oursName, "--by-condition"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`eval-paired on set ${set} failed: ${r.stderr}`);
    md += `# Set ${set}: ${HELDOUT_SETS[set].about}\n\n${r.stdout.replace(/^### /gm, "#### ").replace(/^## /gm, "### ")}\n`;
  }
  writeFileSync(join(values.out, "paired.md"), md);
  console.log(md);
  console.error(`heldout-sets: wrote ${reports.map((r) => r.json).join(", ")} and ${join(values.out, "paired.md")}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(`heldout-sets: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
