// The ABI of percepnet.wasm: plain numbers and byte offsets into linear
// memory (documented in docs/ARCHITECTURE.md). One instance = one denoiser.
// Everything exported here ships; hooks that reach single blocks for tests
// and benchmarks are in test-hooks.ts, built only into the test build
// (index-test.ts), and tests/exports.test.ts holds this list to the one
// the host is written against.
import { NB_BANDS } from "./bands";
import { NB_FEATURES } from "./features";
import * as F from "./frame";

export const ABI_VERSION: i32 = 4;
export const FRAME_SIZE: i32 = 480;
export const BANDS: i32 = NB_BANDS;
export const FEATURES: i32 = NB_FEATURES;
export const DELAY: i32 = F.DELAY;

export function inputPtr(): usize { return changetype<usize>(F.inBuf); }
export function cleanPtr(): usize { return changetype<usize>(F.cleanBuf); }
export function outputPtr(): usize { return changetype<usize>(F.outBuf); }
export function featuresPtr(): usize { return changetype<usize>(F.features); }
export function noiseFloorPtr(): usize { return changetype<usize>(F.noiseFloor); }
export function gainsPtr(): usize { return changetype<usize>(F.gains); }
export function strengthsPtr(): usize { return changetype<usize>(F.strengths); }
export function oracleGainsPtr(): usize { return changetype<usize>(F.oracleGains); }
export function oracleStrengthsPtr(): usize { return changetype<usize>(F.oracleStrengths); }

/** gainSource: 0 unity, 1 network, 2 oracle (needs clean), 3 external (host writes gains/strengths). */
export function configure(gainSource: i32, comb: i32, postfilter: i32, minGain: f32, clean: i32): void {
  F.setOptions(gainSource, comb != 0, postfilter != 0, minGain, clean != 0);
}
/** Level normaliser of the network's features (assembly/level.ts): enabled 0/1, range [lo, hi] dB FS. */
export function configureLevel(enabled: i32, lo: f32, hi: f32): void { F.setLevelOptions(enabled != 0, lo, hi); }
export function reset(): void { F.resetState(); }
export function processFrame(): void { F.processFrame(); }

export function frameVad(): f32 { return F.frameVad; }
export function frameCleanEnergy(): f32 { return F.cleanEnergy; }
export function frameNoisyEnergy(): f32 { return F.noisyEnergy; }
export function frameSanitised(): i32 { return F.inputWasSanitised; }
export function frameLevelGainDb(): f32 { return F.levelGainDb; }
export function pitchCurrent(): i32 { return F.pitch.current.period; }
export function pitchCurrentCorr(): f32 { return F.pitch.current.corr; }
export function pitchDelayed(): i32 { return F.pitch.delayed.period; }
export function pitchDelayedCorr(): f32 { return F.pitch.delayed.corr; }

export {
  modelConfigure, modelLayerCount, modelReserve, modelLoadTensor, modelLoadBlocks, modelReady, modelReset,
  modelInputPtr, modelRun, modelGainsPtr, modelStrengthsPtr, modelVad, modelHasVad, modelBands, modelRelaxedMatrices,
} from "./model";
