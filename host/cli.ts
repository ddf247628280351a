/**
 * The `percepnet` command line: `percepnet in.wav -o out.wav`.
 *
 * A thin surface over the library's streaming path: the WAV file is read
 * block by block, each channel denoised on its own by a
 * {@link MultiChannelDenoiser} at the file's rate, time-aligned by
 * {@link AlignedStream} (the same path as `denoiseChannels`), and written
 * block by block in the input's format, so memory stays flat for any
 * length. The output goes through {@link OutputFile}: a temp file renamed
 * into place when complete, or straight into a FIFO or device.
 *
 * Subcommands live in {@link COMMANDS}; `denoise` is the default when the
 * first argument is not a command name.
 */
import { rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { AlignedStream, type ChannelStream } from "./aligned.js";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, fsMessage, speedText, type CliIO } from "./cli-shared.js";
import { OutputFile } from "./output-file.js";
import { MAX_CHANNELS, MultiChannelDenoiser, SUPPORTED_SAMPLE_RATES, type StreamOptions } from "./stream.js";
import { WavFileReader } from "./wav-file.js";
import { checkFinite, encodeFrames, outputFormatFor, wavHeader, WavError } from "./wav.js";

export { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIO };

/** Everything {@link main} depends on, replaceable for tests and embedding. */
export interface CliDeps {
  io: CliIO;
  /**
   * Make the denoiser for a file: `opts.sampleRate` and `opts.channels` are
   * the file's (default: a {@link MultiChannelDenoiser}, which resamples
   * rates other than 48 kHz internally).
   */
  createStream(opts: StreamOptions & { sampleRate: number; channels: number }): Promise<ChannelStream>;
}

/** A subcommand. `run` receives the arguments after the command name. */
export interface Command {
  summary: string;
  usage: string;
  run(args: string[], deps: CliDeps): Promise<number>;
}

/** Files shorter than this get no progress bar: it would only flicker. */
const PROGRESS_MIN_SECONDS = 10;
/** Frames per block read, denoised and written; progress and event-loop turns happen between blocks. */
const BLOCK_SECONDS = 1;
/** Float samples beyond this (+18 dBFS) are clipped by the engine: louder files are scaled down and back up. */
const INPUT_LIMIT = 8;

const DENOISE_USAGE = `Usage: percepnet [denoise] INPUT.wav -o OUTPUT.wav [options]

Removes noise from speech. Each channel is denoised on its own; the output has
the input's sample rate, channel count and length, and is time-aligned with it
(the model's 30 ms latency is compensated). Files of any length are streamed.

Options:
  -o, --output PATH  where to write the result (required); a FIFO or device
                     such as /dev/null is written directly, a symlink's target
                     is replaced, anything else through a temp file + rename
      --model PATH   model file (.pnm) to use instead of the bundled one
      --level on|off the network hears very quiet (or very loud) input at a
                     level it works at; the output keeps the input's level
                     (default: off)
  -f, --force        overwrite OUTPUT if it exists (the input never is)
      --sanitize     replace NaN/Inf float samples with 0 instead of failing
  -q, --quiet        no progress bar, summary or warnings
  -h, --help         show this help
  -V, --version      show the version

Input: WAV (PCM 8/16/24/32-bit, float 32/64-bit, A-law, mu-law; plain or
EXTENSIBLE header), 1 to ${MAX_CHANNELS} channels, at 8, 16, 24, 32, 44.1 or 48 kHz;
other rates are converted to 48 kHz for processing and back (windowed-sinc,
> 80 dB stop band). The output keeps the input's sample format, except that
8-bit, A-law and mu-law inputs are written as 16-bit PCM and float64 as
float32. Float input louder than +18 dBFS is scaled down for processing and
back up (with a warning).

Exit status: 0 success, 1 processing error, 2 usage error.`;

/**
 * Registered subcommands: `denoise` and `oracle` (ideal-gain enhancement
 * from --clean/--noisy pairs). Training tools live in tools/, not here.
 */
