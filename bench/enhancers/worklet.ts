/**
 * @sapphi-red/web-noise-suppressor's AudioWorklet processors (RNNoise SIMD,
 * SpeexDSP preprocessor, GTCRN) run in Node: a minimal stand-in for the
 * AudioWorkletGlobalScope (AudioWorkletProcessor with a port,
 * registerProcessor, sampleRate) lets the unmodified processor files load,
 * and we call process() with 128-sample render quanta like the audio thread.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Enhancer } from "./types.js";

const require = createRequire(import.meta.url);
const QUANTUM = 128;
const PKG = "@sapphi-red/web-noise-suppressor";

interface Processor { process(inputs: Float32Array[][], outputs: Float32Array[][], params: object): boolean; destroy(): void; processor?: unknown }
type ProcessorCtor = new (opts: { processorOptions: Record<string, unknown> }) => Processor;

const registry = new Map<string, ProcessorCtor>();

function installScope(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.registerProcessor) return;
  g.sampleRate = 48000;
  g.currentTime = 0;
  g.AudioWorkletProcessor = class {
    readonly port = { addEventListener() {}, removeEventListener() {}, postMessage() {}, start() {}, onmessage: null };
  };
  g.registerProcessor = (name: string, ctor: ProcessorCtor) => { registry.set(name, ctor); };
}

/**
 * An AudioWorkletGlobalScope has no `process`. The emscripten glue inside the
 * processors probes for Node at instantiation (synchronously, inside the
 * constructor) and, if it finds it, takes a Node path that needs __dirname
 * and installs process-wide exception handlers per instance. Hiding
 * `process` for the duration of the constructor makes it take the browser
 * path it takes in production; wasm bytes are passed in, so that path never
 * fetches anything.
 */
function constructOutsideNode(ctor: ProcessorCtor, opts: { processorOptions: Record<string, unknown> }): Processor {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "process");
  if (!desc?.configurable) return new ctor(opts);
  delete (globalThis as Record<string, unknown>).process;
  try {
    return new ctor(opts);
  } finally {
    Object.defineProperty(globalThis, "process", desc);
  }
}

/** One worklet-based system. */
interface Variant { name: string; worklet: string; id: string; wasm: string }

/** The suppressors shipped by the package (RNNoise in its SIMD build). */
export const WORKLET_VARIANTS: Variant[] = [
  { name: "rnnoise-sapphi-simd", worklet: "rnnoiseWorklet.js", id: "rnnoise", wasm: "rnnoise_simd.wasm" },
  { name: "speex", worklet: "speexWorklet.js", id: "speex", wasm: "speex.wasm" },
  { name: "gtcrn", worklet: "gtcrnWorklet.js", id: "gtcrn", wasm: "gtcrn.wasm" },
];

/** A constructor for one variant's processor, and its wasm bytes. */
async function loadVariant(v: Variant): Promise<() => Promise<Processor>> {
  installScope();
  await import(`${PKG}/${v.worklet}`);
  const ctor = registry.get(`${PKG}/${v.id}`);
  if (!ctor) throw new Error(`${v.worklet} did not register ${PKG}/${v.id}`);
  const wasmBinary = readFileSync(require.resolve(`${PKG}/${v.wasm}`));
  const buffer = wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength);
  return async () => {
    const proc = constructOutsideNode(ctor, { processorOptions: { wasmBinary: buffer, maxChannels: 1 } });
    // The processor instantiates its wasm asynchronously and passes audio
    // through silently until then; wait for it so no input is dropped.
    for (let i = 0; i < 2000 && !proc.processor; i++) await new Promise((r) => setTimeout(r, 1));
    if (!proc.processor) throw new Error(`${v.name}: worklet never became ready`);
    return proc;
  };
}

/**
 * A ready processor of the variant named `name`, as the audio thread holds
 * it: process(in, out) takes one 128-sample render quantum (for timing its
 * steady state call by call, bench/density.ts).
 */
export async function workletProcessor(name: string): Promise<{ process(input: Float32Array, output: Float32Array): void; destroy(): void }> {
  const v = WORKLET_VARIANTS.find((x) => x.name === name);
  if (!v) throw new Error(`no worklet variant ${name}`);
  const proc = await (await loadVariant(v))();
  return { process: (i, o) => { proc.process([[i]], [[o]], {}); }, destroy: () => proc.destroy() };
}

/** Instantiate one worklet processor as an Enhancer. */
export async function createWorklet(v: Variant): Promise<Enhancer> {
  const make = await loadVariant(v);
  return {
    name: v.name,
    async run(x: Float32Array): Promise<Float32Array> {
      const proc = await make();
      const y = new Float32Array(x.length);
      const inBlock = new Float32Array(QUANTUM), outBlock = new Float32Array(QUANTUM);
      try {
        for (let s = 0; s < x.length; s += QUANTUM) {
          const n = Math.min(QUANTUM, x.length - s);
          inBlock.fill(0);
          inBlock.set(x.subarray(s, s + n));
          outBlock.fill(0);
          proc.process([[inBlock]], [[outBlock]], {});
          y.set(outBlock.subarray(0, n), s);
        }
      } finally {
        proc.destroy();
      }
      return y;
    },
  };
}
