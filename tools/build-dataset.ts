/**
 * The dataset builder: synthesises (clean, noisy) mixtures from the training
 * corpus (lab/dataset) and turns each into network features and oracle
 * targets with the same wasm signal path that runs at inference
 * (host/offline.ts dumpFeatures), written as .pnf files (docs/FORMATS.md).
 *
 *   node dist/tools/build-dataset.js --out data/val.pnf --split val --n 200 --seed 1
 *   node dist/tools/build-dataset.js --out data/train --split train --n 120 --seed 7 --loop --keep 4
 *
 * --loop keeps writing fresh files (chunk-000000.pnf, ...) into a directory,
 * each with new mixtures, deleting the oldest beyond --keep: the trainer reads
 * the newest ones every epoch, so no mixture is seen twice.
 * --extra-noise DIR and --extra-speech DIR add folders of recordings to the
 * training side; --noise-speed PCT plays half the noise recordings at another
 * speed (and pitch), within +-PCT percent.
 */
import { mkdirSync, readdirSync, unlinkSync, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { Corpus, DEFAULT_CORPUS_ROOT, readExtra, splitCorpus } from "../lab/dataset/corpus.js";
import { mixtureAt, type MixtureOptions } from "../lab/dataset/mixture.js";
import { FRAME_SIZE } from "../host/denoiser.js";
import { defaultWasmModule } from "../host/wasm.js";
import { dumpFeatures } from "../host/offline.js";
import { PnfWriter } from "../lab/pnf.js";

const USAGE = `usage: build-dataset --out FILE.pnf|DIR [--split train|val] [--n N] [--seed S]
       [--seconds 10] [--snr-min -5] [--snr-max 40] [--reverb-prob 0.5] [--loop --keep K] [--quiet]
       [--data ${DEFAULT_CORPUS_ROOT}] [--extra-noise DIR ...] [--extra-speech DIR ...] [--noise-speed PCT]
       [--extra-speech-prob P]

--extra-noise DIR (repeatable, training split only): also draw noise from the
noise rows of DIR/MANIFEST.tsv (same columns as the corpus manifest; paths
relative to DIR), e.g. openly licensed recordings listed in training/DATA.md.
--extra-speech DIR (repeatable, training split only): the same for the speech
rows (label = speaker, who must not be in the corpus; speech48/ paths are
full band).
--noise-speed PCT (integer 0-50, default 0): half of the noise recordings play
at a speed (and pitch) drawn within +-PCT percent, so a few recordings of
crickets, insects or machines cover more frequencies. 0 draws nothing:
earlier seeds give the same mixtures as before.
--extra-speech-prob P (0-1, default 0): with probability P a clip's speaker
comes from the --extra-speech folders, each speaker in proportion to its
duration there (otherwise extra speakers join their side like corpus ones,
one share each). 0 draws nothing: earlier seeds give the same mixtures.`;

async function writeChunk(path: string, corpus: Corpus, lists: ReturnType<typeof splitCorpus>["train"], seed: number,
  first: number, n: number, opts: Partial<MixtureOptions>, wasm: WebAssembly.Module, bar?: cliProgress.SingleBar): Promise<void> {
  const seqLen = Math.floor(((opts.seconds ?? 10) * 48000) / FRAME_SIZE);
  const w = await PnfWriter.create(path, n, seqLen);
  try {
    for (let i = 0; i < n; i++) {
      const m = await mixtureAt(corpus, lists, seed, first + i, opts);
      const d = await dumpFeatures(m.clean, m.noisy, { wasm });
      await w.add(d, m.validBands, 0);
      bar?.increment();
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({ options: {
    out: { type: "string" }, split: { type: "string", default: "train" }, n: { type: "string", default: "100" },
    seed: { type: "string", default: "1" }, seconds: { type: "string", default: "10" },
    "snr-min": { type: "string", default: "-5" }, "snr-max": { type: "string", default: "40" },
    "reverb-prob": { type: "string", default: "0.5" },
    loop: { type: "boolean", default: false }, keep: { type: "string", default: "4" },
    quiet: { type: "boolean", default: false }, data: { type: "string", default: DEFAULT_CORPUS_ROOT },
    "extra-noise": { type: "string", multiple: true, default: [] },
    "extra-speech": { type: "string", multiple: true, default: [] },
    "noise-speed": { type: "string", default: "0" },
    "extra-speech-prob": { type: "string", default: "0" },
    help: { type: "boolean", short: "h" },
  } });
  if (v.help || !v.out) { process.stderr.write(USAGE + "\n"); return v.help ? 0 : 2; }
  if (v.split !== "train" && v.split !== "val") { process.stderr.write(`--split must be train or val\n${USAGE}\n`); return 2; }
  const n = Number(v.n), seed = Number(v.seed), seconds = Number(v.seconds), keep = Number(v.keep);
  if (!(n >= 1 && Number.isInteger(n)) || !Number.isFinite(seed) || !(seconds >= 1 && seconds <= 60) || !(keep >= 1)) {
    process.stderr.write(`bad numeric option\n${USAGE}\n`); return 2;
  }
  const noiseSpeed = Number(v["noise-speed"]);
  if (!(Number.isInteger(noiseSpeed) && noiseSpeed >= 0 && noiseSpeed <= 50)) {
    process.stderr.write(`--noise-speed must be an integer percentage from 0 to 50, got ${v["noise-speed"]}\n`); return 2;
  }
  const extraSpeechProb = Number(v["extra-speech-prob"]);
  if (!(extraSpeechProb >= 0 && extraSpeechProb <= 1)) {
    process.stderr.write(`--extra-speech-prob must be a probability from 0 to 1, got ${v["extra-speech-prob"]}\n`); return 2;
  }
  if (extraSpeechProb > 0 && !(v["extra-speech"] ?? []).length) {
    process.stderr.write("--extra-speech-prob needs at least one --extra-speech folder\n"); return 2;
  }
  // Checked before any audio is read: a wrong --out would otherwise fail only after all the work.
  const outStat = existsSync(v.out) ? statSync(v.out) : undefined;
  if (!v.loop && outStat?.isDirectory()) {
    process.stderr.write(`--out ${v.out} is a folder; without --loop, --out names the .pnf file to write (with --loop, the folder of chunks)\n`); return 2;
  }
  if (v.loop && outStat && !outStat.isDirectory()) {
    process.stderr.write(`--out ${v.out} is a file; with --loop, --out names the folder the chunks go to\n`); return 2;
  }
  const opts: Partial<MixtureOptions> = {
    seconds, snrDb: [Number(v["snr-min"]), Number(v["snr-max"])], reverb: Number(v["reverb-prob"]),
    ...(noiseSpeed > 0 ? { noiseSpeedProb: 0.5, noiseSpeedPct: noiseSpeed } : {}),
    ...(extraSpeechProb > 0 ? { extraSpeechProb } : {}),
  };
  const corpus = await Corpus.open(v.data);
  const lists = splitCorpus(corpus.entries)[v.split as "train" | "val"];
  const extra = { noise: v["extra-noise"] ?? [], speech: v["extra-speech"] ?? [] };
  if ((extra.noise.length || extra.speech.length) && v.split !== "train") {
    process.stderr.write("--extra-noise and --extra-speech are for the training split only (the validation split stays fixed)\n"); return 2;
  }
  // An extra speaker label the corpus already has would merge with that speaker, perhaps a validation one.
  const corpusSpeakers = new Set(corpus.entries.filter((e) => e.kind === "speech").map((e) => e.label));
  for (const kind of ["noise", "speech"] as const) {
    for (const dir of extra[kind]) {
      const rows = readExtra(dir, kind);
      if (kind === "speech") {
        const clash = [...new Set(rows.filter((e) => corpusSpeakers.has(e.label)).map((e) => e.label))];
        if (clash.length) { process.stderr.write(`${dir}: speaker labels already in the corpus: ${clash.join(", ")}\n`); return 2; }
      }
      lists[kind].push(...rows);
      const speakers = kind === "speech" ? `, ${new Set(rows.map((e) => e.label)).size} speakers` : "";
      if (!v.quiet) process.stderr.write(`build-dataset: ${rows.length} extra ${kind} files (${(rows.reduce((a, e) => a + e.seconds, 0) / 60).toFixed(1)} min${speakers}) from ${dir}\n`);
    }
  }
  const wasm = await defaultWasmModule();
  const tty = !v.quiet && process.stderr.isTTY;
  if (!v.loop) {
    mkdirSync(dirname(v.out), { recursive: true });
    const bar = tty ? new cliProgress.SingleBar({ format: "mixtures [{bar}] {value}/{total} | ETA {eta}s" }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(n, 0);
    const t0 = performance.now();
    await writeChunk(v.out, corpus, lists, seed, 0, n, opts, wasm, bar);
    bar?.stop();
    if (!v.quiet) process.stderr.write(`build-dataset: ${n} x ${seconds} s -> ${v.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return 0;
  }
  mkdirSync(v.out, { recursive: true });
  const existing = readdirSync(v.out).filter((f) => /^chunk-\d+\.pnf$/.test(f)).sort();
  let k = existing.length ? Number(existing[existing.length - 1].slice(6, 12)) + 1 : 0;
  for (;;) {
    const name = `chunk-${String(k).padStart(6, "0")}.pnf`;
    const t0 = performance.now();
    // each chunk draws mixtures k*n .. k*n+n-1 of the seed's stream: never repeated
    await writeChunk(join(v.out, name), corpus, lists, seed, k * n, n, opts, wasm);
    if (!v.quiet) process.stderr.write(`build-dataset: ${name} (${n} x ${seconds} s) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const files = readdirSync(v.out).filter((f) => /^chunk-\d+\.pnf$/.test(f)).sort();
    for (const f of files.slice(0, Math.max(0, files.length - keep))) {
      const p = join(v.out, f);
      if (existsSync(p) && statSync(p).isFile()) unlinkSync(p);
    }
    k++;
  }
}

main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`build-dataset: ${(e as Error).message}\n`); process.exitCode = 1; });
