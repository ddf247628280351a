/**
 * The PercepNet AudioWorkletProcessor, registered as "percepnet".
 *
 * The main thread compiles the wasm (an AudioWorkletGlobalScope has no fetch)
 * and passes the WebAssembly.Module and the model bytes in
 * `processorOptions`; the denoisers are built synchronously here.
 *
 * Render quanta (128 samples) are written straight into the wasm input frame;
 * every 480 samples a frame runs and its output goes to a ring buffer that
 * starts with {@link workletRingDelay} zeros, the fewest that keep it from
 * running dry (480 - gcd(quantum, 480) = 448 for 128-sample quanta). So the
 * worklet's delay is ALGORITHMIC_DELAY + 448 = 1888 samples (39.3 ms), 32
 * fewer than Denoiser.process's generic framing.
 *
 * process() allocates nothing: all buffers are created in the constructor,
 * samples move in index loops (no subarray/set/slice), VAD reports are the
 * only allocation and happen at most every `vadInterval` frames.
 */
import { ALGORITHMIC_DELAY, FRAME_SIZE, checkOptionValues, configuredEngine, liveConfig, DENOISER_HINTS, type DenoiserOptions, type LiveOptions } from "../denoiser.js";
import type { Engine } from "../engine.js";
import { LIVE_OPTION_KEYS, checkOptionKeys, describe } from "../options.js";

/** Options passed as `processorOptions` (all structured-cloneable). */
export interface PercepNetProcessorOptions extends Pick<DenoiserOptions, "mode" | "comb" | "postfilter" | "attenuationLimitDb" | "levelNormalize"> {
  /** The compiled percepnet.wasm. */
  module: WebAssembly.Module;
  /** The .pnm model file's bytes; null or absent runs without a network (unity gains). */
  model?: ArrayBuffer | Uint8Array | null;
  /** Channels processed, each with its own denoiser (default 1). */
  channels?: number;
  /** Post the VAD every this many 10 ms frames; 0 turns reports off (default 10). */
  vadInterval?: number;
  /** Start in bypass (dry signal, delay-matched). */
  bypass?: boolean;
  /** Render quantum the ring is sized for (default 128, the Web Audio quantum). */
  quantum?: number;
}

/** Keys of {@link PercepNetProcessorOptions}. */
export const PROCESSOR_OPTION_KEYS = ["module", "model", "channels", "vadInterval", "bypass", "quantum", "mode", "comb", "postfilter", "attenuationLimitDb", "levelNormalize"] as const;

/** Messages the processor accepts on its port. */
export type PercepNetControlMessage =
  | { type: "bypass"; value: boolean }
  | ({ type: "options" } & LiveOptions)
  | { type: "reset" };

/** Messages the processor posts. */
export type PercepNetReport =
  | { type: "ready"; delay: number; channels: number; hasModel: boolean }
  | { type: "vad"; vad: number[]; frames: number }
  | { type: "error"; message: string };

function gcd(a: number, b: number): number { while (b) [a, b] = [b, a % b]; return a; }

/** Ring pre-fill for a render quantum: the largest shortfall of whole frames behind the input. */
export function workletRingDelay(quantum = 128): number {
  return FRAME_SIZE - gcd(quantum, FRAME_SIZE);
}

/** Total delay of the worklet (wet and delay-matched dry), in samples at 48 kHz. */
export function workletDelay(quantum = 128): number {
  return ALGORITHMIC_DELAY + workletRingDelay(quantum);
}

// The AudioWorkletGlobalScope names, declared here since TypeScript ships no lib for them.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions?: unknown }) => AudioWorkletProcessor): void;

/** One channel: its engine, views of its frame buffers, and rings. */
interface Channel {
  eng: Engine;
  inView: Float32Array;
  outView: Float32Array;
  wet: Float32Array; // output ring
  dry: Float32Array; // input delayed by the same amount, for bypass
}

const RING = 4096; // power of two > any delay + quantum

