// Shared helpers for the node:test suites.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wavefile from "wavefile";
const { WaveFile } = wavefile;
import type { ChannelStream } from "../host/aligned.js";
import { compileWasm } from "../host/wasm.js";
import { Engine, type PercepnetExports, type TestHookExports } from "../host/engine.js";
export { segSnr } from "../bench/metrics/segsnr.js";
export { mix } from "../bench/mix.js";
/** Seeded uniform PRNG (mulberry32). */
export { mulberry32 as rng } from "../lab/dataset/rng.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SHARED = process.env.PERCEPNET_SHARED ?? `${ROOT}../shared`;
export const SAMPLES = `${SHARED}/data/samples`;
/**
 * The test build: the shipped ABI plus the hooks of assembly/test-hooks.ts
 * (scratch buffers and test* blocks, nnet* kernels, modelLayerOutPtr,
 * modelRunRepeat). Never shipped; tests/exports.test.ts checks both lists.
 */
export const TEST_WASM = "build/percepnet-test.wasm";
/** The test build without SIMD, for the SIMD == scalar kernel checks. */
export const SCALAR_TEST_WASM = "build/percepnet-scalar-test.wasm";

let mod: Promise<WebAssembly.Module> | undefined;
export function wasmModule(file = "build/percepnet.wasm"): Promise<WebAssembly.Module> {
  if (file !== "build/percepnet.wasm") return compileWasm(readFileSync(ROOT + file));
  mod ??= compileWasm(readFileSync(ROOT + file));
  return mod;
}
/** A fresh Engine (one instance) of build/percepnet.wasm or `file`. */
export async function wasmEngine(file?: string): Promise<Engine> {
  return new Engine(await wasmModule(file));
}
/**
 * The typed exports of a fresh instance, for the DSP-block tests. Typed with
 * the test hooks (scratch buffers, test* exports); only a test build
 * (TEST_WASM, SCALAR_TEST_WASM) really has them.
 */
export async function wasmInstance(file?: string): Promise<TestHookExports> {
  return (await wasmEngine(file)).exports as TestHookExports;
}
export function f32(ex: PercepnetExports, ptr: number, n: number): Float32Array {
  return new Float32Array(ex.memory.buffer, ptr, n);
}

/** A mono 48 kHz test recording from ../shared/data/samples as floats in [-1, 1). */
export function readSample(name: string): Float32Array {
  const wav = new WaveFile(readFileSync(`${SAMPLES}/${name}`));
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  if (fmt.sampleRate !== 48000 || fmt.numChannels !== 1) throw new Error(`${name}: expected 48 kHz mono`);
  const s = wav.getSamples(false, Float64Array) as unknown as Float64Array;
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] / 32768;
  return out;
}

/** SNR in dB of `y` against reference `x`. */
/** Deterministic uniform noise in [-0.5, 0.5) from a 32-bit LCG: the same signal on every machine. */
export function noise(n: number, seed: number): Float32Array {
  let s = seed;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

export function snrDb(x: Float32Array, y: Float32Array): number {
  let s = 0, e = 0;
  for (let i = 0; i < x.length; i++) { s += x[i] * x[i]; const d = x[i] - y[i]; e += d * d; }
  return 10 * Math.log10(s / Math.max(e, 1e-30));
}

/** Pure delay line per channel honouring the stream contract, independent of the library's denoisers. */
export class DelayStream implements ChannelStream {
  private bufs: Float32Array[];
  constructor(channels: number, readonly delay = 1440) { this.bufs = Array.from({ length: channels }, () => new Float32Array(delay)); }
  process(xs: Float32Array[]): Float32Array[] {
    return xs.map((x, c) => {
      const all = new Float32Array(this.delay + x.length);
      all.set(this.bufs[c]);
      all.set(x, this.delay);
      this.bufs[c] = all.slice(x.length);
      return all.subarray(0, x.length);
    });
  }
  flush(): Float32Array[] {
    const tail = this.bufs;
    this.bufs = tail.map(() => new Float32Array(this.delay));
    return tail;
  }
}
