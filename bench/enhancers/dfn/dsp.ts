/**
 * The signal path around DeepFilterNet3's three ONNX graphs, written here
 * from the description of libDF (Rikorose/DeepFilterNet, MIT/Apache-2.0):
 * what its DFState does (Vorbis-window STFT, ERB band energies, exponential
 * mean and unit normalisation, band gains) and what the Python model's
 * forward pass does around the encoder and decoders (feature lookahead
 * shift, mask over all bins, deep filter on the lowest bins). No ONNX here:
 * everything in this file is tested without the graphs.
 *
 * Conventions follow libDF so the graphs see the features they were trained
 * on: analysis scaled by 1 / (fft_size^2 / (2 hop)), unscaled inverse,
 * window applied on both sides (Vorbis window: w[n]^2 + w[n+hop]^2 = 1, so
 * analysis + synthesis reconstructs the input delayed by fft_size - hop).
 */

/** What the official DeepFilterNet3 export's config.ini states (the [df] and [deepfilternet] values we depend on). */
export interface DfnConfig {
  sr: number;
  fftSize: number;
  hopSize: number;
  nbErb: number;
  nbDf: number;
  normTau: number;
  minNbErbFreqs: number;
  dfOrder: number;
  dfLookahead: number;
  convLookahead: number;
}

export const DFN3_CONFIG: Readonly<DfnConfig> = Object.freeze({
  sr: 48000, fftSize: 960, hopSize: 480, nbErb: 32, nbDf: 96, normTau: 1,
  minNbErbFreqs: 2, dfOrder: 5, dfLookahead: 2, convLookahead: 2,
});

/** Keys of config.ini ("section.key") checked against DFN3_CONFIG. */
const INI_KEYS: Record<keyof DfnConfig, string> = {
  sr: "df.sr", fftSize: "df.fft_size", hopSize: "df.hop_size", nbErb: "df.nb_erb", nbDf: "df.nb_df",
  normTau: "df.norm_tau", minNbErbFreqs: "df.min_nb_erb_freqs", dfOrder: "df.df_order",
  dfLookahead: "df.df_lookahead", convLookahead: "deepfilternet.conv_lookahead",
};

/** Parse an INI file into "section.key" -> value. */
export function parseIni(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { section = s[1].trim().toLowerCase(); continue; }
    const eq = line.indexOf("=");
    if (eq > 0) out.set(`${section}.${line.slice(0, eq).trim().toLowerCase()}`, line.slice(eq + 1).trim());
  }
  return out;
}

/**
 * The differences between a config.ini and DFN3_CONFIG, as "key: expected
 * X, found Y" lines; empty when the file describes the model this code is
 * written for (model = deepfilternet3 and every value above).
 */
export function configMismatches(ini: Map<string, string>, want: Readonly<DfnConfig> = DFN3_CONFIG): string[] {
  const bad: string[] = [];
  const model = ini.get("train.model");
  if (model !== "deepfilternet3") bad.push(`train.model: expected deepfilternet3, found ${model ?? "nothing"}`);
  for (const [k, key] of Object.entries(INI_KEYS) as [keyof DfnConfig, string][]) {
    const v = ini.get(key);
    if (v === undefined || Number(v) !== want[k]) bad.push(`${key}: expected ${want[k]}, found ${v ?? "nothing"}`);
  }
  return bad;
}

/**
 * Exponential normalisation factor for a time constant tau (s), rounded as
 * libDF rounds it: to 3 decimals, or more if that rounds up to 1
 * (0.99 for 10 ms hops and tau = 1 s).
 */
export function normAlpha(sr: number, hop: number, tau: number): number {
  const a0 = Math.exp(-hop / sr / tau);
  for (let digits = 3; ; digits++) {
    const s = 10 ** digits;
    const a = Math.round(a0 * s) / s;
    if (a < 1) return a;
  }
}

/** Vorbis window of length n: sin(pi/2 sin^2(pi (i + 0.5) / n)). */
export function vorbisWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  const half = n / 2;
  for (let i = 0; i < n; i++) {
    const s = Math.sin((0.5 * Math.PI * (i + 0.5)) / half);
    w[i] = Math.sin(0.5 * Math.PI * s * s);
  }
  return w;
}

// --- FFT of any length whose factors are 2, 3 and 5 -------------------------

