/**
 * Runs the network alone, frame by frame, on one wasm instance: for the
 * tests and benchmarks of the engine's kernels (per-layer outputs need the
 * test build).
 */
import type { Engine, PercepnetExports, TestHookExports } from "../host/engine.js";
import type { ParsedModel } from "../host/model-file.js";

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
