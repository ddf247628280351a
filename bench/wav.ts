/** WAV file I/O for the benchmark scripts (wavefile package), mono float32. */
import { readFileSync, writeFileSync } from "node:fs";
import wavefilePkg from "wavefile";

const { WaveFile } = wavefilePkg as unknown as typeof import("wavefile");

/** A mono signal with its sample rate. */
export interface Audio { samples: Float32Array; sampleRate: number }

/** Read a wav (any bit depth); multi-channel files are averaged to mono, samples in [-1, 1]. */
export function readWav(path: string): Audio {
  const wav = new WaveFile(readFileSync(path));
  wav.toBitDepth("32f");
  const fmt = wav.fmt as { numChannels: number; sampleRate: number };
  const data = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const chans = Array.isArray(data) ? data : [data];
  const n = chans[0].length;
  const out = new Float32Array(n);
  for (const c of chans) for (let i = 0; i < n; i++) out[i] += c[i] / chans.length;
  return { samples: out, sampleRate: fmt.sampleRate };
}

/** Write mono 16-bit PCM (clipped to [-1, 1]). */
export function writeWav(path: string, samples: Float32Array, sampleRate: number): void {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767);
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, "16", pcm);
  writeFileSync(path, wav.toBuffer());
}
