/**
 * Speed of our own pipeline: the whole 10 ms frame, each stage on its own
 * (through the wasm's test* and model* exports), the host framing layer, the
 * cost against network width, and memory after a long run.
 */
import { performance } from "node:perf_hooks";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Denoiser, DEFAULT_MODEL_URL } from "../host/denoiser.js";
import { Engine } from "../host/engine.js";
import { parseModelFile, weightCount, type ParsedModel } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { fullGc, median, quantile } from "./timing.js";

const HOP = 480;
/** The wasm works in 16-bit full scale internally; test* blocks get the same scale. */
const SCALE = 32768;


/**
 * The model to benchmark: `path`, else weights/default.pnm if it exists,
 * else a random model of width 256 (cost depends on the shape, not on the
 * weights), with a description saying which.
 */
export function benchModel(path?: string): { bytes: Uint8Array; model: ParsedModel; label: string } {
  const def = DEFAULT_MODEL_URL ? fileURLToPath(DEFAULT_MODEL_URL) : "";
  const file = path ?? (def && existsSync(def) ? def : null);
  const bytes = file ? new Uint8Array(readFileSync(file)) : randomModelFile(makeConfig(256), 1);
  const model = parseModelFile(bytes);
  const c = model.config;
  const what = file ? (path ?? "weights/default.pnm") : "random model (weights/default.pnm not found), width 256";
  return { bytes, model, label: `${what}: gru ${c.gru} x ${c.gruLayers}, conv ${c.conv1.out}/${c.conv2.out}, ${(weightCount(c) / 1e6).toFixed(2)} M weights` };
}

/** Per-frame cost of the whole pipeline, in microseconds. */
export interface FrameCost { median: number; mean: number; p99: number; frames: number }

/** Median, mean and 99th percentile of per-frame samples. */
export function summarise(t: number[]): FrameCost {
  return { median: median(t), mean: t.reduce((a, b) => a + b, 0) / t.length, p99: quantile(t, 0.99), frames: t.length };
}

/** Produces samples (microseconds) each time it is called. */
export type Sampler = () => number[];

/**
 * Run every sampler once per round, in turn, and collect their samples; the
 * first round is warm-up and discarded. Interleaving makes all of them see
 * the same machine: on a shared machine the speed drifts over seconds, and
 * measuring A then B would put that drift into the ratio A/B.
 */
export function rotate(samplers: Record<string, Sampler>, rounds: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const k of Object.keys(samplers)) out[k] = [];
  for (let r = 0; r <= rounds; r++) {
    for (const [k, f] of Object.entries(samplers)) {
      const t = f();
      if (r > 0) out[k].push(...t);
    }
  }
  return out;
}

/** Frame `i` of `audio`, looping over it, as a view (no copy). */
function frameAt(audio: Float32Array, i: number): Float32Array {
  const n = Math.floor(audio.length / HOP);
  const s = (i % n) * HOP;
  return audio.subarray(s, s + HOP);
}

/** A fresh instance of `module` with `model` loaded (or none) and network mode on (unity without a model). */
export function rawInstance(module: WebAssembly.Module, model: ParsedModel | null): Engine {
  const eng = new Engine(module);
  if (model) eng.loadModel(model);
  eng.configure({ mode: model ? "network" : "unity", comb: true, postfilter: true, minGain: 0 });
  return eng;
}

/**
 * processFrame() called directly, `n` frames per call, each timed on its
 * own; the copies in and out are included, as the least any host must do.
 */
export function rawFrames(eng: Engine, audio: Float32Array, n: number): Sampler {
  // Views taken once (the model is loaded, memory no longer grows): the loop is the least any host does.
  const inV = eng.input, outV = eng.output;
  const out = new Float32Array(HOP);
  let i = 0;
  return () => {
    const t: number[] = [];
    for (let k = 0; k < n; k++, i++) {
      const a = performance.now();
      inV.set(frameAt(audio, i));
      eng.runFrame();
      out.set(outV);
      t.push((performance.now() - a) * 1000);
    }
    return t;
  };
}

