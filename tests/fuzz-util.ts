// Shared pieces of the robustness tests: hostile signals, the output bound,
// and a look at the network's recurrent state.
import type { Denoiser } from "../host/denoiser.js";
import type { ModelConfig } from "../host/model-file.js";
import { crc32, layerSpecs } from "../host/model-file.js";
import { rng } from "./util.js";

/**
 * Largest |output| accepted for any input. The engine clips its input to
 * +-8 (+18 dBFS, assembly/frame.ts INPUT_LIMIT); with unity gains the output
 * reconstructs that clipped input, and with a network no band's energy can
 * exceed its input energy times the postfilter's global gain, at most
 * +5.5 dB (x1.9 in amplitude). 16 = 2 x 8 covers that gain; observed peaks
 * over all stress signals are 8.0 (unity) and 6.2 (random width-128 model).
 */
export const OUTPUT_BOUND = 16;

/** The f32 GRU states of the loaded network, as views (empty without a model). */
export function gruStates(d: Denoiser, c: ModelConfig | null | undefined): Float32Array[] {
  if (!c || !d.hasModel) return [];
  const ex = d.engine.hooks;
  const out: Float32Array[] = [];
  layerSpecs(c).forEach((l, i) => {
    if (l.kind === "gru") out.push(new Float32Array(ex.memory.buffer, ex.modelLayerOutPtr(i), l.out));
  });
  return out;
}

/** Named hostile test signals at 48 kHz (repeat scales their lengths). */
export function stressSignals(repeat = 1): [string, Float32Array][] {
  const r = rng(4242);
  const n = 48000 * repeat;
  const sig = (f: (i: number) => number, len = n) => Float32Array.from({ length: len }, (_, i) => f(i));
  const noise = (a: number) => (r() * 2 - 1) * a;
  return [
    ["speech-like noise", sig((i) => noise(0.3) * (0.5 + 0.5 * Math.sin(i / 2400)))],
    ["NaN burst", sig((i) => (i > 4000 && i < 9000 ? NaN : noise(0.3)))],
    ["+Inf/-Inf", sig((i) => (i % 97 === 0 ? (i % 2 ? Infinity : -Infinity) : noise(0.1)))],
    ["1e30", sig((i) => (i % 1000 < 500 ? 1e30 : -1e30))],
    ["float32 max", sig((i) => (i % 2 ? 3.4e38 : -3.4e38), 9600)],
    ["denormals", sig((i) => (i % 2 ? 1e-40 : -1.4e-45) * (1 + r()))],
    ["DC +1", sig(() => 1)],
    ["DC -8", sig(() => -8)],
    ["full-scale square 50 Hz", sig((i) => (Math.floor(i / 480) % 2 ? 1 : -1))],
    ["full-scale square 12 kHz", sig((i) => (Math.floor(i / 2) % 2 ? 1 : -1))],
    ["square +-8 at 100 Hz", sig((i) => (Math.floor(i / 240) % 2 ? 8 : -8))],
    ["digital silence", new Float32Array(n)],
    ["random bursts", sig((i) => (i % 4800 < 300 ? noise(10 ** (r() * 60 - 30)) : 0))],
    ["alternating extremes", sig((i) => [1e30, -1e30, NaN, 0, 1e-45, 8, -8, Infinity][i % 8])],
    ["impulses", sig((i) => (i % 4801 === 0 ? 1 : 0))],
    ["recovery: clean noise after all that", sig(() => noise(0.3))],
  ];
}

/**
 * A valid model file whose GRU row scales are 3e38: every value finite, so
 * the parser accepts it, but the GRU pre-activations overflow to +-Inf and
 * Inf - Inf = NaN inside the state update.
 */
export function extremeModelFile(base: Uint8Array, scale = 3e38): Uint8Array {
  const b = base.slice();
  const dv = new DataView(b.buffer);
  const jsonLen = dv.getUint32(8, true);
  const json = JSON.parse(Buffer.from(b.subarray(16, 16 + jsonLen)).toString("latin1"));
  const dataStart = (16 + jsonLen + 15) & ~15;
  for (const t of json.tensors as { name: string; offset: number; bytes: number }[]) {
    if (!/^gru.*w_(ih|hh)_scale$/.test(t.name)) continue;
    for (let o = 0; o < t.bytes; o += 4) dv.setFloat32(dataStart + t.offset + o, scale, true);
  }
  dv.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