/** Complex FFT of a fixed length n = 2^a 3^b 5^c (960 for DFN3): mixed-radix decimation in time. */
export class MixedFft {
  readonly n: number;
  private readonly factors: number[] = [];
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly tRe = new Float64Array(5);
  private readonly tIm = new Float64Array(5);

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`MixedFft: bad length ${n}`);
    this.n = n;
    let m = n;
    // Larger radices first keeps the recursion shallow; 4 is done as 2 x 2.
    for (const p of [5, 3, 2]) while (m % p === 0) { this.factors.push(p); m /= p; }
    if (m !== 1) throw new Error(`MixedFft: ${n} has a prime factor other than 2, 3, 5`);
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / n);
      this.sin[j] = -Math.sin((2 * Math.PI * j) / n);
    }
  }

  /** out = DFT(in) (forward, unscaled). in and out must not alias. */
  forward(inRe: Float64Array, inIm: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
    this.rec(this.n, inRe, inIm, 0, 1, outRe, outIm, 0, 0);
  }

  private rec(n: number, xr: Float64Array, xi: Float64Array, off: number, stride: number,
    yr: Float64Array, yi: Float64Array, yOff: number, fi: number): void {
    if (n === 1) { yr[yOff] = xr[off]; yi[yOff] = xi[off]; return; }
    const p = this.factors[fi];
    const m = n / p;
    for (let q = 0; q < p; q++) this.rec(m, xr, xi, off + q * stride, stride * p, yr, yi, yOff + q * m, fi + 1);
    // X[k + s m] = sum_q W_n^{q (k + s m)} Y_q[k], W_n^j = table[j N / n].
    const N = this.n, step = N / n, { cos, sin, tRe, tIm } = this;
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const j = (q * k * step) % N;
        const ar = yr[yOff + q * m + k], ai = yi[yOff + q * m + k];
        tRe[q] = ar * cos[j] - ai * sin[j];
        tIm[q] = ar * sin[j] + ai * cos[j];
      }
      for (let s = 0; s < p; s++) {
        let sr = 0, si = 0;
        for (let q = 0; q < p; q++) {
          const j = (q * s * m * step) % N;
          sr += tRe[q] * cos[j] - tIm[q] * sin[j];
          si += tRe[q] * sin[j] + tIm[q] * cos[j];
        }
        yr[yOff + k + s * m] = sr;
        yi[yOff + k + s * m] = si;
      }
    }
  }
}

// --- STFT -------------------------------------------------------------------

/** A one-sided spectrogram: frames x bins, re/im interleaved per frame ([t][f][2] flattened). */
export interface Spectrogram { frames: number; bins: number; data: Float32Array }

/**
 * libDF's streaming analysis over a whole signal: frame t windows the
 * samples [t hop - (fft - hop), t hop + hop) (zeros before the start), so one
 * frame per whole hop of input; the spectrum is scaled by 2 hop / fft^2.
 */
export function stft(x: Float32Array, cfg: Readonly<DfnConfig> = DFN3_CONFIG): Spectrogram {
  const { fftSize: n, hopSize: hop } = cfg;
  const bins = n / 2 + 1, frames = Math.floor(x.length / hop);
  const w = vorbisWindow(n), fft = new MixedFft(n);
  const wnorm = (2 * hop) / (n * n);
  const re = new Float64Array(n), im = new Float64Array(n), Xr = new Float64Array(n), Xi = new Float64Array(n);
  const data = new Float32Array(frames * bins * 2);
  for (let t = 0; t < frames; t++) {
    const start = (t + 1) * hop - n;
    for (let i = 0; i < n; i++) {
      const k = start + i;
      re[i] = k >= 0 ? x[k] * w[i] : 0;
      im[i] = 0;
    }
    fft.forward(re, im, Xr, Xi);
    const o = t * bins * 2;
    for (let f = 0; f < bins; f++) { data[o + 2 * f] = Xr[f] * wnorm; data[o + 2 * f + 1] = Xi[f] * wnorm; }
  }
  return { frames, bins, data };
}

/**
 * libDF's streaming synthesis: unscaled inverse FFT of each frame (the
 * imaginary parts of DC and Nyquist ignored), windowed, overlap-added; frame
 * t yields the samples [t hop, (t + 1) hop). Output: frames x hop samples.
 * stft then istft reproduces the input delayed by fft - hop samples.
 */
