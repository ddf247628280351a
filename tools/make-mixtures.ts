/**
 * Writes numbered (clean, noisy) mixture pairs as 48 kHz WAV files, e.g. an
 * evaluation set:
 *
 *   node dist/tools/make-mixtures.js --out eval/snr --split val --snrs 0,5,10,20 --reverb --n 40 --seed 1
 *
 * Produces OUT/clean/NAME.wav and OUT/noisy/NAME.wav (same names) and
 * OUT/mixtures.json with every clip's metadata.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { Corpus, DEFAULT_CORPUS_ROOT, splitCorpus } from "../lab/dataset/corpus.js";
import { encodeWav } from "../host/wav.js";
import { mixtureAt, REVERB_ONLY, VALIDATION_SEED, type MixtureOptions } from "../lab/dataset/mixture.js";

const USAGE = `usage: make-mixtures --out DIR [--split train|val] [--n N] [--seed S]
       [--snrs 0,5,10,20] [--reverb | --no-reverb | --reverb-only] [--seconds 10]
       [--format f32|s16] [--data ${DEFAULT_CORPUS_ROOT}]`;

/** Encodes mono 48 kHz audio as a WAV file (IEEE float32, or 16-bit PCM clipped to full scale). */
export function encodeMono(x: Float32Array, fs: number, format: "f32" | "s16"): Uint8Array {
  return encodeWav([x], { sampleRate: fs, format: format === "f32" ? "float32" : "pcm16" }).bytes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      split: { type: "string", default: "val" },
      n: { type: "string", default: "20" },
      seed: { type: "string" },
      snrs: { type: "string" },
      reverb: { type: "boolean", default: false },
      "no-reverb": { type: "boolean", default: false },
      "reverb-only": { type: "boolean", default: false },
      seconds: { type: "string", default: "10" },
      format: { type: "string", default: "f32" },
      data: { type: "string", default: DEFAULT_CORPUS_ROOT },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.out) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const split = values.split;
  const format = values.format;
  if ((split !== "train" && split !== "val") || (format !== "f32" && format !== "s16")) {
    console.error(USAGE);
    process.exit(2);
  }
  const n = Number(values.n);
  const seed = values.seed !== undefined ? Number(values.seed) : VALIDATION_SEED;
  const snrs = values.snrs ? values.snrs.split(",").map(Number) : null;
  if (!Number.isInteger(n) || n < 1 || !Number.isFinite(seed) || (snrs && snrs.some((v) => !Number.isFinite(v)))) {
    console.error(USAGE);
    process.exit(2);
  }
  const base: Partial<MixtureOptions> = { seconds: Number(values.seconds) };
  if (values["reverb-only"]) Object.assign(base, REVERB_ONLY);
  else if (values.reverb) base.reverb = true;
  else if (values["no-reverb"]) base.reverb = false;

  const corpus = Corpus.open(values.data);
  const lists = splitCorpus(corpus.entries)[split];
  const out = values.out;
  mkdirSync(join(out, "clean"), { recursive: true });
  mkdirSync(join(out, "noisy"), { recursive: true });
  const bar = new cliProgress.SingleBar(
    { format: "mixtures [{bar}] {value}/{total} | {eta_formatted} left | {name}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(n, 0, { name: "" });
  const meta = [];
  let synthMs = 0;
  let synthCpuMs = 0;
  for (let i = 0; i < n; i++) {
    // SNRs cycle so a set of k*len(snrs) clips has k clips at each SNR.
    const snr = snrs ? snrs[i % snrs.length] : null;
    const opts = snr === null ? base : { ...base, fixedSnrDb: snr };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const m = await mixtureAt(corpus, lists, seed, i, opts);
    const cu = process.cpuUsage(c0);
    synthMs += performance.now() - t0;
    synthCpuMs += (cu.user + cu.system) / 1000;
    const name = `${split}_${String(i).padStart(4, "0")}${snr === null ? "" : `_snr${snr}`}.wav`;
    writeFileSync(join(out, "clean", name), encodeMono(m.clean, 48000, format));
    writeFileSync(join(out, "noisy", name), encodeMono(m.noisy, 48000, format));
    meta.push({ name, index: i, ...m.meta });
    bar.update(i + 1, { name });
  }
  bar.stop();
  corpus.close();
  writeFileSync(
    join(out, "mixtures.json"),
    JSON.stringify({ split, seed, n, options: { ...base, snrs }, format, sampleRate: 48000, clips: meta }, null, 1),
  );
  // Synthesis only (decoding and file writing excluded), to track the generator's cost.
  console.error(
    `wrote ${n} pairs to ${out}; synthesis ${(synthMs / n).toFixed(0)} ms wall, ` +
      `${(synthCpuMs / n).toFixed(0)} ms CPU per mixture (first use of a file includes its FLAC decode)`,
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
