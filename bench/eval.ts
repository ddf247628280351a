/**
 * Objective evaluation of the denoiser and its peers.
 *
 *   node dist/bench/eval.js [--clean DIR --noisy DIR] [--out report/] [--only a,b]
 *        [--max-files N] [--snr-map FILE.json] [--dnsmos-model PATH] [--no-dnsmos]
 *        [--spectrogram NAME.wav] [--model PNM] [--n 16] [--seed 1] [--testset DIR]
 *        [--reuse EARLIER/eval.json] [--ours-settings JSON] [--ours-name NAME]
 *        [--dfn3-dir DIR]
 *
 * Without --clean/--noisy (`npm run eval`), a default test set is made first
 * (bench/default-testset.ts: N validation-split mixtures at 0/5/10/20 dB
 * with reverberation, by tools/make-mixtures.ts, seed S, kept in
 * out/eval-testset-... or --testset DIR, and reused while N and S match).
 * --model evaluates "ours" with that model file instead of weights/default.pnm;
 * --ours-settings '{"postfilter":false,"attenuationLimitDb":20}' with other
 * Denoiser settings, reported under --ours-name (default "ours").
 * --dfn3-dir DIR (or PERCEPNET_DFN3_DIR=DIR) is the folder of DeepFilterNet3's
 * official ONNX graphs for the "dfn3" peer (docs/EVALUATION.md says where to
 * get them); without it that peer is skipped with the reason.
 * Clean/noisy pairs are matched by file name (48 kHz mono wav; other rates
 * are resampled to 48 kHz). Each system enhances the noisy file; its delay is
 * removed (declared, or estimated by cross-correlation against the clean
 * file) before SI-SDR, STOI and ESTOI; DNSMOS P.835 scores the output alone.
 * Writes OUT/eval.json, OUT/eval.md, OUT/spectrogram.png and, when the files
 * carry SNRs (name contains "snr<dB>", or --snr-map), OUT/snr-curves.png.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import cliProgress from "cli-progress";
import { resample } from "../host/resample.js";
import { advance, estimateDelay } from "./align.js";
import { DEFAULT_TESTSET, ensureTestset, makeMixturesArgs, testsetDir, type TestsetSpec } from "./default-testset.js";
import { createDeepFilterNet3 } from "./enhancers/deepfilternet.js";
import { ENHANCERS, type Enhancer } from "./enhancers/index.js";
import { createOurs, type OursOptions } from "./enhancers/ours.js";
import { Dnsmos, DEFAULT_DNSMOS_MODEL } from "./metrics/dnsmos.js";
import { siSdr } from "./metrics/sisdr.js";
import { intelligibility } from "./metrics/stoi.js";
import { plotCurves, plotSpectrograms } from "./plots.js";
import { CLEAN_REFERENCE, conditionOf, consoleTable, groupByCondition, isReference, markdownTable, METRIC_LABEL, pairedTable, peersOf, summarise, type FileResult, type Metric } from "./report.js";
import { readWav } from "./wav.js";

const FS = 48000;
/** Trailing zeros fed after each file so a delayed output keeps its tail (max supported delay). */
const TAIL = Math.round(0.2 * FS);

interface Args {
  clean: string; noisy: string; out: string; only?: string[]; maxFiles?: number;
  snrMap?: string; dnsmosModel: string; dnsmos: boolean; spectrogram?: string;
  model?: string; testset: TestsetSpec; testsetDir?: string;
  oursSettings?: OursOptions["settings"]; oursName?: string;
  /** Folder of the DeepFilterNet3 graphs (default: PERCEPNET_DFN3_DIR). */
  dfn3Dir?: string;
  /** eval.json of an earlier run on the same files: its rows for systems not run now are kept. */
  reuse?: string;
  /** How the default test set was made, when it was used. */
  generated?: string;
}