export function istft(spec: Spectrogram, cfg: Readonly<DfnConfig> = DFN3_CONFIG): Float32Array {
  const { fftSize: n, hopSize: hop } = cfg;
  const { frames, bins, data } = spec;
  if (bins !== n / 2 + 1) throw new Error(`istft: ${bins} bins for fft size ${n}`);
  const w = vorbisWindow(n), fft = new MixedFft(n);
  const re = new Float64Array(n), im = new Float64Array(n), yr = new Float64Array(n), yi = new Float64Array(n);
  const mem = new Float64Array(n - hop);
  const out = new Float32Array(frames * hop);
  for (let t = 0; t < frames; t++) {
    const o = t * bins * 2;
    // Inverse through the forward transform: ifft(X) = conj(fft(conj(X))); Hermitian extension.
    for (let f = 0; f < bins; f++) { re[f] = data[o + 2 * f]; im[f] = -data[o + 2 * f + 1]; }
    im[0] = 0; im[bins - 1] = 0;
    for (let f = bins; f < n; f++) { re[f] = re[n - f]; im[f] = -im[n - f]; }
    fft.forward(re, im, yr, yi);
    for (let i = 0; i < n; i++) yr[i] *= w[i];
    for (let i = 0; i < hop; i++) out[t * hop + i] = yr[i] + (i < mem.length ? mem[i] : 0);
    // Shift the overlap memory by one hop and add this frame's tail.
    const rest = n - hop;
    for (let i = 0; i < rest; i++) {
      const carried = i + hop < rest ? mem[i + hop] : 0;
      mem[i] = carried + yr[hop + i];
    }
  }
  return out;
}

// --- ERB bands and features ---------------------------------------------------

function freqToErb(hz: number): number { return 9.265 * Math.log1p(hz / (24.7 * 9.265)); }
function erbToFreq(erb: number): number { return 24.7 * 9.265 * (Math.exp(erb / 9.265) - 1); }

/**
 * Widths (in FFT bins) of libDF's ERB bands: nbErb bands equally spaced on
 * the ERB scale from 0 Hz to Nyquist, each at least minNbErbFreqs bins wide
 * (bins lent to a narrow band are taken back from the next), the last band
 * extended to end at the Nyquist bin. They sum to fft/2 + 1.
 */
export function erbWidths(cfg: Readonly<DfnConfig> = DFN3_CONFIG): number[] {
  const { sr, fftSize, nbErb, minNbErbFreqs } = cfg;
  const binHz = sr / fftSize;
  const lo = freqToErb(0), hi = freqToErb(sr / 2), step = (hi - lo) / nbErb;
  const widths: number[] = [];
  let prev = 0, over = 0;
  for (let i = 1; i <= nbErb; i++) {
    const edge = Math.round(erbToFreq(lo + i * step) / binHz);
    let w = edge - prev - over;
    if (w < minNbErbFreqs) { over = minNbErbFreqs - w; w = minNbErbFreqs; } else over = 0;
    widths.push(w);
    prev = edge;
  }
  widths[nbErb - 1] += 1;
  const excess = widths.reduce((a, b) => a + b, 0) - (fftSize / 2 + 1);
  if (excess > 0) widths[nbErb - 1] -= excess;
  return widths;
}

/** libDF's initial states: mean norm linear from -60 to -90 dB over bands, unit norm from 1e-3 to 1e-4 over bins. */
export function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? a : a + ((b - a) * i) / (n - 1);
  return out;
}

/**
 * ERB features [frames x nbErb]: mean power per band in dB
 * (10 log10(mean |X|^2 + 1e-10)), minus an exponential running mean
 * (s = alpha s + (1 - alpha) x, state from -60 to -90 dB), divided by 40.
 */
export function erbFeatures(spec: Spectrogram, widths: readonly number[], alpha: number): Float32Array {
  const nb = widths.length, { frames, bins, data } = spec;
  const state = linspace(-60, -90, nb);
  const out = new Float32Array(frames * nb);
  for (let t = 0; t < frames; t++) {
    let f = 0;
    const o = t * bins * 2;
    for (let b = 0; b < nb; b++) {
      let e = 0;
      for (let j = 0; j < widths[b]; j++, f++) {
        const re = data[o + 2 * f], im = data[o + 2 * f + 1];
        e += re * re + im * im;
      }
      const db = 10 * Math.log10(e / widths[b] + 1e-10);
      state[b] = db * (1 - alpha) + state[b] * alpha;
      out[t * nb + b] = (db - state[b]) / 40;
    }
  }
  return out;
}

