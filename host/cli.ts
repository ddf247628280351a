/**
 * The `percepnet` command line: `percepnet in.wav -o out.wav`.
 *
 * A thin surface over {@link Denoiser}: WAV in, one denoiser per channel,
 * delay compensated so the output lines up sample for sample with the input,
 * WAV out in the input's format. The output is written to a temporary file
 * beside the target and renamed into place, so a failure never leaves a
 * partial file or damages an existing one.
 *
 * Subcommands live in {@link COMMANDS}; `denoise` is the default when the
 * first argument is not a command name.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { Denoiser, type DenoiserOptions } from "./denoiser.js";
import { resample } from "./resample.js";
import { SUPPORTED_SAMPLE_RATES } from "./stream.js";
import { decodeWav, encodeWav, outputFormatFor, WavError } from "./wav.js";

export const EXIT_OK = 0;
/** Processing failed: unreadable input, bad file, I/O error. */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong or asks for something refused. */
export const EXIT_USAGE = 2;

/** The part of a Denoiser the CLI drives (so tests can inject their own). */
export interface ChannelDenoiser {
  readonly delay: number;
  readonly sampleRate: number;
  process(input: Float32Array): Float32Array;
  flush(): Float32Array;
}

/** Sample-rate converter hook: returns `x` (at `from` Hz) resampled to `to` Hz. */
export type Resampler = (x: Float32Array, from: number, to: number) => Float32Array;

/** Where the CLI writes; `isTTY` on stderr enables the progress bar. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Everything {@link main} depends on, replaceable for tests and embedding. */
export interface CliDeps {
  io: CliIO;
  createDenoiser(opts: DenoiserOptions): Promise<ChannelDenoiser>;
  /** When set, inputs at other rates are converted to the denoiser's rate and back. */
  resample?: Resampler;
}

/** A subcommand. `run` receives the arguments after the command name. */
export interface Command {
  summary: string;
  usage: string;
  run(args: string[], deps: CliDeps): Promise<number>;
}

/** Wrong command line: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {}
/** Processing failure with a message fit for the user, exit code 1. */
export class CliError extends Error {}

/** Files shorter than this get no progress bar: it would only flicker. */
const PROGRESS_MIN_SECONDS = 10;
/** One second at 48 kHz: progress and event-loop turns happen between blocks. */
const BLOCK = 48000;

const DENOISE_USAGE = `Usage: percepnet [denoise] INPUT.wav -o OUTPUT.wav [options]

Removes noise from speech. Each channel is denoised on its own; the output has
the input's sample rate, channel count, length and sample format, and is
time-aligned with it (the model's 30 ms latency is compensated).

Options:
  -o, --output PATH  where to write the result (required)
      --model PATH   model file (.pnm) to use instead of the bundled one
  -f, --force        overwrite OUTPUT if it exists (the input never is)
      --sanitize     replace NaN/Inf float samples with 0 instead of failing
  -q, --quiet        no progress bar, summary or warnings
  -h, --help         show this help
  -V, --version      show the version

Input: WAV (PCM 8/16/24/32-bit, float 32/64-bit, A-law, mu-law; plain or
EXTENSIBLE header) at 8, 16, 24, 32, 44.1 or 48 kHz; other rates are
converted to 48 kHz for processing and back (windowed-sinc, > 80 dB stop band).
8-bit, A-law and mu-law inputs are written as 16-bit PCM, float64 as float32.

Exit status: 0 success, 1 processing error, 2 usage error.`;

/**
 * Registered subcommands. Extension point: `oracle` (ideal-gain enhancement
 * from --clean/--noisy pairs) and `dump` (feature dumps for training) are
 * meant to be added here as further entries.
 */
export const COMMANDS: Record<string, Command> = {
  denoise: { summary: "denoise a WAV file (default command)", usage: DENOISE_USAGE, run: runDenoise },
  oracle: { summary: "enhance with ideal gains from a clean reference", usage: "see percepnet oracle --help",
    run: async (a, d) => (await import("./cli-oracle.js")).runOracle(a, d) },
  dump: { summary: "write features + training targets of a clean/noise mix (.pnf)", usage: "see percepnet dump --help",
    run: async (a, d) => (await import("./cli-dump.js")).runDump(a, d) },
};
const DEFAULT_COMMAND = "denoise";

function topLevelHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const list = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`).join("\n");
  return `percepnet - PercepNet real-time speech enhancement (48 kHz)

Usage: percepnet [COMMAND] ARGS...
       percepnet INPUT.wav -o OUTPUT.wav     (same as: percepnet denoise ...)

Commands:
${list}

Run 'percepnet COMMAND --help' for a command's options.

${DENOISE_USAGE}
`;
}

async function packageVersion(): Promise<string> {
  // dist/host/cli.js -> package root; the same layout holds once installed.
  const pkg = JSON.parse(await fs.readFile(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

function defaultDeps(): CliDeps {
  return {
    io: { stdout: process.stdout, stderr: process.stderr },
    createDenoiser: (opts) => Denoiser.create(opts),
    resample: (x, from, to) => resample(x, from, to),
  };
}

/**
 * Run the CLI with `argv` (without node and script path) and return the exit
 * code; never calls process.exit, so tests and embedders can call it.
 */
export async function main(argv: string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const d: CliDeps = { ...defaultDeps(), ...deps };
  const { io } = d;
  try {
    const first = argv[0];
    if (first === undefined) {
      io.stderr.write(topLevelHelp());
      return EXIT_USAGE;
    }
    if (first === "-h" || first === "--help" || first === "help") {
      io.stdout.write(topLevelHelp());
      return EXIT_OK;
    }
    if (first === "-V" || first === "--version") {
      io.stdout.write(`${await packageVersion()}\n`);
      return EXIT_OK;
    }
    const named = Object.hasOwn(COMMANDS, first);
    return await COMMANDS[named ? first : DEFAULT_COMMAND].run(named ? argv.slice(1) : argv, d);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`percepnet: ${e.message}\nTry 'percepnet --help'.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CliError) {
      io.stderr.write(`percepnet: error: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    io.stderr.write(`percepnet: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT_FAILURE;
  }
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: "string", short: "o" },
        model: { type: "string" },
        force: { type: "boolean", short: "f" },
        sanitize: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Turn a failed fs call into a sentence naming the path and the cause. */
function fsMessage(what: string, file: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    EISDIR: "is a directory",
    ENOTDIR: "a component of the path is not a directory",
    ENOSPC: "no space left on device",
    EEXIST: "already exists",
  };
  return `${what} ${file}: ${(err.code && why[err.code]) ?? err.message}`;
}

