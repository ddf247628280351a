/**
 * Whole-buffer helpers over the streaming Denoiser: time-aligned output
 * (the delay removed), the oracle mode, and the training feature dump.
 * The oracle and the dump run on an Engine of their own: they never
 * reconfigure a caller's Denoiser.
 */
import { Denoiser, DENOISER_OPTION_KEYS, type DenoiserOptions, FRAME_SIZE, NB_BANDS, NB_FEATURES } from "./denoiser.js";
import { alignedProcess, type ChannelStream } from "./aligned.js";
import { Engine } from "./engine.js";
import { checkOptionKeys, describe, needFloat32 } from "./options.js";
import { compileWasm, defaultWasmModule, isWasmSource, type WasmSource } from "./wasm.js";

/**
 * Denoise a whole 48 kHz mono buffer with `d` (then reset); the result is
 * time-aligned with the input and has its length. `clean` is the reference
 * for a Denoiser in oracle mode.
 */
export function denoiseBuffer(d: Denoiser, x: Float32Array, clean?: Float32Array): Float32Array {
  if (!(d instanceof Denoiser)) {
    throw new TypeError(`percepnet: denoiseBuffer() takes a Denoiser first, got ${describe(d)}: ` +
      "call denoiseBuffer(await Denoiser.create(), samples), or (await denoiseChannels([samples]))[0] which makes its own");
  }
  needFloat32("denoiseBuffer(): samples (2nd argument)", x);
  if (clean !== undefined) needFloat32("denoiseBuffer(): clean (3rd argument)", clean);
  if (clean !== undefined && clean.length !== x.length) throw new RangeError(`percepnet: denoiseBuffer(): clean (${clean.length}) and samples (${x.length}) lengths differ`);
  // The same time-aligning path as denoiseChannels and the CLI, over this one Denoiser.
  const stream: ChannelStream = {
    delay: d.delay,
    process: ([block]) => [d.process(block, undefined, clean)],
    flush: () => {
      const zeros = new Float32Array(d.delay);
      const tail = d.process(zeros, undefined, clean ? zeros : undefined);
      d.reset();
      return [tail];
    },
  };
  return alignedProcess(stream, [x])[0];
}

/** Options of {@link enhanceOracle}: a Denoiser's, less the mode (always "oracle"). */
export interface OracleOptions extends Omit<DenoiserOptions, "mode"> {}

const ORACLE_OPTION_KEYS = DENOISER_OPTION_KEYS.filter((k) => k !== "mode");

/** Both signals Float32Array of one length; `fn` names the caller. */
function checkPair(fn: string, clean: unknown, noisy: unknown): void {
  needFloat32(`${fn}: clean (1st argument)`, clean);
  needFloat32(`${fn}: noisy (2nd argument)`, noisy);
  if (clean.length !== noisy.length) throw new RangeError(`percepnet: ${fn}: clean (${clean.length}) and noisy (${noisy.length}) lengths differ`);
}

/**
 * Enhance `noisy` with the ideal gains and comb strengths computed from
 * `clean` (PercepNet's training targets): an upper bound for the network.
 */
export async function enhanceOracle(clean: Float32Array, noisy: Float32Array, opts: OracleOptions = {}): Promise<Float32Array> {
  checkPair("enhanceOracle()", clean, noisy);
  checkOptionKeys("enhanceOracle()", opts, ORACLE_OPTION_KEYS, { mode: "enhanceOracle always runs in oracle mode" });
  const d = await Denoiser.create({ ...opts, mode: "oracle" });
  return denoiseBuffer(d, noisy, clean);
}

/** Options of {@link dumpFeatures}. */
export interface DumpOptions {
  /** percepnet.wasm to run (default: the one shipped in build/). */
  wasm?: WasmSource;
}

/** Per-frame network inputs and oracle targets of one (clean, noisy) pair. */
export interface FeatureDump {
  frames: number;
  /** frames x 70 */
  features: Float32Array;
  /** frames x 34, the targets of frame t - 2 (aligned with the network output at t) */
  gains: Float32Array;
  strengths: Float32Array;
  /** frames: voice activity of frame t - 2 from the clean energy */
  vad: Float32Array;
}

/** Frames whose clean energy is within this range of the loud frames count as speech. */
const VAD_RANGE_DB = 30;
/** Below this frame energy (16-bit units, about -90 dBFS) nothing is speech. */
const VAD_FLOOR = 1e-2;

/**
 * Run the wasm signal path over a (clean, noisy) pair and collect, per frame,
 * the 70 features and the oracle targets. The only feature code the trainer
 * uses. Runs on an Engine of its own; given a Denoiser as third argument (as
 * older callers do) it only reuses that Denoiser's compiled module.
 */
export async function dumpFeatures(clean: Float32Array, noisy: Float32Array, opts: DumpOptions | Denoiser = {}): Promise<FeatureDump> {
  checkPair("dumpFeatures()", clean, noisy);
  let module: WebAssembly.Module;
  if (opts instanceof Denoiser) module = opts.engine.module;
  else {
    checkOptionKeys("dumpFeatures()", opts, ["wasm"]);
    if (opts.wasm !== undefined && !isWasmSource(opts.wasm)) throw new TypeError(`percepnet: dumpFeatures(): wasm must be a WebAssembly.Module, bytes, path or URL, got ${describe(opts.wasm)}`);
    module = opts.wasm !== undefined ? await compileWasm(opts.wasm) : await defaultWasmModule();
  }
  const eng = new Engine(module);
  // The features at the input's own level: the shipped models were trained on them.
  eng.configure({ mode: "oracle", comb: true, postfilter: true, minGain: 0, levelNormalize: false });
  const frames = Math.floor(noisy.length / FRAME_SIZE);
  const out: FeatureDump = {
    frames,
    features: new Float32Array(frames * NB_FEATURES),
    gains: new Float32Array(frames * NB_BANDS),
    strengths: new Float32Array(frames * NB_BANDS),
    vad: new Float32Array(frames),
  };
  const energy = new Float32Array(frames);
  const { input, clean: cleanIn, featureVector, oracleGains, oracleStrengths } = eng;
  for (let t = 0; t < frames; t++) {
    input.set(noisy.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
    cleanIn.set(clean.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
    eng.runFrame();
    out.features.set(featureVector, t * NB_FEATURES);
    out.gains.set(oracleGains, t * NB_BANDS);
    out.strengths.set(oracleStrengths, t * NB_BANDS);
    energy[t] = eng.cleanEnergy;
  }
  const sorted = Float32Array.from(energy).sort();
  const loud = sorted[Math.floor(0.95 * (sorted.length - 1))] ?? 0;
  const thr = Math.max(VAD_FLOOR, loud * 10 ** (-VAD_RANGE_DB / 10));
  for (let t = 0; t < frames; t++) out.vad[t] = energy[t] > thr ? 1 : 0;
  return out;
}
