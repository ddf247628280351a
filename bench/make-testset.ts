/**
 * Build a small synthetic test set from the shared samples:
 *
 *   node dist/bench/make-testset.js --out DIR [--snrs 0,5,10,20] [--n 3] [--seed 1]
 *        [--seconds 10] [--speech WAV] [--noise WAV] [--rir WAV] [--no-reverb]
 *
 * For each SNR, N mixtures of a random crop of the clean speech with the noise
 * (looped, random start) scaled to that SNR (whole-signal power ratio), at a
 * random speech level of -25 +/- 5 dBFS. One extra reverberant mixture
 * (speech convolved with the RIR, 10 dB SNR) is added; its clean reference is
 * the reverberant speech, since the systems compared suppress noise, not
 * reverberation. Writes DIR/clean/*.wav, DIR/noisy/*.wav (same names,
 * "snr<dB>" in the name) and DIR/snr-map.json. Audio stays out of the repo.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fft, nextPow2 } from "../lab/fft.js";
import { readWav, writeWav } from "./wav.js";
import { resample } from "../host/resample.js";
import { mulberry32 as rng } from "../lab/dataset/rng.js";
const FS = 48000;
const SAMPLES = "../shared/data/samples";


function load(path: string): Float32Array {
  const { samples, sampleRate } = readWav(path);
  return sampleRate === FS ? samples : resample(samples, sampleRate, FS);
}

function power(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s / x.length;
}

/** Linear convolution via FFT, truncated to x's length. */
function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const size = nextPow2(x.length + h.length);
  const ar = new Float64Array(size), ai = new Float64Array(size);
  const br = new Float64Array(size), bi = new Float64Array(size);
  ar.set(x); br.set(h);
  fft(ar, ai); fft(br, bi);
  for (let k = 0; k < size; k++) {
    const re = ar[k] * br[k] - ai[k] * bi[k];
    ai[k] = ar[k] * bi[k] + ai[k] * br[k];
    ar[k] = re;
  }
  fft(ar, ai, true);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = ar[i] / size;
  return y;
}

function parse(argv: string[]) {
  const o = {
    out: "", snrs: [0, 5, 10, 20], n: 3, seed: 1, seconds: 10, reverb: true,
    speech: join(SAMPLES, "speech_clean_freesound_33711.wav"),
    noise: join(SAMPLES, "noise_freesound_573577.wav"),
    rir: join(SAMPLES, "rir_sim_rt60_0.79.wav"),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => argv[++i];
    if (k === "--out") o.out = v();
    else if (k === "--snrs") o.snrs = v().split(",").map(Number);
    else if (k === "--n") o.n = Number(v());
    else if (k === "--seed") o.seed = Number(v());
    else if (k === "--seconds") o.seconds = Number(v());
    else if (k === "--speech") o.speech = v();
    else if (k === "--noise") o.noise = v();
    else if (k === "--rir") o.rir = v();
    else if (k === "--no-reverb") o.reverb = false;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!o.out) throw new Error("--out DIR is required");
  if (o.snrs.some((s) => !Number.isFinite(s))) throw new Error("--snrs must be numbers");
  return o;
}

function main(): void {
  const o = parse(process.argv.slice(2));
  const speech = load(o.speech), noise = load(o.noise);
  const rand = rng(o.seed);
  const len = Math.min(speech.length, Math.round(o.seconds * FS));
  mkdirSync(join(o.out, "clean"), { recursive: true });
  mkdirSync(join(o.out, "noisy"), { recursive: true });
  const snrMap: Record<string, number> = {};

  const mix = (name: string, clean: Float32Array, snr: number) => {
    const start = Math.floor(rand() * noise.length);
    const nz = new Float32Array(clean.length);
    for (let i = 0; i < nz.length; i++) nz[i] = noise[(start + i) % noise.length];
    const levelDb = -25 + 10 * (rand() - 0.5);
    const gS = Math.sqrt(Math.pow(10, levelDb / 10) / power(clean));
    const gN = gS * Math.sqrt(power(clean) / (power(nz) * Math.pow(10, snr / 10)));
    const c = clean.map((v) => v * gS);
    const y = c.map((v, i) => v + gN * nz[i]);
    // Scale both together if the mixture would clip, preserving the SNR.
    let peak = 0;
    for (const v of y) peak = Math.max(peak, Math.abs(v));
    if (peak > 0.99) { const g = 0.99 / peak; c.forEach((v, i) => (c[i] = v * g)); y.forEach((v, i) => (y[i] = v * g)); }
    writeWav(join(o.out, "clean", name), c, FS);
    writeWav(join(o.out, "noisy", name), y, FS);
    snrMap[name] = snr;
  };

  const crop = () => {
    const s = Math.floor(rand() * (speech.length - len + 1));
    return speech.slice(s, s + len);
  };
  for (const snr of o.snrs) {
    for (let i = 0; i < o.n; i++) mix(`snr${snr}_${String(i).padStart(3, "0")}.wav`, crop(), snr);
  }
  if (o.reverb) {
    const rir = load(o.rir);
    mix("reverb_snr10_000.wav", convolve(crop(), rir), 10);
  }
  writeFileSync(join(o.out, "snr-map.json"), JSON.stringify(snrMap, null, 1));
  console.log(`wrote ${Object.keys(snrMap).length} pairs to ${o.out}/{clean,noisy}`);
}

main();
