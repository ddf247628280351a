/**
 * Whole recordings through a streaming denoiser, time-aligned: the one
 * path by which the CLI, `denoiseChannels`/`denoiseBuffer` and the Worker
 * example turn a recording into a denoised recording of the same length.
 *
 * A stream's output lags its input by `delay` samples; reading a file
 * block by block, the first `delay` output samples are dropped and the
 * stream's flush() supplies the last ones, so output sample k lines up with
 * input sample k whatever the block sizes.
 */

/** The part of a multi-channel stream this needs (MultiChannelDenoiser has it). */
export interface ChannelStream {
  /** Output lag in samples at the stream's rate. */
  readonly delay: number;
  /** One equal-length Float32Array per channel in, as many samples per channel out. */
  process(input: Float32Array[]): Float32Array[];
  /** Push `delay` samples of silence through and return that output; the stream starts over. */
  flush(): Float32Array[];
}

export class AlignedStream {
  private toSkip: number;
  private pushed = 0;
  private emitted = 0;

  constructor(private readonly stream: ChannelStream) {
    this.toSkip = stream.delay;
  }

  /**
   * Denoise the next block; returns the aligned output available so far
   * (shorter than the block, possibly empty, until `delay` samples are in).
   */
  push(block: Float32Array[]): Float32Array[] {
    const out = this.stream.process(block);
    const n = out[0]?.length ?? 0;
    if (n !== (block[0]?.length ?? 0)) throw new Error(`percepnet: stream returned ${n} samples for ${block[0]?.length ?? 0}`);
    this.pushed += n;
    return this.take(out, n);
  }

  /** The rest: the stream's flushed tail, trimmed so that output length equals input length. */
  end(): Float32Array[] {
    const tail = this.stream.flush();
    const n = tail[0]?.length ?? 0;
    if (n !== this.stream.delay) throw new Error(`percepnet: stream flush() returned ${n} samples, its delay is ${this.stream.delay}`);
    const out = this.take(tail, Math.min(n, this.toSkip + this.pushed - this.emitted));
    this.toSkip = this.stream.delay;
    this.pushed = this.emitted = 0;
    return out;
  }

  private take(out: Float32Array[], usable: number): Float32Array[] {
    const skip = Math.min(this.toSkip, usable);
    this.toSkip -= skip;
    this.emitted += usable - skip;
    return out.map((x) => x.subarray(skip, usable));
  }
}

/** Run whole channels through `stream` (a fresh or reset one) and return them time-aligned, of the input's length. */
export function alignedProcess(stream: ChannelStream, channels: Float32Array[]): Float32Array[] {
  const a = new AlignedStream(stream);
  const head = a.push(channels);
  const tail = a.end();
  return head.map((h, ch) => {
    const y = new Float32Array(h.length + tail[ch].length);
    y.set(h);
    y.set(tail[ch], h.length);
    return y;
  });
}