/** Denoiser.process() on 10 ms chunks, `n` frames per call, each timed. */
export function denoiserFrames(d: Denoiser, audio: Float32Array, n: number): Sampler {
  const out = new Float32Array(HOP);
  let i = 0;
  return () => {
    const t: number[] = [];
    for (let k = 0; k < n; k++, i++) {
      const x = frameAt(audio, i);
      const a = performance.now();
      d.process(x, out);
      t.push((performance.now() - a) * 1000);
    }
    return t;
  };
}

/**
 * Denoiser.process() on `chunk`-sample blocks (128 = an AudioWorklet render
 * quantum), or anything with such a process(input, output) (a peer's
 * AudioWorklet processor, bench/density.ts). The calls are timed in groups that span whole frames (for 128:
 * 15 calls = 4 frames, under a millisecond), `groups` per call, as the cost
 * per 10 ms: short intervals, so their median is comparable to the per-frame
 * medians.
 */
export function denoiserChunks(d: Pick<Denoiser, "process"> | { process(input: Float32Array, output: Float32Array): void }, audio: Float32Array, chunk: number, groups: number): Sampler {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const span = (chunk * HOP) / gcd(chunk, HOP); // samples in a whole number of calls and of frames
  const calls = span / chunk, frames = span / HOP;
  const out = new Float32Array(chunk);
  let pos = 0;
  return () => {
    const t: number[] = [];
    for (let g = 0; g < groups; g++) {
      if (pos + span > audio.length) pos = 0;
      const a = performance.now();
      for (let k = 0; k < calls; k++, pos += chunk) d.process(audio.subarray(pos, pos + chunk), out);
      t.push(((performance.now() - a) * 1000) / frames);
    }
    return t;
  };
}

/**
 * `samples` timings of `k` back-to-back calls of `fn`, each as microseconds
 * per call. `k` keeps an interval around 10-100 us: long enough for the
 * clock, short enough that most intervals are not interrupted, so the
 * median is the undisturbed cost, the same statistic as the per-frame one.
 */
function perCall(fn: () => void, k: number, samples: number): Sampler {
  return () => {
    const t: number[] = [];
    for (let s = 0; s < samples; s++) {
      const a = performance.now();
      for (let i = 0; i < k; i++) fn();
      t.push(((performance.now() - a) * 1000) / k);
    }
    return t;
  };
}

/** One stage of the per-frame breakdown. */
export interface Stage { name: string; calls: string; us: number }

/**
 * Samplers for each stage of processFrame(), as microseconds per frame: each
 * block timed on its own and multiplied by how often one frame runs it
 * (assembly/frame.ts):
 *   STFT:   4 analyses (window + 960-pt real FFT: frames t and t-2, each plain and comb-filtered) + 1 synthesis
 *   bands:  4 band energies + 2 band correlations (the 5th energy is in mixing)
 *   pitch:  1 tracker update
 *   comb:   2 comb filters (causal for frame t, with 960 samples of look-ahead for t-2), their taps
 *   network: one step (model* exports)
 *   mixing + postfilter: Y/P mixing, envelope postfilter, band rescaling (2 interpolations, 1 band energy)
 * The rest of processFrame (input sanitising, history shift, features,
 * coherence, output scaling) is the difference to the whole frame.
 * `ex` must have processed some audio, so mixing sees real state. The
 * "call" sampler times a bare JS -> wasm call, subtracted once per block call.
 */
