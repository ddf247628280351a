// The seam between the frame loop and the neural network engine
// (assembly/model.ts): features in, per-band gains, comb strengths and VAD
// out. Until a model is loaded networkReady() is false and the frame loop
// falls back to unity gains.
import { NB_BANDS } from "./bands";
import { NB_FEATURES } from "./features";
import { modelReady, modelRun, modelInputPtr, modelGainsPtr, modelStrengthsPtr, modelVad, modelReset } from "./model";

export const networkGains = new StaticArray<f32>(NB_BANDS);
export const networkStrengths = new StaticArray<f32>(NB_BANDS);

export function networkReady(): bool { return modelReady() == 1; }

export function networkRun(features: StaticArray<f32>): void {
  memory.copy(modelInputPtr(), changetype<usize>(features), <usize>(NB_FEATURES * 4));
  modelRun();
  memory.copy(changetype<usize>(networkGains), modelGainsPtr(), <usize>(NB_BANDS * 4));
  memory.copy(changetype<usize>(networkStrengths), modelStrengthsPtr(), <usize>(NB_BANDS * 4));
}

export function networkVad(): f32 { return modelVad(); }
export function networkReset(): void { modelReset(); }
