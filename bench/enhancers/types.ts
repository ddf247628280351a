/** The contract every system under evaluation implements. */
export interface Enhancer {
  /** Short unique name used in tables, file names and `--only`. */
  name: string;
  /**
   * Known algorithmic delay in samples at 48 kHz, if the system reports it;
   * when absent the evaluator estimates it by cross-correlation.
   */
  delay?: number;
  /**
   * Enhance a whole 48 kHz mono signal. The result has the same length as the
   * input and may be delayed by up to 0.2 s (the evaluator feeds trailing
   * zeros so the delayed tail is not lost). `clean`, the time-aligned clean
   * reference, is used only by the oracle (an upper bound, not a system).
   */
  run(x48k: Float32Array, clean?: Float32Array): Promise<Float32Array>;
  /** Free native/wasm resources, if any. */
  dispose?(): void;
}

/** Raised by an enhancer factory whose package or build is not available. */
export class EnhancerUnavailable extends Error {}
