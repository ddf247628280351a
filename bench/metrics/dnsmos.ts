/**
 * DNSMOS P.835 (Reddy et al., ICASSP 2022): non-intrusive SIG / BAK / OVRL
 * scores from the DNS Challenge's sig_bak_ovr.onnx, run with onnxruntime-node.
 *
 * Procedure as published with the challenge: resample to 16 kHz, repeat a
 * clip shorter than 9.01 s until it is long enough, score 9.01 s windows with
 * a 1 s hop, map each window's raw outputs through per-metric quadratics, and
 * average over windows.
 */
import { resample } from "../../host/resample.js";

/** Mapped (MOS-scale) and raw model outputs, averaged over windows. */
export interface DnsmosScore {
  sig: number; bak: number; ovrl: number;
  sigRaw: number; bakRaw: number; ovrlRaw: number;
  windows: number;
}

const SR = 16000;
const INPUT_SECONDS = 9.01;
const WINDOW = Math.floor(INPUT_SECONDS * SR); // 144160

/**
 * Published quadratic maps from raw model output to the P.835 scale
 * (non-personalised model), as c2 x^2 + c1 x + c0.
 */
const POLY = {
  sig: [-0.08397278, 1.22083953, 0.0052439],
  bak: [-0.13166888, 1.60915514, -0.39604546],
  ovrl: [-0.06766283, 1.11546468, 0.04602535],
} as const;

function poly2(c: readonly number[], x: number): number {
  return (c[0] * x + c[1]) * x + c[2];
}

/** Default location of the model, relative to the project checkout. */
export const DEFAULT_DNSMOS_MODEL = "../shared/models/dnsmos/sig_bak_ovr.onnx";

/** A loaded DNSMOS P.835 model. */
export class Dnsmos {
  private constructor(private readonly session: import("onnxruntime-node").InferenceSession,
    private readonly ort: typeof import("onnxruntime-node"), private readonly inputName: string) {}

  /** Load the ONNX model (single-threaded: the metric runs beside other jobs). */
  static async load(modelPath = DEFAULT_DNSMOS_MODEL): Promise<Dnsmos> {
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential",
    });
    return new Dnsmos(session, ort, session.inputNames[0]);
  }

  /** Score a mono signal at `fs` Hz. */
  async score(x: ArrayLike<number>, fs: number): Promise<DnsmosScore> {
    let audio = fs === SR ? Float32Array.from(x) : resample(x, fs, SR);
    const actualLen = audio.length;
    if (actualLen === 0) throw new Error("dnsmos: empty signal");
    while (audio.length < WINDOW) {
      const doubled = new Float32Array(audio.length * 2);
      doubled.set(audio); doubled.set(audio, audio.length);
      audio = doubled;
    }
    const hops = Math.trunc(Math.floor(audio.length / SR) - INPUT_SECONDS) + 1;
    const acc = { sig: 0, bak: 0, ovrl: 0, sigRaw: 0, bakRaw: 0, ovrlRaw: 0 };
    let windows = 0;
    for (let h = 0; h < hops; h++) {
      const start = h * SR;
      if (start + WINDOW > audio.length) continue;
      const seg = audio.slice(start, start + WINDOW);
      const out = await this.session.run({ [this.inputName]: new this.ort.Tensor("float32", seg, [1, WINDOW]) });
      const raw = out[this.session.outputNames[0]].data as Float32Array;
      const [s, b, o] = [raw[0], raw[1], raw[2]];
      acc.sigRaw += s; acc.bakRaw += b; acc.ovrlRaw += o;
      acc.sig += poly2(POLY.sig, s); acc.bak += poly2(POLY.bak, b); acc.ovrl += poly2(POLY.ovrl, o);
      windows++;
    }
    return {
      sig: acc.sig / windows, bak: acc.bak / windows, ovrl: acc.ovrl / windows,
      sigRaw: acc.sigRaw / windows, bakRaw: acc.bakRaw / windows, ovrlRaw: acc.ovrlRaw / windows,
      windows,
    };
  }
}
