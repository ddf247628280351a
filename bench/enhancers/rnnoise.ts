/**
 * RNNoise builds from npm, driven frame by frame through their emscripten
 * exports (rnnoise_create / rnnoise_process_frame), as in a native app:
 * 480-sample (10 ms at 48 kHz) frames in int16 scale.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Enhancer } from "./types.js";

const require = createRequire(import.meta.url);
const FRAME = 480;

interface RnnoiseModule {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(state: number): void;
  _rnnoise_process_frame(state: number, out: number, input: number): number;
}

type Factory = (opts?: Record<string, unknown>) => Promise<RnnoiseModule>;

/** One RNNoise variant: which npm module, and how to instantiate it in Node. */
interface Variant { name: string; specifier: string; wasm?: string }

/** The RNNoise builds we compare against. */
export const RNNOISE_VARIANTS: Variant[] = [
  // Jitsi ships two builds: the sync one embeds a newer RNNoise model.
  { name: "rnnoise-jitsi-sync", specifier: "@jitsi/rnnoise-wasm/dist/rnnoise-sync.js" },
  { name: "rnnoise-jitsi", specifier: "@jitsi/rnnoise-wasm/dist/rnnoise.js", wasm: "@jitsi/rnnoise-wasm/dist/rnnoise.wasm" },
  { name: "rnnoise-echogarden", specifier: "@echogarden/rnnoise-wasm" },
];

/** Instantiate one RNNoise variant as an Enhancer. */
export async function createRnnoise(v: Variant): Promise<Enhancer> {
  const factory = (await import(v.specifier)).default as Factory;
  // The classic Jitsi build fetches its .wasm by URL, which Node's fetch
  // cannot do for a relative path: hand it the bytes instead.
  const opts = v.wasm ? { wasmBinary: readFileSync(require.resolve(v.wasm)) } : {};
  const mod = await factory(opts);
  const inPtr = mod._malloc(FRAME * 4);
  const outPtr = mod._malloc(FRAME * 4);
  return {
    name: v.name,
    async run(x: Float32Array): Promise<Float32Array> {
      const state = mod._rnnoise_create(0);
      const y = new Float32Array(x.length);
      const frame = new Float32Array(FRAME);
      try {
        for (let s = 0; s < x.length; s += FRAME) {
          frame.fill(0);
          const n = Math.min(FRAME, x.length - s);
          for (let i = 0; i < n; i++) frame[i] = x[s + i] * 32768;
          mod.HEAPF32.set(frame, inPtr >> 2);
          mod._rnnoise_process_frame(state, outPtr, inPtr);
          const out = mod.HEAPF32.subarray(outPtr >> 2, (outPtr >> 2) + n);
          for (let i = 0; i < n; i++) y[s + i] = out[i] / 32768;
        }
      } finally {
        mod._rnnoise_destroy(state);
      }
      return y;
    },
    dispose() { mod._free(inPtr); mod._free(outPtr); },
  };
}
