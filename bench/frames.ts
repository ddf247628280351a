/**
 * Denoise S seconds of audio through one Denoiser in 10 ms chunks and exit:
 * a whole-process workload for timing from outside (e.g. `/usr/bin/time -v`
 * or hyperfine), where the per-frame cost is
 * (time of --seconds S) - (time of --seconds 0), divided by S x 100 frames.
 *
 *   node dist/bench/frames.js [--seconds 120] [--model PNM] [--audio WAV]
 *
 * Model as in bench.js (--model, else weights/default.pnm, else random width 256).
 */
import { readFileSync } from "node:fs";
import { Denoiser } from "../host/denoiser.js";
import { decodeWav } from "../host/wav.js";
import { defaultWasmModule } from "../host/wasm.js";
import { benchModel } from "./speed.js";
import { DEFAULT_INPUT } from "./throughput.js";

const HOP = 480;
const arg = (k: string) => { const i = process.argv.indexOf(k); return i >= 0 ? process.argv[i + 1] : undefined; };
const seconds = Number(arg("--seconds") ?? 120);
const audio = decodeWav(new Uint8Array(readFileSync(arg("--audio") ?? DEFAULT_INPUT))).channels[0];
const d = new Denoiser(await defaultWasmModule(), { model: benchModel(arg("--model")).model });
const out = new Float32Array(HOP);
const frames = Math.round((seconds * 48000) / HOP), perLoop = Math.floor(audio.length / HOP);
let check = 0;
for (let i = 0; i < frames; i++) {
  const s = (i % perLoop) * HOP;
  d.process(audio.subarray(s, s + HOP), out);
  check += out[0];
}
// Printed so the work cannot be optimised away and a broken run is visible.
console.log(`${frames} frames, checksum ${check.toExponential(6)}`);