/** Defined only inside an AudioWorkletGlobalScope, so Node can import this file for its constants. */
function definePercepNetProcessor(): void {
  class PercepNetProcessor extends AudioWorkletProcessor {
    private readonly chans: Channel[] = [];
    private readonly delay: number;
    private readonly ringLag: number;
    private fill = 0; // samples in the current wasm input frame (same for all channels)
    private readPos = 0; // ring read index (wet and dry share it)
    private wetWrite = 0; // ring write index of frame outputs
    private dryWrite = 0;
    private frames = 0;
    private bypass = false;
    private mix = 1; // 1 = denoised, 0 = dry; ramps over one frame on toggles
    private readonly vadInterval: number;
    private failed = false;

    constructor(options: { processorOptions?: unknown }) {
      super(options);
      const o = (options.processorOptions ?? {}) as PercepNetProcessorOptions;
      this.vadInterval = o.vadInterval ?? 10;
      this.bypass = o.bypass ?? false;
      this.mix = this.bypass ? 0 : 1;
      const quantum = o.quantum ?? 128;
      this.delay = workletDelay(quantum);
      this.ringLag = workletRingDelay(quantum);
      try {
        checkOptionKeys("the percepnet worklet's processorOptions", o, PROCESSOR_OPTION_KEYS, DENOISER_HINTS);
        checkOptionValues({ mode: o.mode, comb: o.comb, postfilter: o.postfilter, attenuationLimitDb: o.attenuationLimitDb, levelNormalize: o.levelNormalize });
        if (o.model != null && !(o.model instanceof ArrayBuffer) && !(o.model instanceof Uint8Array)) {
          throw new TypeError(`percepnet worklet: processorOptions.model must be the .pnm bytes (ArrayBuffer or Uint8Array) or null, got ${describe(o.model)}`);
        }
        if (sampleRate !== 48000) throw new Error(`percepnet worklet runs at 48000 Hz; this context runs at ${sampleRate} Hz (create it with { sampleRate: 48000 })`);
        if (!(o.module instanceof WebAssembly.Module)) throw new TypeError("percepnet worklet: processorOptions.module must be a compiled WebAssembly.Module");
        const n = o.channels ?? 1;
        if (!Number.isInteger(n) || n < 1 || n > 32) throw new RangeError(`percepnet worklet: channels must be 1..32, got ${String(n)}`);
        const model = o.model instanceof ArrayBuffer ? new Uint8Array(o.model) : o.model ?? null;
        for (let c = 0; c < n; c++) {
          const eng = configuredEngine(o.module, { model, mode: o.mode, comb: o.comb, postfilter: o.postfilter, attenuationLimitDb: o.attenuationLimitDb, levelNormalize: o.levelNormalize });
          // Memory grows only while a model loads (done above): these views stay valid.
          this.chans.push({ eng, inView: eng.input, outView: eng.output, wet: new Float32Array(RING), dry: new Float32Array(RING) });
        }
        this.resetRings();
        this.port.postMessage({ type: "ready", delay: this.delay, channels: n, hasModel: this.chans[0].eng.hasModel } satisfies PercepNetReport);
      } catch (e) {
        this.failed = true;
        this.port.postMessage({ type: "error", message: (e as Error).message } satisfies PercepNetReport);
      }
      this.port.onmessage = (ev: MessageEvent) => this.onControl(ev.data as PercepNetControlMessage);
    }

    /**
     * Rings, positions and cross-fade back to their start: frame outputs land
     * `ringLag` samples ahead of the reader; the dry path waits the full delay.
     */
    private resetRings(): void {
      for (const c of this.chans) { c.wet.fill(0); c.dry.fill(0); }
      this.fill = 0;
      this.readPos = 0;
      this.wetWrite = this.ringLag;
      this.dryWrite = this.delay;
      this.frames = 0;
      this.mix = this.bypass ? 0 : 1;
    }

    private onControl(m: PercepNetControlMessage): void {
      try {
        if (m.type === "bypass") this.bypass = !!m.value;
        else if (m.type === "options") {
          const { type: _t, ...o } = m;
          checkOptionKeys("the percepnet worklet's options message", o, LIVE_OPTION_KEYS);
          checkOptionValues(o);
          for (const c of this.chans) c.eng.configure(liveConfig(o));
        } else if (m.type === "reset") {
          for (const c of this.chans) c.eng.reset();
          this.resetRings();
        }
      } catch (e) {
        this.port.postMessage({ type: "error", message: (e as Error).message } satisfies PercepNetReport);
      }
    }

    process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
      if (this.failed) return false;
      const input = inputs[0];
      const output = outputs[0];
      const n = output[0].length;
      const nIn = input.length;
      const mask = RING - 1;
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < this.chans.length; c++) {
          // A silent (disconnected) input has no channels: feed zeros; mono input feeds every channel.
          const v = nIn === 0 ? 0 : input[c < nIn ? c : nIn - 1][i];
          const ch = this.chans[c];
          ch.inView[this.fill] = v;
          ch.dry[(this.dryWrite + i) & mask] = v;
        }
        if (++this.fill === FRAME_SIZE) this.runFrame();
      }
      this.dryWrite = (this.dryWrite + n) & mask;
      const target = this.bypass ? 0 : 1;
      const step = 1 / FRAME_SIZE;
      let mix = this.mix;
      for (let i = 0; i < n; i++) {
        mix = mix < target ? Math.min(target, mix + step) : Math.max(target, mix - step);
        const r = (this.readPos + i) & mask;
        const nc = this.chans.length < output.length ? this.chans.length : output.length;
        for (let c = 0; c < nc; c++) {
          const ch = this.chans[c];
          output[c][i] = mix * ch.wet[r] + (1 - mix) * ch.dry[r];
        }
      }
      this.mix = mix;
      this.readPos = (this.readPos + n) & mask;
      return true;
    }

    private runFrame(): void {
      this.fill = 0;
      const mask = RING - 1;
      for (let c = 0; c < this.chans.length; c++) {
        const ch = this.chans[c];
        ch.eng.runFrame();
        const out = ch.outView, wet = ch.wet;
        for (let k = 0; k < FRAME_SIZE; k++) wet[(this.wetWrite + k) & mask] = out[k];
      }
      this.wetWrite = (this.wetWrite + FRAME_SIZE) & mask;
      this.frames++;
      if (this.vadInterval > 0 && this.frames % this.vadInterval === 0) {
        const vad: number[] = [];
        for (let c = 0; c < this.chans.length; c++) vad.push(this.chans[c].eng.vad);
        this.port.postMessage({ type: "vad", vad, frames: this.frames } satisfies PercepNetReport);
      }
    }
  }

  registerProcessor("percepnet", PercepNetProcessor);
}

if (typeof registerProcessor === "function") definePercepNetProcessor();