/** --ours-settings: a JSON object of Denoiser settings (their values are checked by Denoiser.create). */
function parseSettings(text: string): OursOptions["settings"] {
  let o: unknown;
  try { o = JSON.parse(text); } catch (e) { throw new Error(`--ours-settings is not JSON: ${(e as Error).message}`); }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new Error(`--ours-settings must be a JSON object, got ${text}`);
  const known = ["comb", "postfilter", "attenuationLimitDb", "levelNormalize"];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`--ours-settings: unknown setting ${unknown.join(", ")} (known: ${known.join(", ")})`);
  return o as OursOptions["settings"];
}

function parseArgs(argv: string[]): Args {
  const a: Partial<Args> & { dnsmos: boolean; testset: TestsetSpec } = {
    out: "report", dnsmosModel: DEFAULT_DNSMOS_MODEL, dnsmos: true, testset: { ...DEFAULT_TESTSET },
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    switch (k) {
      case "--clean": a.clean = v(); break;
      case "--noisy": a.noisy = v(); break;
      case "--out": a.out = v(); break;
      case "--only": a.only = v().split(",").map((s) => s.trim()).filter(Boolean); break;
      case "--max-files": a.maxFiles = Number(v()); break;
      case "--snr-map": a.snrMap = v(); break;
      case "--dnsmos-model": a.dnsmosModel = v(); break;
      case "--no-dnsmos": a.dnsmos = false; break;
      case "--spectrogram": a.spectrogram = v(); break;
      case "--model": a.model = v(); break;
      case "--reuse": a.reuse = v(); break;
      case "--ours-settings": a.oursSettings = parseSettings(v()); break;
      case "--ours-name": a.oursName = v(); break;
      case "--dfn3-dir": a.dfn3Dir = v(); break;
      case "--n": a.testset.n = Number(v()); break;
      case "--seed": a.testset.seed = Number(v()); break;
      case "--testset": a.testsetDir = v(); break;
      case "-h": case "--help":
        console.log(readFileSync(new URL(import.meta.url)).toString().split("*/")[0]);
        process.exit(0);
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!a.clean !== !a.noisy) throw new Error("give both --clean DIR and --noisy DIR, or neither (default test set)");
  if (!Number.isInteger(a.testset.n) || a.testset.n < 1 || !Number.isInteger(a.testset.seed)) throw new Error("--n and --seed must be integers, n >= 1");
  if (!a.clean) {
    const dir = a.testsetDir ?? testsetDir(a.testset);
    Object.assign(a, ensureTestset(a.testset, dir));
    a.generated = `node dist/tools/make-mixtures.js ${makeMixturesArgs(a.testset, dir).join(" ")}`;
  }
  return a as Args;
}

/** SNR of a file: from --snr-map, else a "snr<number>" token in its name. */
function snrOf(name: string, map: Record<string, number> | undefined): number | null {
  if (map && name in map) return map[name];
  const m = /snr(-?\d+(?:\.\d+)?)/i.exec(name);
  return m ? Number(m[1]) : null;
}

function load48k(path: string): Float32Array {
  const { samples, sampleRate } = readWav(path);
  return sampleRate === FS ? samples : resample(samples, sampleRate, FS);
}

async function createSystems(only: string[] | undefined, ours: OursOptions, dfn3Dir?: string): Promise<{ systems: Enhancer[]; skipped: Record<string, string> }> {
  const names = only ?? [...ENHANCERS.keys()];
  const systems: Enhancer[] = [];
  const skipped: Record<string, string> = {};
  for (const n of names) {
    const f = ENHANCERS.get(n);
    if (!f) throw new Error(`unknown system "${n}"; known: ${[...ENHANCERS.keys()].join(", ")}`);
    try {
      systems.push(n === "ours" ? await createOurs(ours) : n === "dfn3" ? await createDeepFilterNet3({ dir: dfn3Dir }) : await f());
    } catch (e) {
      skipped[n] = (e as Error).message;
      console.error(`skipping ${n}: ${(e as Error).message}`);
    }
  }
  return { systems, skipped };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const snrMap = args.snrMap ? (JSON.parse(readFileSync(args.snrMap, "utf8")) as Record<string, number>) : undefined;
  let files = readdirSync(args.clean).filter((f) => f.toLowerCase().endsWith(".wav")).sort();
  const missing = files.filter((f) => !existsSync(join(args.noisy, f)));
  if (missing.length) console.error(`no noisy match for ${missing.length} clean file(s), e.g. ${missing[0]}; skipped`);
  files = files.filter((f) => !missing.includes(f));
  if (args.maxFiles) files = files.slice(0, args.maxFiles);
  if (!files.length) throw new Error("no clean/noisy pairs found");

  const { systems, skipped } = await createSystems(args.only, { model: args.model, settings: args.oursSettings, name: args.oursName }, args.dfn3Dir);
  let dnsmos: Dnsmos | undefined;
  if (args.dnsmos) {
    try {
      dnsmos = await Dnsmos.load(args.dnsmosModel);
    } catch (e) {
      skipped.dnsmos = (e as Error).message;
      console.error(`DNSMOS disabled: ${(e as Error).message}`);
    }
  }
  mkdirSync(args.out, { recursive: true });
  const specFile = args.spectrogram ?? files.find((f) => snrOf(f, snrMap) === 5) ?? files[0];
  const specSignals: { name: string; x: Float32Array }[] = [];

  const rows: FileResult[] = [];
  const bar = new cliProgress.SingleBar({
    format: "{bar} {value}/{total} files | {file} | {system}", stream: process.stderr, hideCursor: true,
    // Logs and CI have no TTY: still print a progress line every 10 s there.
    noTTYOutput: true, notTTYSchedule: 10000,
  }, cliProgress.Presets.shades_classic);
  bar.start(files.length, 0, { file: "", system: "" });
  for (const [fi, file] of files.entries()) {
    const clean = load48k(join(args.clean, file));
    let noisy = load48k(join(args.noisy, file));
    const n = Math.min(clean.length, noisy.length);
    const ref = clean.subarray(0, n);
    noisy = noisy.subarray(0, n);
    const padded = new Float32Array(n + TAIL);
    padded.set(noisy);
    const cleanPadded = new Float32Array(n + TAIL);
    cleanPadded.set(ref);
    const snr = snrOf(file, snrMap);
    const reverb = /reverb/i.test(file);
    if (file === specFile) specSignals.push({ name: "clean", x: ref });
    if (dnsmos) {
      const d = await dnsmos.score(ref, FS);
      rows.push({ file, system: CLEAN_REFERENCE, snr, reverb, delay: 0, rtf: 0, sig: d.sig, bak: d.bak, ovrl: d.ovrl });
    }
    for (const sys of systems) {
      bar.update(fi, { file: basename(file), system: sys.name });
      const t0 = performance.now();
      const y = await sys.run(padded, cleanPadded);
      const rtf = (performance.now() - t0) / 1000 / ((n + TAIL) / FS);
      const delay = sys.delay ?? estimateDelay(ref, y, TAIL);
      const out = advance(y, delay).subarray(0, n);
      const r: FileResult = { file, system: sys.name, snr, reverb, delay, rtf, siSdr: siSdr(ref, out), ...intelligibility(ref, out, FS) };
      if (dnsmos) Object.assign(r, await dnsmos.score(out, FS).then(({ sig, bak, ovrl }) => ({ sig, bak, ovrl })));
      rows.push(r);
      if (file === specFile) specSignals.push({ name: sys.name, x: out });
    }
    bar.update(fi + 1);
  }
  bar.stop();
  for (const s of systems) s.dispose?.();
  if (args.reuse) {
    // Systems measured earlier on the same files (e.g. the peers, while only "ours" changes).
    const prev = JSON.parse(readFileSync(args.reuse, "utf8")) as { rows: FileResult[] };
    const now = new Set(rows.map((r) => r.system)), wanted = new Set(files);
    const kept = prev.rows.filter((r) => !now.has(r.system) && wanted.has(r.file))
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === "Infinity" ? Infinity : v])) as unknown as FileResult);
    rows.push(...kept);
    console.error(`reused ${kept.length} rows of ${new Set(kept.map((r) => r.system)).size} systems from ${args.reuse}`);
  }

  const summary = summarise(rows);
  console.log(`\n${files.length} files; mean per system:\n`);
  console.log(consoleTable(summary));

  const groups = groupByCondition(rows.filter((r) => !isReference(r.system)));
  let md = `# Objective evaluation\n\nclean: \`${args.clean}\`, noisy: \`${args.noisy}\`, ${files.length} file pairs, 48 kHz.\n\n`;
  if (args.generated) md += `Default test set (validation split: speakers and noises not used in training), made by \`${args.generated}\`.\n\n`;
  md += `Intrusive metrics after removing each system's delay (declared, or estimated by cross-correlation with the clean file; median shown in samples at 48 kHz). RTF = processing time / audio duration on this machine, single thread. "clean (reference)" is DNSMOS of the clean files themselves.\n\n`;
  md += markdownTable(summary) + "\n\n";
  if (Object.keys(skipped).length) md += `Not run: ${Object.entries(skipped).map(([k, v]) => `**${k}** (${v})`).join("; ")}\n\n`;
  const oursName = args.oursName ?? "ours";
  const peers = peersOf(summary.map((s) => s.system), oursName);
  const paired = pairedTable(rows, oursName, peers);
  if (paired) {
    md += `## ${oursName} minus each peer, paired by file\n\nMean difference with a 95 % bootstrap interval over files, and the files where ${oursName} scores higher. An interval that contains 0 means this test set cannot tell the two apart on that metric.\n\n${paired}\n\n`;
  }
  if (groups.size > 1) {
    md += `## By condition\n\n`;
    for (const [k, rs] of groups) md += `### ${k} (${new Set(rs.map((r) => r.file)).size} files)\n\n${markdownTable(summarise(rs), false)}\n\n`;
  }
  if (specSignals.length) {
    plotSpectrograms(join(args.out, "spectrogram.png"), `Spectrograms: ${specFile} (aligned outputs)`, [
      ...specSignals.filter((s) => s.name === "noisy"), ...specSignals.filter((s) => s.name !== "noisy")]);
    md += `## Spectrograms (${specFile})\n\n![spectrograms](spectrogram.png)\n\n`;
  }
  // Named conditions (cond-NAME in the file name): only the "dry..." ones are plain noise at an SNR.
  const dry = rows.filter((r) => !r.reverb && r.snr !== null && !isReference(r.system) && (conditionOf(r.file)?.startsWith("dry") ?? true));
  const snrs = [...new Set(dry.map((r) => r.snr!))];
  if (snrs.length > 1) {
    const metrics: Metric[] = dnsmos ? ["siSdr", "stoi", "estoi", "sig", "bak", "ovrl"] : ["siSdr", "stoi", "estoi"];
    const sysNames = [...new Set(dry.map((r) => r.system))];
    plotCurves(join(args.out, "snr-curves.png"), metrics.map((m) => ({
      label: METRIC_LABEL[m],
      curves: sysNames.map((system) => ({
        system,
        points: snrs.sort((a, b) => a - b).map((x) => {
          const vs = dry.filter((r) => r.system === system && r.snr === x).map((r) => r[m]!).filter(Number.isFinite);
          return { x, y: vs.reduce((a, b) => a + b, 0) / vs.length };
        }),
      })),
    })));
    md += `## Metrics vs input SNR (dry files)\n\n![curves](snr-curves.png)\n`;
  }
  writeFileSync(join(args.out, "eval.md"), md);
  writeFileSync(join(args.out, "eval.json"), JSON.stringify({ clean: args.clean, noisy: args.noisy, files, skipped, summary, rows }, (_, v) => (v === Infinity ? "Infinity" : v), 1));
  console.log(`\nwrote ${join(args.out, "eval.md")}, eval.json${specSignals.length ? ", spectrogram.png" : ""}${snrs.length > 1 ? ", snr-curves.png" : ""}`);
}

main().catch((e) => {
  console.error(`eval: ${(e as Error).message}`);
  process.exit(1);
});
