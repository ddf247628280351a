/*
 * TEMPORARY pass-through stand-in for the real Denoiser (being written on
 * another branch; replace this whole file when merging). It honours the same
 * interface and timing contract: output = input delayed by `delay` samples.
 */

export interface DenoiserOptions { model?: string | Uint8Array; wasm?: WebAssembly.Module; }

/** TEMPORARY: delays the signal by 1440 samples and does nothing else. */
export class Denoiser {
  readonly delay = 1440;
  readonly sampleRate = 48000 as const;
  private line = new Float32Array(1440);
  private pos = 0;

  private constructor() {}

  static async create(_opts: DenoiserOptions = {}): Promise<Denoiser> {
    return new Denoiser();
  }

  /** 48 kHz mono float samples, any length; returns exactly input.length samples, delayed by `delay`. */
  process(input: Float32Array): Float32Array {
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      out[i] = this.line[this.pos];
      this.line[this.pos] = input[i];
      this.pos = (this.pos + 1) % this.delay;
    }
    return out;
  }

  /** Emits the `delay` samples still inside the pipeline (pads with zeros) and resets. */
  flush(): Float32Array {
    const tail = this.process(new Float32Array(this.delay));
    this.reset();
    return tail;
  }

  reset(): void {
    this.line.fill(0);
    this.pos = 0;
  }
}
