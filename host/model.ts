/**
 * Loading a parsed `.pnm` into one wasm instance (Engine.loadModel), and a
 * small runner of the network alone for tests and benchmarks.
 */
import type { Engine, PercepnetExports, TestHookExports } from "./engine.js";
import type { ParsedModel } from "./model-file.js";

/**
 * Configure the engine for `model.config` and copy every tensor into wasm
 * memory. One model per instance (the engine's memory is never freed).
 */
export function loadModelIntoWasm(ex: PercepnetExports, model: ParsedModel): void {
  const c = model.config;
  const rc = ex.modelConfigure(c.nFeatures, c.nBands, c.dense, c.conv1.k, c.conv1.out, c.conv2.k, c.conv2.out,
    c.gru, c.gruLayers, c.gruR, c.vad ? 1 : 0);
  if (rc === -1) throw new Error("percepnet: this wasm instance already holds a model; instantiate a new one");
  if (rc !== 0) throw new Error(`percepnet: the engine rejected the model configuration (code ${rc})`);
  let maxBytes = 0;
  for (const s of model.specs) maxBytes = Math.max(maxBytes, model.tensors.get(s.name)!.byteLength);
  const staging = ex.modelReserve(maxBytes);
  for (const s of model.specs) {
    const t = model.tensors.get(s.name)!;
    // memory.buffer may have been replaced by a grow: take a fresh view each time.
    new Uint8Array(ex.memory.buffer, staging, t.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    const r = ex.modelLoadTensor(s.id, t.byteLength);
    if (r !== 0) throw new Error(`percepnet: the engine rejected tensor ${s.name} (code ${r})`);
  }
  if (ex.modelReady() !== 1) throw new Error("percepnet: model incomplete after loading every tensor");
}

/** Runs the network frame by frame on one wasm instance (tests, benchmarks). */
export class NetworkRunner {
  readonly exports: PercepnetExports;
  readonly nBands: number;
  readonly nFeatures: number;

  /** Loads `model` into `engine`, which must be fresh (one model per instance). */
  constructor(readonly engine: Engine, readonly model: ParsedModel) {
    this.exports = engine.exports;
    engine.loadModel(model);
    this.nBands = model.config.nBands;
    this.nFeatures = model.config.nFeatures;
  }

  private f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, ptr, n);
  }

  /** Copy one frame of features into the engine's input. */
  setFeatures(features: ArrayLike<number>): void {
    if (features.length !== this.nFeatures) throw new Error(`expected ${this.nFeatures} features, got ${features.length}`);
    this.f32(this.exports.modelInputPtr(), this.nFeatures).set(features);
  }

  /** Run one frame on the features last set. */
  run(): void {
    if (this.exports.modelRun() !== 0) throw new Error("percepnet: model not ready");
  }

  /** Features in, outputs out (copies). */
  step(features: ArrayLike<number>): { gains: Float32Array; strengths: Float32Array; vad: number } {
    this.setFeatures(features);
    this.run();
    return { gains: this.gains(), strengths: this.strengths(), vad: this.vad() };
  }

  /** Copy of the last gains. */
  gains(): Float32Array { return this.f32(this.exports.modelGainsPtr(), this.nBands).slice(); }
  /** Copy of the last comb strengths. */
  strengths(): Float32Array { return this.f32(this.exports.modelStrengthsPtr(), this.nBands).slice(); }
  /** Last VAD probability (0 without a VAD head). */
  vad(): number { return this.exports.modelVad(); }
  /** Copy of a layer's f32 output (layer index as in layerSpecs). */
  layerOutput(layer: number, n: number): Float32Array {
    const ex = this.exports as Partial<TestHookExports>;
    if (typeof ex.modelLayerOutPtr !== "function") throw new Error("percepnet: layer outputs need the test build (build/percepnet-test.wasm)");
    const p = ex.modelLayerOutPtr(layer);
    if (p === 0) throw new Error(`no output for layer ${layer}`);
    return this.f32(p, n).slice();
  }
  /** Zero all recurrent state. */
  reset(): void { this.exports.modelReset(); }
}