export const COMMANDS: Record<string, Command> = {
  denoise: { summary: "denoise a WAV file (default command)", usage: DENOISE_USAGE, run: runDenoise },
  oracle: { summary: "enhance with ideal gains from a clean reference", usage: "see percepnet oracle --help",
    run: async (a, d) => (await import("./cli-oracle.js")).runOracle(a, d) },
};
const DEFAULT_COMMAND = "denoise";
/** Commands that left the product for the lab, with where they went. */
const MOVED: Record<string, string> = {
  dump: "`percepnet dump` (features + training targets of a mix) is a training tool now: from a checkout of the repository run `npm run dump -- --clean CLEAN.wav --noise NOISE.wav -o OUT.pnf` (training/README.md)",
};

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
    createStream: (opts) => MultiChannelDenoiser.create(opts),
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
    if (Object.hasOwn(MOVED, first)) throw new UsageError(MOVED[first]);
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
        level: { type: "string" },
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

/** The input's file, checked up front: it must exist and be a regular file. */
async function checkInput(arg: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(arg);
  } catch (e) {
    throw new CliError(fsMessage("cannot read", arg, e));
  }
  if (!st.isFile()) throw new CliError(`cannot read ${arg}: not a regular file`);
}

async function openWav(arg: string): Promise<WavFileReader> {
  try {
    return await WavFileReader.open(path.resolve(arg));
  } catch (e) {
    if (e instanceof WavError) throw new CliError(`${arg}: ${e.message}`);
    throw new CliError(fsMessage("cannot read", arg, e));
  }
}

/**
 * Ctrl-C or kill must not leave the temp file behind: remove it, then die of
 * the same signal. Armed before the file exists (`watch` names it as it is
 * created), so no moment leaves it unguarded.
 */