/**
 * Exponential unit normalisation of the first nbDf bins, in place on a copy:
 * s = alpha s + (1 - alpha) |X|, X / sqrt(s), state from 1e-3 to 1e-4.
 * Returned in the encoder's layout [2][frames][nbDf] (real plane, then
 * imaginary plane), the export's feat_spec of shape [1, 2, T, nbDf].
 */
export function unitNormFeatures(spec: Spectrogram, nbDf: number, alpha: number): Float32Array {
  const { frames, bins, data } = spec;
  const state = linspace(1e-3, 1e-4, nbDf);
  const out = new Float32Array(2 * frames * nbDf);
  const imPlane = frames * nbDf;
  for (let t = 0; t < frames; t++) {
    const o = t * bins * 2;
    for (let f = 0; f < nbDf; f++) {
      const re = data[o + 2 * f], im = data[o + 2 * f + 1];
      state[f] = Math.hypot(re, im) * (1 - alpha) + state[f] * alpha;
      const g = 1 / Math.sqrt(state[f]);
      out[t * nbDf + f] = re * g;
      out[imPlane + t * nbDf + f] = im * g;
    }
  }
  return out;
}

/**
 * The model's feature lookahead (pad_feat in DeepFilterNet3's forward): the
 * encoder's input at frame t is the feature of frame t + shift, zeros past
 * the end. `feat` is laid out as planes of [frames][width].
 */
export function shiftFrames(feat: Float32Array, frames: number, width: number, shift: number): Float32Array {
  const planes = feat.length / (frames * width);
  const out = new Float32Array(feat.length);
  for (let p = 0; p < planes; p++) {
    const base = p * frames * width;
    out.set(feat.subarray(base + shift * width, base + frames * width), base);
  }
  return out;
}

// --- applying the model's outputs --------------------------------------------

/**
 * The enhanced spectrum from the decoders' outputs, as DeepFilterNet3's
 * forward pass builds it:
 *  - every bin multiplied by its ERB band's gain (gains: [frames x nbErb]);
 *  - then bins below nbDf replaced by the deep filter on the unmasked
 *    spectrum, Y[t,f] = sum_{i<order} X[t - order + 1 + lookahead + i, f] C[t,i,f]
 *    (complex product, frames outside the signal are zero), with coefs laid
 *    out as the df_dec output [frames][nbDf][order][2].
 */
export function applyModel(spec: Spectrogram, widths: readonly number[], gains: Float32Array, coefs: Float32Array,
  cfg: Readonly<DfnConfig> = DFN3_CONFIG): Spectrogram {
  const { frames, bins, data } = spec;
  const { nbDf, dfOrder: order, dfLookahead: la } = cfg;
  const nb = widths.length;
  if (gains.length !== frames * nb) throw new Error(`applyModel: ${gains.length} gains for ${frames} frames x ${nb} bands`);
  if (coefs.length !== frames * nbDf * order * 2) throw new Error(`applyModel: ${coefs.length} coefficients for ${frames} frames`);
  const out = new Float32Array(data.length);
  for (let t = 0; t < frames; t++) {
    const o = t * bins * 2;
    let f = 0;
    for (let b = 0; b < nb; b++) {
      const g = gains[t * nb + b];
      for (let j = 0; j < widths[b]; j++, f++) {
        out[o + 2 * f] = data[o + 2 * f] * g;
        out[o + 2 * f + 1] = data[o + 2 * f + 1] * g;
      }
    }
    for (let k = 0; k < nbDf; k++) {
      let yr = 0, yi = 0;
      for (let i = 0; i < order; i++) {
        const s = t - order + 1 + la + i;
        if (s < 0 || s >= frames) continue;
        const xr = data[s * bins * 2 + 2 * k], xi = data[s * bins * 2 + 2 * k + 1];
        const c = ((t * nbDf + k) * order + i) * 2;
        const cr = coefs[c], ci = coefs[c + 1];
        yr += xr * cr - xi * ci;
        yi += xr * ci + xi * cr;
      }
      out[o + 2 * k] = yr;
      out[o + 2 * k + 1] = yi;
    }
  }
  return { frames, bins, data: out };
}
