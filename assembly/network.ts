// The seam between the frame loop and the neural network engine
// (assembly/model.ts): features in, per-band gains, comb strengths and VAD
// out. Until a model is loaded networkReady() is false and the frame loop
// falls back to unity gains.
import { NB_BANDS } from "./bands";
import { NB_FEATURES } from "./features";
import { modelReady, modelRun, modelInputPtr, modelGainsPtr, modelStrengthsPtr, modelVad, modelReset, modelFeatures } from "./model";

export function networkReady(): bool { return modelReady() == 1; }

/**
 * One network step on `features` (and, for a model with NB_FEATURES +
 * NB_BANDS inputs, the noise floor after them): NB_BANDS gains and strengths
 * into the caller's buffers; returns the VAD probability.
 */
export function networkRun(features: StaticArray<f32>, noiseFloor: StaticArray<f32>, gains: StaticArray<f32>, strengths: StaticArray<f32>): f32 {
  memory.copy(modelInputPtr(), changetype<usize>(features), <usize>(NB_FEATURES * 4));
  if (modelFeatures() == NB_FEATURES + NB_BANDS) {
    memory.copy(modelInputPtr() + <usize>(NB_FEATURES * 4), changetype<usize>(noiseFloor), <usize>(NB_BANDS * 4));
  }
  modelRun();
  memory.copy(changetype<usize>(gains), modelGainsPtr(), <usize>(NB_BANDS * 4));
  memory.copy(changetype<usize>(strengths), modelStrengthsPtr(), <usize>(NB_BANDS * 4));
  return modelVad();
}

export function networkReset(): void { modelReset(); }
