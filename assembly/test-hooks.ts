// Entry points to single DSP blocks and network kernels, for tests and the
// per-stage benchmark. Built only into the test build (index-test.ts ->
// build/percepnet-test.wasm, percepnet-scalar-test.wasm), never into the
// shipped percepnet.wasm. The DSP blocks work on three scratch buffers
// A, B, C (4096 f32 each) that the host fills and reads.
import { NBINS, rfft, irfft, cfft } from "./fft";
import { bandEnergy, bandCorr, interpBands } from "./bands";
import { combTaps, combFilter } from "./comb";
import { analyze, synthesize } from "./stft";
import { PitchTracker, pitchUpdate } from "./pitch";
import { mixPostfilterLastFrame } from "./frame";
import { modelRun } from "./model";
import {
  allocAligned, packI8, packedBytes, matvecI8, matvecSparseI8, matvecF32, tanhVec, sigmoidVec, quantizeVec,
  packI7, offsetI7, prepI7, matvecI7, matvecSparseI7, pad16,
} from "./nnet";

export { modelLayerOutPtr } from "./model";

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
const hookPitch = new PitchTracker();
/** pitch tracker on A with the window ending at `end` (needs end >= 2688). */
export function testPitch(end: i32): void { pitchUpdate(hookPitch, scratchA, end); }
const mixOut = new StaticArray<f32>(2 * NBINS);
/**
 * Mixing, postfilter and band rescaling of the frame loop on its current
 * state (the last frame's spectra and applied gains) into a buffer of its
 * own, so the next processFrame() is unaffected. For the benchmark.
 */
export function testMixPostfilter(): void { mixPostfilterLastFrame(mixOut); }

// Network kernels (prefix nnet) and the whole network, on memory the host
// allocates with nnetAlloc.

/** Zeroed 16-aligned memory; load/test time only. */
export function nnetAlloc(bytes: i32): usize { return allocAligned(bytes); }
/** See nnet.ts packI8. */
export function nnetPackI8(dst: usize, src: usize, rows: i32, cols: i32): void { packI8(dst, src, rows, cols); }
/** Packed size of an int8 matrix. */
export function nnetPackedBytes(rows: i32, cols: i32): i32 { return packedBytes(rows, cols); }
/** See nnet.ts matvecI8 (scale 0: raw i32 sums). */
export function nnetMatvecI8(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize): void {
  matvecI8(out, w, scale, bias, rows, cols, x);
}
/** Run matvecI8 `reps` times (benchmark without per-call JS overhead). */
export function nnetMatvecI8Repeat(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize, reps: i32): void {
  for (let i = 0; i < reps; i++) matvecI8(out, w, scale, bias, rows, cols, x);
}
/** See nnet.ts matvecSparseI8 (scale 0: raw i32 sums). */
export function nnetMatvecSparseI8(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, x: usize): void {
  matvecSparseI8(out, w, counts, offs, scale, bias, rows, x);
}
/** Run matvecSparseI8 `reps` times. */
export function nnetMatvecSparseI8Repeat(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, x: usize, reps: i32): void {
  for (let i = 0; i < reps; i++) matvecSparseI8(out, w, counts, offs, scale, bias, rows, x);
}
/** See nnet.ts packI7 (the caller keeps the weights in [-64, 63]). */
export function nnetPackI7(dst: usize, src: usize, rows: i32, cols: i32): void { packI7(dst, src, rows, cols); }
/** See nnet.ts offsetI7. */
export function nnetOffsetI7(p: usize, n: i32): void { offsetI7(p, n); }
/** See nnet.ts prepI7 (sums 0: none); returns the total. */
export function nnetPrepI7(x8: usize, sums: usize, x: usize, chunks: i32): i32 { return prepI7(x8, sums, x, chunks); }
/** prepI7 then matvecI7 on int16 `x`, as a 7-bit dense layer runs in the relaxed build (scale 0: raw i32 sums). */
export function nnetMatvecI7(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize, x8: usize): void {
  matvecI7(out, w, scale, bias, rows, cols, x8, prepI7(x8, 0, x, pad16(cols) >> 4));
}
/** Run nnetMatvecI7 `reps` times. */
export function nnetMatvecI7Repeat(out: usize, w: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize, x8: usize, reps: i32): void {
  for (let i = 0; i < reps; i++) matvecI7(out, w, scale, bias, rows, cols, x8, prepI7(x8, 0, x, pad16(cols) >> 4));
}
/** prepI7 (chunk sums at `sums`) then matvecSparseI7 on int16 `x` of `cols` columns (scale 0: raw i32 sums). */
export function nnetMatvecSparseI7(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize, x8: usize, sums: usize): void {
  prepI7(x8, sums, x, pad16(cols) >> 4);
  matvecSparseI7(out, w, counts, offs, scale, bias, rows, x8, sums);
}
/** Run nnetMatvecSparseI7 `reps` times. */
export function nnetMatvecSparseI7Repeat(out: usize, w: usize, counts: usize, offs: usize, scale: usize, bias: usize, rows: i32, cols: i32, x: usize, x8: usize, sums: usize, reps: i32): void {
  for (let i = 0; i < reps; i++) {
    prepI7(x8, sums, x, pad16(cols) >> 4);
    matvecSparseI7(out, w, counts, offs, scale, bias, rows, x8, sums);
  }
}
/** See nnet.ts matvecF32. */
export function nnetMatvecF32(out: usize, w: usize, bias: usize, rows: i32, cols: i32, x: usize): void {
  matvecF32(out, w, bias, rows, cols, x);
}
/** Run matvecF32 `reps` times. */
export function nnetMatvecF32Repeat(out: usize, w: usize, bias: usize, rows: i32, cols: i32, x: usize, reps: i32): void {
  for (let i = 0; i < reps; i++) matvecF32(out, w, bias, rows, cols, x);
}
/** In-place fast tanh. */
export function nnetTanh(p: usize, n: i32): void { tanhVec(p, n); }
/** In-place fast sigmoid. */
export function nnetSigmoid(p: usize, n: i32): void { sigmoidVec(p, n); }
/** f32 -> int16 round(127 x). */
export function nnetQuantize(dst: usize, src: usize, n: i32): void { quantizeVec(dst, src, n); }
/** Run modelRun `reps` times (benchmark). */
export function modelRunRepeat(reps: i32): void { for (let i = 0; i < reps; i++) modelRun(); }
