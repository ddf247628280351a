/**
 * `percepnet oracle --clean c.wav --noisy n.wav -o out.wav`: enhance noisy
 * audio with the ideal gains and comb strengths computed from the clean
 * reference (the network's training targets), optionally without the comb
 * filter or the postfilter, to check what each part buys.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { enhanceOracle } from "./offline.js";
import { decodeWav, encodeWav, outputFormatFor, WavError, type WavAudio } from "./wav.js";
import { CliError, UsageError, EXIT_OK, speedText, type CliIO } from "./cli-shared.js";
import { writeOutput } from "./output-file.js";

export const ORACLE_USAGE = `Usage: percepnet oracle --clean CLEAN.wav --noisy NOISY.wav -o OUTPUT.wav [options]

Enhances NOISY with ideal per-band gains and comb strengths computed from the
time-aligned CLEAN reference: the upper bound the network is trained towards.

Options:
  -o, --output PATH    where to write the result (required)
      --no-comb        band gains only, no pitch comb filter
      --no-postfilter  no envelope postfilter
  -f, --force          overwrite OUTPUT if it exists
  -q, --quiet          no summary line
  -h, --help           show this help`;

async function readWav(file: string): Promise<WavAudio> {
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(await fs.readFile(file)); } catch (e) { throw new CliError(`cannot read ${file}: ${(e as Error).message}`); }
  try { return decodeWav(bytes); } catch (e) {
    if (e instanceof WavError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

export async function runOracle(args: string[], deps: { io: CliIO }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: false, options: {
      clean: { type: "string" }, noisy: { type: "string" }, output: { type: "string", short: "o" },
      "no-comb": { type: "boolean" }, "no-postfilter": { type: "boolean" },
      force: { type: "boolean", short: "f" }, quiet: { type: "boolean", short: "q" }, help: { type: "boolean", short: "h" },
    } });
  } catch (e) { throw new UsageError((e as Error).message); }
  const o = parsed.values;
  if (o.help) { deps.io.stdout.write(ORACLE_USAGE + "\n"); return EXIT_OK; }
  if (!o.clean || !o.noisy || !o.output) throw new UsageError("oracle needs --clean, --noisy and -o");
  const output = path.resolve(o.output);
  for (const inp of [o.clean, o.noisy]) {
    if (path.resolve(inp) === output) throw new UsageError(`refusing to write over the input ${inp}`);
  }
  const [clean, noisy] = await Promise.all([readWav(o.clean), readWav(o.noisy)]);
  const { info } = noisy;
  if (info.sampleRate !== 48000 || clean.info.sampleRate !== 48000) throw new CliError("oracle: both files must be 48 kHz");
  if (clean.info.channels !== info.channels || clean.info.frames !== info.frames) {
    throw new CliError(`oracle: clean (${clean.info.channels} ch, ${clean.info.frames} samples) and noisy (${info.channels} ch, ${info.frames} samples) must match`);
  }
  const started = performance.now();
  const out: Float32Array[] = [];
  for (let c = 0; c < info.channels; c++) {
    out.push(await enhanceOracle(clean.channels[c], noisy.channels[c], { comb: !o["no-comb"], postfilter: !o["no-postfilter"] }));
  }
  const encoded = encodeWav(out, { sampleRate: info.sampleRate, format: outputFormatFor(info), channelMask: info.channelMask });
  await writeOutput(o.output, encoded.bytes, o.force ?? false, [o.clean, o.noisy]);
  if (!o.quiet) {
    const seconds = info.frames / info.sampleRate;
    const took = (performance.now() - started) / 1000;
    const parts = [o["no-comb"] ? "no comb" : "comb", o["no-postfilter"] ? "no postfilter" : "postfilter"].join(", ");
    deps.io.stderr.write(`percepnet oracle: ${o.noisy} (clean ${o.clean}) -> ${o.output}: ${seconds.toFixed(2)} s, ${info.channels} ch, ` +
      `ideal gains with ${parts}, in ${took.toFixed(2)} s (${speedText(seconds, took)})\n`);
  }
  return EXIT_OK;
}
