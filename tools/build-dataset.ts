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
 * speed (and pitch), within +-PCT percent. The speech augmentations (speed,
 * pitch, formant warp, EQ, level, low-pass), a band-limited channel and
 * generated stationary noises each have a probability and a range on the
 * command line (--help; training/DATA.md).
 */
import { mkdirSync, readdirSync, unlinkSync, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { Corpus, DEFAULT_CORPUS_ROOT, readExtra, splitCorpus } from "../lab/dataset/corpus.js";
import { DEFAULT_MIXTURE_OPTIONS, mixtureAt, type MixtureOptions } from "../lab/dataset/mixture.js";
import { DEFAULT_SYNTH_NOISE_OPTIONS, parseSynthNoiseKinds, type SynthNoiseKind } from "../lab/dataset/synth-noise.js";
import { FRAME_SIZE } from "../host/denoiser.js";
import { defaultWasmModule } from "../host/wasm.js";
import { dumpFeatures } from "../host/offline.js";
import { PnfWriter } from "../lab/pnf.js";

const USAGE = `usage: build-dataset --out FILE.pnf|DIR [--split train|val] [--n N] [--seed S]
       [--seconds 10] [--snr-min=-5] [--snr-max 40] [--reverb-prob 0.5] [--loop --keep K] [--quiet]
       [--data ${DEFAULT_CORPUS_ROOT}] [--extra-noise DIR ...] [--extra-speech DIR ...] [--noise-speed PCT]
       [--extra-speech-prob P]
       [--speed-prob 0.5] [--speed-pct 10] [--pitch-prob 0] [--pitch-pct 10]
       [--formant-prob 0] [--formant-pct 15] [--eq-prob 0.6] [--eq-db 6]
       [--level-min=-45] [--level-max 10] [--lowpass-prob 0.1] [--show-options]
       [--input-bandlimit-prob 0] [--input-bandlimit-rates 8000,11025,16000,22050,24000,32000]
       [--synth-noise-prob 0] [--synth-noise-kinds all] [--synth-noise-replace-prob 0.5] [--whine-drift 20]

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
one share each). 0 draws nothing: earlier seeds give the same mixtures.
--extra-speech-weight duration|sqrt (default duration): an extra speaker is
drawn in proportion to its duration, or to its square root.
Rows of a folder whose MANIFEST.tsv has a split column (lists made by
training.fetch_extra --from-candidates) are used on their side only: train
rows here, val and test rows never. An extra label that names a corpus
speaker joins that speaker's side: its rows are dropped (with a message)
when that speaker is a validation one.

Speech augmentations, applied to the clean speech before the room and the
noise, so target and input carry the same voice (each P a per-clip
probability; the defaults are those of the shipped pipeline):
--speed-prob P, --speed-pct N (integer 0-50): tempo and pitch together,
  an integer percentage within +-N.
--pitch-prob P, --pitch-pct N (integer 0-50): pitch alone, tempo kept
  (WSOLA time-scaling, then resampling), within +-N percent.
--formant-prob P, --formant-pct N (0-50): vocal-tract-length warp, the
  spectral envelope stretched by a factor within (1 + N/100)^+-1 with the
  harmonics kept.
--eq-prob P, --eq-db DB (0-24): random EQ (low and high shelf, i.e. a tilt,
  and 0-2 peaks, each within +-DB), on the speech and on each noise recording.
--level-min DB, --level-max DB: active level of the target, dB FS (a negative
  value takes an equals sign: --level-min=-30, as for --snr-min).
--lowpass-prob P: random low-pass (4-20 kHz) of the speech; the target
  bands above it are masked.
--input-bandlimit-prob P, --input-bandlimit-rates LIST: the mixture passes a
  channel sampled at one of the rates (Hz), as a narrow-band caller: nothing
  above its pass band reaches the input. The target passes the same channel
  and the bands above the pass band are masked (validBands).
Generated stationary noise (lab/dataset/synth-noise.ts):
--synth-noise-prob P: a clip with noise gets a generated one of
  --synth-noise-kinds (comma list of colour, hum, whine, rumble, fan, or
  all); with --synth-noise-replace-prob it replaces the recordings, else it
  joins them at -20..0 dB. --whine-drift HZ: the whines' largest drift, Hz/s.
New options at probability 0 draw nothing: earlier seeds give the same mixtures.
--show-options prints the mixture options these flags make, as JSON, and
exits without reading any audio (--out is not needed then).`;

class UsageError extends Error {}

function probability(name: string, v: string | undefined): number {
  const p = Number(v);
  if (!(p >= 0 && p <= 1)) throw new UsageError(`--${name} must be a probability from 0 to 1, got ${v}`);
  return p;
}

function percentage(name: string, v: string | undefined, integer: boolean): number {
  const p = Number(v);
  if (!((integer ? Number.isInteger(p) : Number.isFinite(p)) && p >= 0 && p <= 50)) {
    throw new UsageError(`--${name} must be ${integer ? "an integer percentage" : "a percentage"} from 0 to 50, got ${v}`);
  }
  return p;
}

function finite(name: string, v: string | undefined, lo: number, hi: number): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x >= lo && x <= hi)) throw new UsageError(`--${name} must be a number from ${lo} to ${hi}, got ${v}`);
  return x;
}

