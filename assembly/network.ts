// Placeholder seam between the frame loop and the neural network engine
// (assembly/model.ts). Until a model is loaded, networkReady() is false and
// the frame loop falls back to unity gains.
import { NB_BANDS } from "./bands";

export const networkGains = new StaticArray<f32>(NB_BANDS);
export const networkStrengths = new StaticArray<f32>(NB_BANDS);
export function networkReady(): bool { return false; }
export function networkRun(features: StaticArray<f32>): void {}
export function networkVad(): f32 { return 0; }
export function networkReset(): void {}