export function stageSamplers(module: WebAssembly.Module, eng: Engine, audio: Float32Array, samples: number): Record<string, Sampler> {
  const ex = eng.exports;
  // The block hooks are in the test build only: the same code as `module` plus test-hooks.ts.
  const s = new Engine(new WebAssembly.Module(readFileSync(new URL("../../build/percepnet-test.wasm", import.meta.url)))).hooks;
  // Mixing times the frame loop's last state: `s` gets real frames and the gains and strengths `ex` applied last.
  s.configure(3, 1, 1, 0, 0);
  for (const p of ["gainsPtr", "strengthsPtr"] as const) new Float32Array(s.memory.buffer, s[p](), 34).set(new Float32Array(ex.memory.buffer, ex[p](), 34));
  for (let i = 92; i < 100; i++) { new Float32Array(s.memory.buffer, s.inputPtr(), HOP).set(frameAt(audio, i)); s.processFrame(); }
  const A = new Float32Array(s.memory.buffer, s.scratchAPtr(), 4096);
  for (let i = 0; i < 4096; i++) A[i] = audio[(48000 + i) % audio.length] * SCALE;
  s.testAnalyze(); // B = a real speech spectrum for the blocks that read it
  // A 240 Hz voice; the window start leaves room for all 11 taps (start - 5T >= 0, start + 5T + 960 <= 4096).
  const T = 200, start = 1500;
  const n = samples;
  const out: Record<string, Sampler> = {
    call: perCall(() => { s.frameVad(); }, 16, n),
    analyze: perCall(() => { s.testAnalyze(); }, 4, n),
    synthesize: perCall(() => { s.testSynthesize(); }, 4, n),
    bandEnergy: perCall(() => { s.testBandEnergy(); }, 16, n),
    bandCorr: perCall(() => { s.testBandCorr(); }, 16, n),
    pitch: perCall(() => { s.testPitch(4096); }, 1, n),
    combCausal: perCall(() => { s.testCombTaps(T, 0); s.testCombFilter(start, T); }, 16, n),
    combAhead: perCall(() => { s.testCombTaps(T, 960); s.testCombFilter(start, T); }, 16, n),
    mix: perCall(() => { s.testMixPostfilter(); }, 4, n),
  };
  if (eng.hasModel) out.network = networkSteps(eng, n);
  return out;
}

/** One network step (modelRun()) timed on its own, `n` per call. */
export function networkSteps(eng: Engine, n: number): Sampler {
  const ex = eng.exports;
  return perCall(() => { ex.modelRun(); }, 1, n);
}

/** Combine the stage samplers' medians into per-frame stages (call overhead removed). */
export function stagesFrom(t: Record<string, number[]>): Stage[] {
  const m = (k: string) => median(t[k]);
  const c = m("call");
  const b = (k: string, calls = 1) => calls * (m(k) - c);
  const stages: Stage[] = [
    { name: "STFT (window + FFT)", calls: "4 analyses + 1 synthesis", us: b("analyze", 4) + b("synthesize") },
    { name: "bands", calls: "4 energies + 2 correlations", us: b("bandEnergy", 4) + b("bandCorr", 2) },
    { name: "pitch", calls: "1 tracker update", us: b("pitch") },
    // two calls (taps, filter) per comb
    { name: "comb filter", calls: "2 (causal, look-ahead)", us: b("combCausal") + b("combAhead") - 2 * c },
  ];
  if (t.network) stages.push({ name: "network", calls: "1 step", us: b("network") });
  stages.push({ name: "mixing + postfilter", calls: "mix, postfilter, rescale", us: b("mix") });
  return stages;
}

/** Memory of one instance before and after a long run. */
export interface MemoryReport {
  seconds: number; pagesBefore: number; pagesAfter: number;
  heapBeforeMB: number; heapAfterMB: number; rssAfterMB: number;
}

/**
 * Push `seconds` of audio through one Denoiser in 10 ms chunks and compare
 * its wasm memory (64 KiB pages) and the JS heap (after a full GC) before
 * and after: the real-time path must not grow either.
 */
export function longRunMemory(d: Denoiser, audio: Float32Array, seconds: number): MemoryReport {
  const eng = d.engine;
  const out = new Float32Array(HOP);
  d.process(audio.subarray(0, HOP), out);
  fullGc();
  const pagesBefore = eng.memoryBytes / 65536;
  const heapBefore = process.memoryUsage().heapUsed;
  const frames = Math.round((seconds * 48000) / HOP);
  for (let i = 0; i < frames; i++) d.process(frameAt(audio, i), out);
  fullGc();
  const m = process.memoryUsage();
  return {
    seconds, pagesBefore, pagesAfter: eng.memoryBytes / 65536,
    heapBeforeMB: heapBefore / 2 ** 20, heapAfterMB: m.heapUsed / 2 ** 20, rssAfterMB: m.rss / 2 ** 20,
  };
}
