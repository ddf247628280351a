/**
 * Before/after spectrograms of one held-out clip for README.md and
 * docs/RESULTS.md: the noisy input, each chosen system's output (aligned as
 * bench/eval.ts aligns it) and the clean speech, on one dB scale:
 *
 *   node dist/tools/heldout-figure.js --set DIR/T [--file NAME.wav]
 *        [--systems ours=default,dfn3=DeepFilterNet3] [--model PNM] [--dfn3-dir DIR]
 *        [--out DIR/heldout-spectrogram.png]
 *
 * DIR is the folder of `npm run eval:heldout` (its set S holds S/clean and
 * S/noisy). The clip defaults to the first of condition `dry-snr5` (the
 * clip eval.js plots); --out defaults to heldout-spectrogram.png in DIR,
 * where `npm run readme:sections -- --heldout DIR` takes it from. Runs the
 * systems on that one clip only (seconds); the scores come from the reports.
 */
import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { advance, estimateDelay } from "../bench/align.js";
import { ENHANCERS } from "../bench/enhancers/index.js";
import { createDeepFilterNet3 } from "../bench/enhancers/deepfilternet.js";
import { createOurs } from "../bench/enhancers/ours.js";
import { plotSpectrograms } from "../bench/plots.js";
import { readWav } from "../bench/wav.js";
import { resample } from "../host/resample.js";
import { conditionOf } from "../bench/report.js";
import { FIGURE_NAME, parseSystems } from "./heldout-tables.js";

const FS = 48000;
const TAIL = Math.round(0.2 * FS);

/** The clip to show: the first of condition dry-snr5, else the first file. */
export function defaultClip(files: string[]): string | undefined {
  const sorted = [...files].sort();
  return sorted.find((f) => conditionOf(f) === "dry-snr5") ?? sorted[0];
}

function load48k(path: string): Float32Array {
  const { samples, sampleRate } = readWav(path);
  return sampleRate === FS ? samples : resample(samples, sampleRate, FS);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: "string" }, file: { type: "string" }, systems: { type: "string", default: "ours=default,dfn3=DeepFilterNet3" },
      model: { type: "string" }, "dfn3-dir": { type: "string" }, out: { type: "string" },
    },
  });
  if (!values.set) throw new Error("give --set DIR/T (a set folder of npm run eval:heldout)");
  const systems = parseSystems(values.systems, 1);
  const files = readdirSync(join(values.set, "clean")).filter((f) => f.toLowerCase().endsWith(".wav"));
  const file = values.file ?? defaultClip(files);
  if (!file) throw new Error(`no clips in ${join(values.set, "clean")}`);
  const clean = load48k(join(values.set, "clean", file));
  const noisy = load48k(join(values.set, "noisy", file));
  const n = Math.min(clean.length, noisy.length);
  const ref = clean.subarray(0, n);
  const padded = new Float32Array(n + TAIL);
  padded.set(noisy.subarray(0, n));
  const signals = [{ name: "noisy input (before)", x: noisy.subarray(0, n) }];
  for (const s of systems) {
    const f = ENHANCERS.get(s.name);
    if (!f) throw new Error(`unknown system "${s.name}"; known: ${[...ENHANCERS.keys()].join(", ")}`);
    const sys = s.name === "ours" ? await createOurs({ model: values.model })
      : s.name === "dfn3" ? await createDeepFilterNet3({ dir: values["dfn3-dir"] }) : await f();
    const y = await sys.run(padded, undefined);
    sys.dispose?.();
    signals.push({ name: `${s.label} (after)`, x: advance(y, sys.delay ?? estimateDelay(ref, y, TAIL)).subarray(0, n) });
  }
  signals.push({ name: "clean speech", x: ref });
  const out = values.out ?? join(dirname(resolve(values.set)), FIGURE_NAME);
  plotSpectrograms(out, `Set ${basename(resolve(values.set))}, ${file}: before and after`, signals);
  console.error(`heldout-figure: wrote ${out} (${signals.map((s) => s.name).join(", ")})`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, "/"))) {
  main().catch((e) => { console.error(`heldout-figure: ${(e as Error).message}`); process.exit(2); });
}
