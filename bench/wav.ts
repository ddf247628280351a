/** WAV file I/O for the benchmark scripts: mono files over the product's own reader/writer (host/wav.ts). */
import { readFileSync, writeFileSync } from "node:fs";
import { decodeWav, encodeWav } from "../host/wav.js";

/** A mono signal with its sample rate. */
export interface Audio { samples: Float32Array; sampleRate: number }

/** Read a wav (any format host/wav.ts reads); multi-channel files are averaged to mono. */
export function readWav(path: string): Audio {
  const { info, channels } = decodeWav(new Uint8Array(readFileSync(path)));
  if (channels.length === 1) return { samples: channels[0], sampleRate: info.sampleRate };
  const out = new Float32Array(channels[0].length);
  for (const c of channels) for (let i = 0; i < out.length; i++) out[i] += c[i] / channels.length;
  return { samples: out, sampleRate: info.sampleRate };
}

/** Write mono 16-bit PCM (clipped to [-1, 1]). */
export function writeWav(path: string, samples: Float32Array, sampleRate: number): void {
  writeFileSync(path, encodeWav([samples], { sampleRate, format: "pcm16" }).bytes);
}
