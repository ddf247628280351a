/**
 * Whole-buffer helpers over the streaming Denoiser: time-aligned output
 * (the delay removed), the oracle mode, and the training feature dump.
 */
import { Denoiser, type DenoiserOptions, FRAME_SIZE, NB_BANDS, NB_FEATURES } from "./denoiser.js";

/** Denoise a whole 48 kHz mono buffer; the result is time-aligned with the input and has its length. */
export function denoiseBuffer(d: Denoiser, x: Float32Array, clean?: Float32Array): Float32Array {
  const y = new Float32Array(x.length + d.delay);
  y.set(d.process(x, undefined, clean));
  const zeros = clean ? new Float32Array(d.delay) : undefined;
  y.set(d.process(new Float32Array(d.delay), undefined, zeros), x.length);
  d.reset();
  return y.subarray(d.delay);
}

export interface OracleOptions extends Omit<DenoiserOptions, "mode"> {}

/**
 * Enhance `noisy` with the ideal gains and comb strengths computed from
 * `clean` (PercepNet's training targets): an upper bound for the network.
 */
export async function enhanceOracle(clean: Float32Array, noisy: Float32Array, opts: OracleOptions = {}): Promise<Float32Array> {
  if (clean.length !== noisy.length) throw new Error(`percepnet oracle: clean (${clean.length}) and noisy (${noisy.length}) lengths differ`);
  const d = await Denoiser.create({ ...opts, mode: "oracle" });
  return denoiseBuffer(d, noisy, clean);
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
 * the 70 features and the oracle targets. The only feature code the trainer uses.
 */
export async function dumpFeatures(clean: Float32Array, noisy: Float32Array, d?: Denoiser): Promise<FeatureDump> {
  if (clean.length !== noisy.length) throw new Error("percepnet dump: clean and noisy lengths differ");
  const den = d ?? (await Denoiser.create({ mode: "oracle" }));
  den.reset();
  const ex = den.wasm as unknown as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  ex.configure(2, 1, 1, 0, 1);
  const frames = Math.floor(noisy.length / FRAME_SIZE);
  const out: FeatureDump = {
    frames,
    features: new Float32Array(frames * NB_FEATURES),
    gains: new Float32Array(frames * NB_BANDS),
    strengths: new Float32Array(frames * NB_BANDS),
    vad: new Float32Array(frames),
  };
  const energy = new Float32Array(frames);
  const inV = () => new Float32Array(ex.memory.buffer, ex.inputPtr(), FRAME_SIZE);
  const clV = () => new Float32Array(ex.memory.buffer, ex.cleanPtr(), FRAME_SIZE);
  const buf = ex.memory.buffer;
  const feat = new Float32Array(buf, ex.featuresPtr(), NB_FEATURES);
  const g = new Float32Array(buf, ex.oracleGainsPtr(), NB_BANDS);
  const r = new Float32Array(buf, ex.oracleStrengthsPtr(), NB_BANDS);
  const iv = inV(), cv = clV();
  for (let t = 0; t < frames; t++) {
    iv.set(noisy.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
    cv.set(clean.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
    ex.processFrame();
    out.features.set(feat, t * NB_FEATURES);
    out.gains.set(g, t * NB_BANDS);
    out.strengths.set(r, t * NB_BANDS);
    energy[t] = ex.frameCleanEnergy();
  }
  const sorted = Float32Array.from(energy).sort();
  const loud = sorted[Math.floor(0.95 * (sorted.length - 1))] ?? 0;
  const thr = Math.max(VAD_FLOOR, loud * 10 ** (-VAD_RANGE_DB / 10));
  for (let t = 0; t < frames; t++) out.vad[t] = energy[t] > thr ? 1 : 0;
  den.reset();
  return out;
}