function removeOnSignal(): { watch: (file: string) => void; off: () => void } {
  let file: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    // Synchronous: the process dies right after.
    if (file) try { rmSync(file, { force: true }); } catch { /* already gone */ }
    off();
    process.kill(process.pid, sig);
  };
  const off = () => { process.off("SIGINT", onSignal); process.off("SIGTERM", onSignal); };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { watch: (f) => { file = f; }, off };
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
  if (opt.level !== undefined && opt.level !== "on" && opt.level !== "off") throw new UsageError(`--level takes on or off, got ${opt.level}`);
  const level = opt.level === undefined ? {} : { levelNormalize: opt.level === "on" };
  const quiet = opt.quiet ?? false;
  const warn = (msg: string) => { if (!quiet) io.stderr.write(`percepnet: warning: ${msg}\n`); };

  await checkInput(inputArg);
  let out: OutputFile | undefined;
  let offSignals = () => {};
  let reader: WavFileReader | undefined;
  let bar: cliProgress.SingleBar | undefined;
  try {
    let model: Uint8Array | undefined;
    if (opt.model !== undefined) {
      try {
        model = new Uint8Array(await fs.readFile(opt.model));
      } catch (e) {
        throw new CliError(fsMessage("cannot read model file", opt.model, e));
      }
    }
    reader = await openWav(inputArg);
    const { info } = reader;
    if (info.channels > MAX_CHANNELS) {
      throw new CliError(`${inputArg}: ${info.channels} channels; percepnet denoises at most ${MAX_CHANNELS} channels per file (split it first, e.g. with \`sox in.wav out.wav remix 1-${MAX_CHANNELS}\`)`);
    }
    if (!(SUPPORTED_SAMPLE_RATES as readonly number[]).includes(info.sampleRate)) {
      throw new CliError(`the input is sampled at ${info.sampleRate} Hz; supported rates are ${SUPPORTED_SAMPLE_RATES.join(", ")} Hz ` +
        `(convert it first, e.g. \`ffmpeg -i in.wav -ar 48000 in48k.wav\`)`);
    }
    // Opened once the input is known to be readable (a FIFO's reader would
    // otherwise wait on a bad input), before any long work (a full disk or a
    // refused path fails at once).
    const guard = removeOnSignal();
    offSignals = guard.off;
    const output = out = await OutputFile.open(opt.output, { force: opt.force ?? false, inputs: [inputArg], beforeCreate: guard.watch });

    // Float files can hold anything: find NaNs and the peak before any work.
    let gain = 1;
    if (info.format === "float32" || info.format === "float64") {
      let scan;
      try {
        scan = await reader.scanFloat(opt.sanitize ?? false);
      } catch (e) {
        if (e instanceof WavError) throw new CliError(`${inputArg}: ${e.message}`);
        throw e;
      }
      if (scan.nonFinite > 0) warn(`${scan.nonFinite} non-finite samples in ${inputArg} replaced by 0`);
      if (scan.peak > INPUT_LIMIT) {
        gain = 1 / scan.peak;
        warn(`${inputArg} peaks at ${scan.peak.toPrecision(3)} x full scale (${(20 * Math.log10(scan.peak)).toFixed(1)} dBFS), ` +
          `beyond the +18 dBFS the denoiser takes: it was scaled by 1/${scan.peak.toPrecision(3)} for processing and the output scaled back, ` +
          "so the file keeps its level");
      }
    }

    let stream: ChannelStream;
    const setupStart = performance.now();
    try {
      stream = await deps.createStream({ sampleRate: info.sampleRate, channels: info.channels, ...(model ? { model } : {}), ...level });
    } catch (e) {
      throw new CliError(`cannot start the denoiser: ${(e as Error).message}`);
    }
    const setup = (performance.now() - setupStart) / 1000;

    const seconds = info.frames / info.sampleRate;
    if (!quiet && io.stderr.isTTY && seconds > PROGRESS_MIN_SECONDS) {
      bar = new cliProgress.SingleBar({
        stream: io.stderr as NodeJS.WritableStream,
        format: "denoising [{bar}] {percentage}% | {value}/{total} s | ETA {eta}s",
        hideCursor: true,
        clearOnComplete: true,
      }, cliProgress.Presets.shades_classic);
      bar.start(Math.round(seconds), 0);
    }

    const format = outputFormatFor(info);
    const encodeOpts = { sampleRate: info.sampleRate, format, channelMask: info.channelMask };
    await output.write(wavHeader(info.channels, info.frames, encodeOpts));
    const started = performance.now();
    const block = Math.max(1, Math.round(BLOCK_SECONDS * info.sampleRate));
    const buf = Array.from({ length: info.channels }, () => new Float32Array(block));
    const aligned = new AlignedStream(stream);
    let clipped = 0, done = 0;
    const emit = async (y: Float32Array[]) => {
      if ((y[0]?.length ?? 0) === 0) return;
      if (gain !== 1) for (const x of y) for (let i = 0; i < x.length; i++) x[i] /= gain;
      const enc = encodeFrames(y, format);
      clipped += enc.clipped;
      await output.write(enc.bytes);
    };
    for (let n; (n = await reader.read(block, buf)) > 0;) {
      const x = n === block ? buf : buf.map((b) => b.subarray(0, n));
      if (opt.sanitize) checkFinite(x, info.sampleRate, true);
      if (gain !== 1) for (const c of x) for (let i = 0; i < n; i++) c[i] *= gain;
      await emit(aligned.push(x));
      done += n;
      bar?.update(Math.round(done / info.sampleRate));
      // Let the progress bar repaint and signals arrive between blocks.
      await new Promise((r) => setImmediate(r));
    }
    await emit(aligned.end());
    bar?.stop();
    bar = undefined;
    await output.commit();
    if (clipped > 0) warn(`${clipped} samples exceeded full scale and were clipped`);
    if (!quiet) {
      const took = (performance.now() - started) / 1000;
      io.stderr.write(`percepnet: ${inputArg} -> ${opt.output}: ${seconds.toFixed(2)} s, ${info.channels} ch, ` +
        `${info.sampleRate} Hz, ${format}, in ${took.toFixed(2)} s (${speedText(seconds, took)}; ${setup.toFixed(2)} s to load the model)\n`);
    }
    return EXIT_OK;
  } finally {
    bar?.stop();
    offSignals();
    await reader?.close().catch(() => {});
    await out?.abort();
  }
}