/** The augmentation options of the command line, checked, as MixtureOptions. */
function augmentationOptions(v: Record<string, string | boolean | string[] | undefined>): Partial<MixtureOptions> {
  const s = (k: string) => v[k] as string | undefined;
  const levelDb: [number, number] = [finite("level-min", s("level-min"), -100, 20), finite("level-max", s("level-max"), -100, 20)];
  if (levelDb[0] > levelDb[1]) throw new UsageError(`--level-min ${levelDb[0]} is above --level-max ${levelDb[1]}`);
  const rates = (s("input-bandlimit-rates") ?? "").split(",").map((r) => Number(r.trim()));
  if (!rates.length || rates.some((r) => !(Number.isInteger(r) && r >= 2000 && r < 48000))) {
    throw new UsageError(`--input-bandlimit-rates must be a comma list of integer sample rates from 2000 to 47999 Hz, got ${s("input-bandlimit-rates")}`);
  }
  let kinds: SynthNoiseKind[];
  try {
    kinds = parseSynthNoiseKinds(s("synth-noise-kinds") ?? "all");
  } catch (e) {
    throw new UsageError(`--synth-noise-kinds: ${(e as Error).message}`);
  }
  return {
    speedProb: probability("speed-prob", s("speed-prob")),
    speedPct: percentage("speed-pct", s("speed-pct"), true),
    pitchProb: probability("pitch-prob", s("pitch-prob")),
    pitchPct: percentage("pitch-pct", s("pitch-pct"), true),
    formantProb: probability("formant-prob", s("formant-prob")),
    formantPct: percentage("formant-pct", s("formant-pct"), false),
    eqProb: probability("eq-prob", s("eq-prob")),
    eqDb: finite("eq-db", s("eq-db"), 0, 24),
    levelDb,
    lowpassProb: probability("lowpass-prob", s("lowpass-prob")),
    inputBandlimitProb: probability("input-bandlimit-prob", s("input-bandlimit-prob")),
    inputBandlimitRates: rates,
    synthNoiseProb: probability("synth-noise-prob", s("synth-noise-prob")),
    synthNoiseKinds: kinds,
    synthNoiseReplaceProb: probability("synth-noise-replace-prob", s("synth-noise-replace-prob")),
    synthNoise: { whineDriftHzPerS: finite("whine-drift", s("whine-drift"), 0, 1000) },
  };
}

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
    "extra-speech-weight": { type: "string", default: "duration" },
    "speed-prob": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.speedProb) },
    "speed-pct": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.speedPct) },
    "pitch-prob": { type: "string", default: "0" },
    "pitch-pct": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.pitchPct) },
    "formant-prob": { type: "string", default: "0" },
    "formant-pct": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.formantPct) },
    "eq-prob": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.eqProb) },
    "eq-db": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.eqDb) },
    "level-min": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.levelDb[0]) },
    "level-max": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.levelDb[1]) },
    "lowpass-prob": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.lowpassProb) },
    "input-bandlimit-prob": { type: "string", default: "0" },
    "input-bandlimit-rates": { type: "string", default: DEFAULT_MIXTURE_OPTIONS.inputBandlimitRates.join(",") },
    "synth-noise-prob": { type: "string", default: "0" },
    "synth-noise-kinds": { type: "string", default: "all" },
    "synth-noise-replace-prob": { type: "string", default: String(DEFAULT_MIXTURE_OPTIONS.synthNoiseReplaceProb) },
    "whine-drift": { type: "string", default: String(DEFAULT_SYNTH_NOISE_OPTIONS.whineDriftHzPerS) },
    "show-options": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  } });
  if (v.help || (!v.out && !v["show-options"])) { process.stderr.write(USAGE + "\n"); return v.help ? 0 : 2; }
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
  const extraSpeechWeight = v["extra-speech-weight"];
  if (extraSpeechWeight !== "duration" && extraSpeechWeight !== "sqrt") {
    process.stderr.write(`--extra-speech-weight must be duration or sqrt, got ${extraSpeechWeight}\n`); return 2;
  }
  let augment: Partial<MixtureOptions>;
  try {
    augment = augmentationOptions(v);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n`); return 2;
  }
  const opts: Partial<MixtureOptions> = {
    ...augment,
    seconds, snrDb: [Number(v["snr-min"]), Number(v["snr-max"])], reverb: Number(v["reverb-prob"]),
    ...(noiseSpeed > 0 ? { noiseSpeedProb: 0.5, noiseSpeedPct: noiseSpeed } : {}),
    ...(extraSpeechProb > 0 ? { extraSpeechProb } : {}),
    ...(extraSpeechWeight !== "duration" ? { extraSpeechWeight } : {}),
  };
  if (v["show-options"]) {
    process.stdout.write(JSON.stringify(opts, null, 2) + "\n");
    return 0;
  }
  if (!v.out) { process.stderr.write(USAGE + "\n"); return 2; }
  // Checked before any audio is read: a wrong --out would otherwise fail only after all the work.
  const outStat = existsSync(v.out) ? statSync(v.out) : undefined;
  if (!v.loop && outStat?.isDirectory()) {
    process.stderr.write(`--out ${v.out} is a folder; without --loop, --out names the .pnf file to write (with --loop, the folder of chunks)\n`); return 2;
  }
  if (v.loop && outStat && !outStat.isDirectory()) {
    process.stderr.write(`--out ${v.out} is a file; with --loop, --out names the folder the chunks go to\n`); return 2;
  }
  const corpus = await Corpus.open(v.data);
  const split = splitCorpus(corpus.entries);
  const lists = split[v.split as "train" | "val"];
  const extra = { noise: v["extra-noise"] ?? [], speech: v["extra-speech"] ?? [] };
  if ((extra.noise.length || extra.speech.length) && v.split !== "train") {
    process.stderr.write("--extra-noise and --extra-speech are for the training split only (the validation split stays fixed)\n"); return 2;
  }
  // An extra speaker label the corpus already has merges with that speaker: fine on the training
  // side, a leak on the validation side, so those rows are dropped.
  const valSpeakers = new Set(split.val.speech.map((e) => e.label));
  for (const kind of ["noise", "speech"] as const) {
    for (const dir of extra[kind]) {
      let rows = readExtra(dir, kind);
      if (kind === "speech") {
        const clash = [...new Set(rows.filter((e) => valSpeakers.has(e.label)).map((e) => e.label))];
        if (clash.length) {
          rows = rows.filter((e) => !valSpeakers.has(e.label));
          if (!v.quiet) process.stderr.write(`build-dataset: ${dir}: left out the rows of validation speakers of the corpus: ${clash.join(", ")}\n`);
        }
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
