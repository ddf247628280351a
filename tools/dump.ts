/**
 * `npm run dump -- --clean c.wav --noise n.wav [--rir r.wav] --snr 5 -o out.pnf`:
 * mix one clean recording with a noise (and optionally a room response) and
 * write the network features and oracle targets of the mixture as a .pnf
 * feature dump (docs/FORMATS.md), computed by the same wasm signal path that
 * runs at inference. The training set builder (tools/build-dataset.ts) does
 * the same for thousands of randomised mixtures.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { dumpFeatures } from "../host/offline.js";
import { PnfWriter } from "../lab/pnf.js";
import { resample } from "../host/resample.js";
import { decodeWav, WavError } from "../host/wav.js";
import { convolve } from "../lab/fft.js";
import { earlyPart, normaliseMeasuredRir } from "../lab/dataset/room.js";
import { activePower, meanPower } from "../lab/dataset/augment.js";
import { pathToFileURL } from "node:url";
import { CliError, UsageError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIO } from "../host/cli-shared.js";

export const DUMP_USAGE = `Usage: npm run dump -- --clean CLEAN.wav --noise NOISE.wav -o OUT.pnf [options]

Mixes CLEAN speech with NOISE (looped or cut to the speech's length) at --snr,
optionally through a room response, and writes the network's features and
the oracle targets (gains, comb strengths, VAD) of every 10 ms frame as a
.pnf feature dump (docs/FORMATS.md) with one sequence.

Options:
  -o, --output PATH     the .pnf to write (required)
      --snr DB          speech-to-noise ratio of the mixture (default 5)
      --rir PATH        room impulse response: the input is reverberant, the
                        target keeps the direct path and the first --early-ms
      --early-ms MS     early reflections kept in the target (default 15)
      --valid-bands N   bands with a meaningful target (default 34; fewer for
                        band-limited speech)
  -f, --force           overwrite OUT if it exists
  -h, --help            show this help`;

async function readMono(file: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(await fs.readFile(file)); } catch (e) { throw new CliError(`cannot read ${file}: ${(e as Error).message}`); }
  try {
    const { info, channels } = decodeWav(bytes);
    const x = channels[0];
    return info.sampleRate === 48000 ? x : resample(x, info.sampleRate, 48000);
  } catch (e) {
    if (e instanceof WavError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

function num(v: string | undefined, name: string, def: number, lo: number, hi: number): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}], got ${v}`);
  return x;
}

export async function runDump(args: string[], deps: { io: CliIO }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: false, options: {
      clean: { type: "string" }, noise: { type: "string" }, rir: { type: "string" }, output: { type: "string", short: "o" },
      snr: { type: "string" }, "early-ms": { type: "string" }, "valid-bands": { type: "string" },
      force: { type: "boolean", short: "f" }, help: { type: "boolean", short: "h" },
    } });
  } catch (e) { throw new UsageError((e as Error).message); }
  const o = parsed.values;
  if (o.help) { deps.io.stdout.write(DUMP_USAGE + "\n"); return EXIT_OK; }
  if (!o.clean || !o.noise || !o.output) throw new UsageError("dump needs --clean, --noise and -o");
  const snr = num(o.snr, "snr", 5, -30, 80);
  const earlyMs = num(o["early-ms"], "early-ms", 15, 0, 200);
  const validBands = num(o["valid-bands"], "valid-bands", 34, 1, 34);
  const output = path.resolve(o.output);
  for (const inp of [o.clean, o.noise, o.rir]) {
    if (inp && path.resolve(inp) === output) throw new UsageError(`refusing to write over the input ${inp}`);
  }
  const exists = await fs.stat(output).then(() => true, () => false);
  if (exists && !o.force) throw new UsageError(`output ${o.output} already exists (use --force to overwrite it)`);

  const speech = await readMono(o.clean);
  if (speech.length < 4800) throw new CliError(`${o.clean}: shorter than 100 ms`);
  const noiseIn = await readMono(o.noise);
  if (noiseIn.length === 0) throw new CliError(`${o.noise}: empty`);
  let target = speech, reverberant = speech;
  if (o.rir) {
    const r = normaliseMeasuredRir(await readMono(o.rir), 48000);
    reverberant = convolve(speech, r.rir).subarray(0, speech.length);
    target = convolve(speech, earlyPart(r, earlyMs)).subarray(0, speech.length);
  }
  const noise = new Float32Array(speech.length);
  for (let i = 0; i < noise.length; i++) noise[i] = noiseIn[i % noiseIn.length];
  const ps = activePower(reverberant), pn = meanPower(noise);
  const g = pn > 0 ? Math.sqrt(ps / (pn * 10 ** (snr / 10))) : 0;
  const noisy = reverberant.map((v, i) => v + g * noise[i]);

  const d = await dumpFeatures(target, noisy);
  if (d.frames < 1) throw new CliError("input too short for one frame");
  const w = await PnfWriter.create(output, 1, d.frames);
  try {
    await w.add(d, validBands, 0);
    await w.close();
  } catch (e) {
    await w.abort();
    throw new CliError(`cannot write ${o.output}: ${(e as Error).message}`);
  }
  deps.io.stderr.write(`dump: ${d.frames} frames (${(d.frames / 100).toFixed(2)} s) at ${snr} dB SNR${o.rir ? " with a room" : ""} -> ${o.output}\n`);
  return EXIT_OK;
}

/** Run the tool with `argv` and return its exit code (0 ok, 1 failure, 2 usage), as the CLI's main() does. */
export async function dumpMain(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    return await runDump(argv, { io });
  } catch (e) {
    if (e instanceof UsageError) { io.stderr.write(`dump: ${e.message}\nTry 'npm run dump -- --help'.\n`); return EXIT_USAGE; }
    if (e instanceof CliError) { io.stderr.write(`dump: error: ${e.message}\n`); return EXIT_FAILURE; }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await dumpMain(process.argv.slice(2));
