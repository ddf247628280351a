/**
 * DeepFilterNet3 (Schröter et al., 2023) as an evaluation peer: the official
 * ONNX export (enc.onnx, erb_dec.onnx, df_dec.onnx and its config.ini, from
 * models/DeepFilterNet3_onnx.tar.gz of github.com/Rikorose/DeepFilterNet) run
 * with onnxruntime-node, with the STFT, features and filtering around the
 * graphs written here (dfn/dsp.ts).
 *
 * The graphs are never part of this repository: they are read from the folder
 * given by --dfn3-dir (eval) or the PERCEPNET_DFN3_DIR environment variable,
 * and checked against the SHA-256 of the official export's files. Without
 * them the factory throws EnhancerUnavailable and the eval skips the peer.
 *
 * The whole signal goes through the graphs at once, as DeepFilterNet's own
 * Python `enhance()` does (the encoder and decoders are causal, so this is
 * what frame-by-frame streaming would give, minus libDF's per-frame LSNR
 * gating, which the Python path and its published DNSMOS figures do not use).
 * Like `enhance(pad=True)`, the input is padded by one FFT size and the
 * output advanced by fft - hop samples, so the result is time-aligned
 * (delay 0) with the input.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { applyModel, configMismatches, DFN3_CONFIG, erbFeatures, erbWidths, istft, normAlpha, parseIni, shiftFrames, stft, unitNormFeatures } from "./dfn/dsp.js";
import { EnhancerUnavailable, type Enhancer } from "./types.js";

/** Environment variable naming the folder of the DeepFilterNet3 graphs. */
export const DFN3_ENV = "PERCEPNET_DFN3_DIR";

/** SHA-256 of the files in the official DeepFilterNet3_onnx.tar.gz (tmp/export/). */
export const DFN3_FILES: Readonly<Record<string, string>> = Object.freeze({
  "enc.onnx": "7c5399d3da8a50ebef1c1a0ae421b33376aa5e45d0e92df16da7e83c9c131916",
  "erb_dec.onnx": "ab669a1d10afe20911728b33053a452071042317a90581092b325da7b2f9d895",
  "df_dec.onnx": "23114ce3b0f6464b763ee62f7bb8aab6b2a129a21eabd5bcfe59413db05f278a",
  "config.ini": "415eb925d44990d938fb739f514aa3662c1ec0ea836cff044fa1291b82cb4290",
});

const WHERE =
  "unpack enc.onnx, erb_dec.onnx, df_dec.onnx and config.ini from models/DeepFilterNet3_onnx.tar.gz of " +
  "https://github.com/Rikorose/DeepFilterNet (under tmp/export/ in the archive) into a folder outside the " +
  `repository and name it with --dfn3-dir DIR or ${DFN3_ENV}=DIR (docs/EVALUATION.md)`;

export interface Dfn3Options {
  /** Folder holding the graphs; default: the PERCEPNET_DFN3_DIR environment variable. */
  dir?: string;
  name?: string;
}

/**
 * Check a folder for the official export: every file present, hashes as
 * pinned, config.ini stating the values dfn/dsp.ts is written for. Returns
 * the problems, empty when the folder is usable.
 */
export function checkDfn3Dir(dir: string): string[] {
  const missing = Object.keys(DFN3_FILES).filter((f) => !existsSync(join(dir, f)));
  if (missing.length) return [`${missing.join(", ")} not found in ${dir}`];
  const problems: string[] = [];
  for (const [f, sha] of Object.entries(DFN3_FILES)) {
    const got = createHash("sha256").update(readFileSync(join(dir, f))).digest("hex");
    if (got !== sha) problems.push(`${f} is not the official export's (sha256 ${got.slice(0, 12)}…, expected ${sha.slice(0, 12)}…)`);
  }
  problems.push(...configMismatches(parseIni(readFileSync(join(dir, "config.ini"), "utf8"))).map((m) => `config.ini ${m}`));
  return problems;
}

type Ort = typeof import("onnxruntime-node");
type Session = import("onnxruntime-node").InferenceSession;

/** Create the DeepFilterNet3 peer, or throw EnhancerUnavailable saying what is missing and where to get it. */
export async function createDeepFilterNet3(opts: Dfn3Options = {}): Promise<Enhancer> {
  const given = opts.dir ?? process.env[DFN3_ENV];
  if (!given) throw new EnhancerUnavailable(`dfn3: no DeepFilterNet3 graphs (--dfn3-dir / ${DFN3_ENV} not set): ${WHERE}`);
  const dir = resolve(given);
  const problems = checkDfn3Dir(dir);
  if (problems.length) throw new EnhancerUnavailable(`dfn3: ${problems.join("; ")}: ${WHERE}`);
  let ort: Ort;
  try {
    ort = await import("onnxruntime-node");
  } catch (e) {
    throw new EnhancerUnavailable(`dfn3: onnxruntime-node cannot be loaded: ${(e as Error).message}`);
  }
  // Single-threaded: the eval runs beside other jobs, and RTF is reported per thread.
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" as const };
  const [enc, erbDec, dfDec] = await Promise.all(["enc", "erb_dec", "df_dec"].map((g) => ort.InferenceSession.create(join(dir, `${g}.onnx`), options)));
  const cfg = DFN3_CONFIG;
  const widths = erbWidths(cfg);
  const alpha = normAlpha(cfg.sr, cfg.hopSize, cfg.normTau);
  const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor("float32", data, dims);
  const out = async (s: Session, feeds: Record<string, import("onnxruntime-node").Tensor>) => s.run(feeds);

  return {
    name: opts.name ?? "dfn3",
    delay: 0,
    async run(x: Float32Array): Promise<Float32Array> {
      const n = x.length;
      if (n === 0) return new Float32Array(0);
      const padded = new Float32Array(n + cfg.fftSize);
      padded.set(x);
      const spec = stft(padded, cfg);
      const T = spec.frames;
      const featErb = shiftFrames(erbFeatures(spec, widths, alpha), T, cfg.nbErb, cfg.convLookahead);
      const featSpec = shiftFrames(unitNormFeatures(spec, cfg.nbDf, alpha), T, cfg.nbDf, cfg.convLookahead);
      const e = await out(enc, { feat_erb: tensor(featErb, [1, 1, T, cfg.nbErb]), feat_spec: tensor(featSpec, [1, 2, T, cfg.nbDf]) });
      const m = await out(erbDec, { emb: e.emb, e3: e.e3, e2: e.e2, e1: e.e1, e0: e.e0 });
      const c = await out(dfDec, { emb: e.emb, c0: e.c0 });
      const enhanced = applyModel(spec, widths, m.m.data as Float32Array, c.coefs.data as Float32Array, cfg);
      const y = istft(enhanced, cfg);
      // Advance by the STFT's delay (fft - hop): the output lines up with the input.
      const d = cfg.fftSize - cfg.hopSize;
      return y.slice(d, d + n);
    },
    dispose() {
      for (const s of [enc, erbDec, dfDec]) void s.release();
    },
  };
}