async function statOrNull(file: string) {
  try {
    return await fs.stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Run `x` through `den` and return exactly `x.length` samples aligned with
 * `x`: the first `delay` outputs (pipeline fill) are dropped and the flush()
 * tail is appended. Yields to the event loop between blocks so progress bars
 * repaint and signals are handled.
 */
export async function denoiseAligned(
  den: ChannelDenoiser, x: Float32Array, onProgress?: (samples: number) => void, block = BLOCK,
): Promise<Float32Array> {
  const y = new Float32Array(x.length);
  const delay = den.delay;
  let produced = 0;
  const take = (chunk: Float32Array) => {
    // Output sample k is input sample k - delay.
    const start = produced - delay;
    const from = Math.max(0, -start);
    const to = Math.min(chunk.length, x.length - start);
    if (to > from) y.set(chunk.subarray(from, to), start + from);
    produced += chunk.length;
  };
  for (let i = 0; i < x.length; i += block) {
    const input = x.subarray(i, Math.min(i + block, x.length));
    const out = den.process(input);
    if (out.length !== input.length) throw new Error(`denoiser returned ${out.length} samples for ${input.length}`);
    take(out);
    onProgress?.(input.length);
    await new Promise((r) => setImmediate(r));
  }
  const tail = den.flush();
  if (tail.length !== delay) throw new Error(`denoiser flush() returned ${tail.length} samples, its delay is ${delay}`);
  take(tail);
  return y;
}

/**
 * Denoise each channel with its own denoiser, time-aligned and at the input's
 * rate. Inputs at another rate than the denoiser's go through
 * `deps.resample` both ways (an error when no resampler is plugged in).
 * `onProgress` receives seconds of input audio done.
 */
export async function denoiseChannels(
  channels: Float32Array[], sampleRate: number, deps: Pick<CliDeps, "createDenoiser" | "resample">,
  opts: DenoiserOptions = {}, onProgress?: (seconds: number) => void,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const x of channels) {
    let den: ChannelDenoiser;
    try {
      den = await deps.createDenoiser(opts);
    } catch (e) {
      throw new CliError(`cannot start the denoiser: ${(e as Error).message}`);
    }
    const rate = den.sampleRate;
    const resample = deps.resample;
    if (sampleRate === rate) {
      out.push(await denoiseAligned(den, x, (n) => onProgress?.(n / rate)));
    } else if (resample && !(SUPPORTED_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
      throw new CliError(`the input is sampled at ${sampleRate} Hz; supported rates are ${SUPPORTED_SAMPLE_RATES.join(", ")} Hz ` +
        `(convert it first, e.g. \`ffmpeg -i in.wav -ar ${rate} in48k.wav\`)`);
    } else if (resample) {
      const y = await denoiseAligned(den, resample(x, sampleRate, rate), (n) => onProgress?.(n / rate));
      out.push(fitLength(resample(y, rate, sampleRate), x.length));
    } else {
      throw new CliError(`the input is sampled at ${sampleRate} Hz; percepnet works at ${rate} Hz only for now ` +
        `(built-in resampling is coming; meanwhile convert it, e.g. \`ffmpeg -i in.wav -ar ${rate} in48k.wav\`)`);
    }
  }
  return out;
}

function fitLength(x: Float32Array, n: number): Float32Array {
  if (x.length === n) return x;
  const y = new Float32Array(n);
  y.set(x.subarray(0, Math.min(n, x.length)));
  return y;
}

/**
 * Where the output goes: a temp file beside it, opened up front so an
 * unwritable destination fails before any processing.
 */
async function openTemp(output: string, tmp: string) {
  const dir = path.dirname(output);
  try {
    return await fs.open(tmp, "wx");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new CliError(`cannot write ${output}: directory ${dir} does not exist`);
    }
    throw new CliError(fsMessage("cannot write", output, e));
  }
}

/** Move the finished temp file into place; without `force`, never replace a file that appeared meanwhile. */
async function commit(tmp: string, output: string, force: boolean): Promise<void> {
  if (force) {
    await fs.rename(tmp, output);
    return;
  }
  try {
    // link() fails if `output` exists, closing the race between the early check and now.
    await fs.link(tmp, output);
    await fs.unlink(tmp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError(`${output} was created by someone else while processing; not overwritten`);
    // File systems without hard links: fall back to check-then-rename.
    if (await statOrNull(output)) throw new CliError(`${output} was created by someone else while processing; not overwritten`);
    await fs.rename(tmp, output);
  }
}

/**
 * Write `bytes` to `output` through a temp file and a rename, refusing to
 * replace an existing file without `force` and never touching `inputs`.
 */
export async function writeFileAtomically(output: string, bytes: Uint8Array, force: boolean, inputs: string[] = []): Promise<void> {
  const st = await statOrNull(output).catch(() => null);
  if (st) {
    for (const inp of inputs) {
      const ist = await statOrNull(path.resolve(inp)).catch(() => null);
      if (ist && ist.dev === st.dev && ist.ino === st.ino) throw new UsageError(`refusing to write over the input ${inp}`);
    }
    if (st.isDirectory()) throw new UsageError(`output ${output} is a directory`);
    if (!force) throw new UsageError(`output ${output} already exists (use --force to overwrite it)`);
  }
  const tmp = path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await openTemp(output, tmp);
  let done = false;
  try {
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    await commit(tmp, output, force);
    done = true;
  } finally {
    if (!done) { await handle.close().catch(() => {}); await fs.unlink(tmp).catch(() => {}); }
  }
}

async function runDenoise(args: string[], deps: CliDeps): Promise<number> {
  const { values: opt, positionals } = parse(args);
  const { io } = deps;
  if (opt.help) {
    io.stdout.write(DENOISE_USAGE + "\n");
    return EXIT_OK;
  }
  if (opt.version) {
    io.stdout.write(`${await packageVersion()}\n`);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError("missing INPUT.wav");
  if (positionals.length > 1) throw new UsageError(`expected one input file, got ${positionals.length}: ${positionals.join(" ")}`);
  if (!opt.output) throw new UsageError("missing -o OUTPUT.wav");
  const inputArg = positionals[0];
  const input = path.resolve(inputArg);
  const output = path.resolve(opt.output);
  const quiet = opt.quiet ?? false;
  const warn = (msg: string) => { if (!quiet) io.stderr.write(`percepnet: warning: ${msg}\n`); };

  let inStat;
  try {
    inStat = await fs.stat(input);
  } catch (e) {
    throw new CliError(fsMessage("cannot read", inputArg, e));
  }
  if (!inStat.isFile()) throw new CliError(`cannot read ${inputArg}: not a regular file`);
  const outStat = await statOrNull(output).catch(() => null);
  if (outStat) {
    // Same device + inode catches symlinks, hard links and `dir/../` spellings alike.
    if (outStat.dev === inStat.dev && outStat.ino === inStat.ino) {
      throw new UsageError(`refusing to write over the input: ${opt.output} is the same file as ${inputArg}`);
    }
    if (outStat.isDirectory()) throw new UsageError(`output ${opt.output} is a directory`);
    if (!opt.force) throw new UsageError(`output ${opt.output} already exists (use --force to overwrite it)`);
  }

  let model: Uint8Array | undefined;
  if (opt.model !== undefined) {
    try {
      model = new Uint8Array(await fs.readFile(opt.model));
    } catch (e) {
      throw new CliError(fsMessage("cannot read model file", opt.model, e));
    }
  }

  const tmp = path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let committed = false;
  let bar: cliProgress.SingleBar | undefined;
  // Ctrl-C must not leave the temp file behind: remove it, then die of the same signal.
  const onSignal = (sig: NodeJS.Signals) => {
    rmSync(tmp, { force: true });
    removeSignalHandlers();
    process.kill(process.pid, sig);
  };
  const removeSignalHandlers = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await openTemp(output, tmp);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(input);
    } catch (e) {
      throw new CliError(fsMessage("cannot read", inputArg, e));
    }
    let audio;
    try {
      audio = decodeWav(bytes, { sanitize: opt.sanitize });
    } catch (e) {
      if (e instanceof WavError) throw new CliError(`${inputArg}: ${e.message}`);
      throw e;
    }
    const { info } = audio;
    if (audio.sanitized > 0) warn(`${audio.sanitized} non-finite samples in ${inputArg} replaced by 0`);

    const started = performance.now();
    const seconds = info.frames / info.sampleRate;
    if (!quiet && io.stderr.isTTY && seconds > PROGRESS_MIN_SECONDS) {
      bar = new cliProgress.SingleBar({
        stream: io.stderr as NodeJS.WritableStream,
        format: "denoising [{bar}] {percentage}% | {value}/{total} s | ETA {eta}s",
        hideCursor: true,
        clearOnComplete: true,
      }, cliProgress.Presets.shades_classic);
      bar.start(Math.round(seconds * info.channels), 0);
    }
    let doneSeconds = 0;
    const onProgress = (seconds: number) => {
      doneSeconds += seconds;
      bar?.update(Math.round(doneSeconds));
    };

    const out = await denoiseChannels(audio.channels, info.sampleRate, deps, model ? { model } : {}, onProgress);
    bar?.stop();
    bar = undefined;

    const format = outputFormatFor(info);
    const encoded = encodeWav(out, { sampleRate: info.sampleRate, format, channelMask: info.channelMask });
    if (encoded.clipped > 0) warn(`${encoded.clipped} samples exceeded full scale and were clipped`);
    try {
      await handle.writeFile(encoded.bytes);
      await handle.sync();
      await handle.close();
      await commit(tmp, output, opt.force ?? false);
      committed = true;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(fsMessage("cannot write", opt.output, e));
    }
    if (!quiet) {
      const took = (performance.now() - started) / 1000;
      io.stderr.write(`percepnet: ${inputArg} -> ${opt.output}: ${seconds.toFixed(2)} s, ${info.channels} ch, ` +
        `${info.sampleRate} Hz, ${format}, in ${took.toFixed(2)} s (${(seconds / took).toFixed(1)}x real time)\n`);
    }
    return EXIT_OK;
  } finally {
    bar?.stop();
    removeSignalHandlers();
    if (!committed && handle) {
      await handle.close().catch(() => {});
      await fs.unlink(tmp).catch(() => {});
    }
  }
}
