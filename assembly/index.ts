// The ABI of percepnet.wasm: plain numbers and byte offsets into linear
// memory (documented in docs/ARCHITECTURE.md). One instance = one denoiser.
import { REAL_N, NBINS, rfft, irfft, cfft } from "./fft";
import { NB_BANDS, bandEnergy, bandCorr, interpBands } from "./bands";
import { NB_FEATURES } from "./features";
import { combTaps, combFilter } from "./comb";
import { analyze, synthesize } from "./stft";
import * as F from "./frame";
import * as Pt from "./pitch";

export const ABI_VERSION: i32 = 1;
export const FRAME_SIZE: i32 = 480;
export const BANDS: i32 = NB_BANDS;
export const FEATURES: i32 = NB_FEATURES;
export const DELAY: i32 = F.DELAY;

export function inputPtr(): usize { return changetype<usize>(F.inBuf); }
export function cleanPtr(): usize { return changetype<usize>(F.cleanBuf); }
export function outputPtr(): usize { return changetype<usize>(F.outBuf); }
export function featuresPtr(): usize { return changetype<usize>(F.features); }
export function gainsPtr(): usize { return changetype<usize>(F.gains); }
export function strengthsPtr(): usize { return changetype<usize>(F.strengths); }
export function oracleGainsPtr(): usize { return changetype<usize>(F.oracleGains); }
export function oracleStrengthsPtr(): usize { return changetype<usize>(F.oracleStrengths); }

/** gainSource: 0 unity, 1 network, 2 oracle (needs clean), 3 external (host writes gains/strengths). */
export function configure(gainSource: i32, comb: i32, postfilter: i32, minGain: f32, clean: i32): void {
  F.setOptions(gainSource, comb != 0, postfilter != 0, minGain, clean != 0);
}
export function reset(): void { F.resetState(); }
export function processFrame(): void { F.processFrame(); }

export function frameVad(): f32 { return F.frameVad; }
export function frameCleanEnergy(): f32 { return F.cleanEnergy; }
export function frameNoisyEnergy(): f32 { return F.noisyEnergy; }
export function frameSanitised(): i32 { return F.inputWasSanitised; }
export function pitchCurrent(): i32 { return F.pitch.current.period; }
export function pitchCurrentCorr(): f32 { return F.pitch.current.corr; }
export function pitchDelayed(): i32 { return F.pitch.delayed.period; }
export function pitchDelayedCorr(): f32 { return F.pitch.delayed.corr; }

// --- DSP blocks exposed on scratch buffers, for tests and benchmarks ---
const scratchA = new StaticArray<f32>(4096);
const scratchB = new StaticArray<f32>(4096);
const scratchC = new StaticArray<f32>(4096);
const olaScratch = new StaticArray<f32>(480);
export function scratchAPtr(): usize { return changetype<usize>(scratchA); }
export function scratchBPtr(): usize { return changetype<usize>(scratchB); }
export function scratchCPtr(): usize { return changetype<usize>(scratchC); }
/** A (960 real) -> B (481 complex). */
export function testRfft(): void { rfft(scratchA, scratchB); }
/** B (481 complex) -> A (960 real). */
export function testIrfft(): void { irfft(scratchB, scratchA); }
/** A (480 complex, in place). */
export function testCfft(): void { cfft(scratchA); }
/** window+FFT of A[0..960) -> B. */
export function testAnalyze(): void { analyze(scratchA, 0, scratchB); }
/** B spectrum -> 480 samples into C, overlap state kept in a scratch OLA. */
export function testSynthesize(): void { synthesize(scratchB, olaScratch, scratchC); }
/** band energies of B -> C[0..34). */
export function testBandEnergy(): void { bandEnergy(scratchB, scratchC); }
/** band correlation of A and B (spectra) -> C[0..34). */
export function testBandCorr(): void { bandCorr(scratchA, scratchB, scratchC); }
/** A[0..34) band values -> C[0..481) bin values. */
export function testInterp(): void { interpBands(scratchA, scratchC); }
/** taps for period T with `future` look-ahead samples -> C[0..11), returns sigma^2. */
export function testCombTaps(T: i32, future: i32): f32 { return combTaps(T, future, scratchC); }
/** comb-filter A (4096 samples) at window start `start` with period T and the taps in C[0..11) -> B[0..960). */
export function testCombFilter(start: i32, T: i32): void { combFilter(scratchA, start, T, scratchC, scratchB); }
// A tracker of its own, so that testPitch leaves the frame loop's pitch state alone.
const hookPitch = new Pt.PitchTracker();
/** pitch tracker on A with the window ending at `end` (needs end >= 2688). */
export function testPitch(end: i32): void { Pt.pitchUpdate(hookPitch, scratchA, end); }
const mixOut = new StaticArray<f32>(2 * NBINS);
/**
 * Mixing, postfilter and band rescaling of the frame loop on its current
 * state (the last frame's spectra and applied gains) into a buffer of its
 * own, so the next processFrame() is unaffected. For the benchmark.
 */
export function testMixPostfilter(): void { F.mixPostfilterLastFrame(mixOut); }

export * from "./model";
