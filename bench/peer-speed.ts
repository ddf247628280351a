/**
 * Speed of every system behind the common Enhancer interface (ours and the
 * peers in bench/enhancers/), on the same audio, the same way.
 *
 * A run() call includes per-call set-up (a fresh state or worklet instance,
 * the worklet's asynchronous wasm instantiation), which differs between
 * systems. So each system runs a short and a long signal; the cost per 10 ms
 * is the slope (T_long - T_short) / (frames_long - frames_short), which
 * cancels the set-up, and the set-up is what the slope leaves of T_short.
 */
import { ENHANCERS, type Enhancer } from "./enhancers/index.js";
import { createOurs } from "./enhancers/ours.js";
import { median, timeAsync } from "./timing.js";

const FS = 48000;
const HOP = 480;

/** One system's measured speed. */
export interface PeerSpeed {
  name: string;
  /** Steady-state microseconds per 10 ms of audio. */
  usPerFrame: number;
  /** Per-run set-up in milliseconds (state creation, wasm instantiation). */
  setupMs: number;
  /** Reason it was not timed, if it was not. */
  skipped?: string;
}

/** The systems timed, in table order ("noisy" is the identity: nothing to time). */
// not systems a user could run instead: the unprocessed input, ours, and the oracle (needs the clean signal)
export const PEER_NAMES = [...ENHANCERS.keys()].filter((n) => n !== "noisy" && n !== "ours" && n !== "oracle");

/** `seconds` of audio by looping `audio`. */
function loopTo(audio: Float32Array, seconds: number): Float32Array {
  const y = new Float32Array(Math.round(seconds * FS));
  for (let i = 0; i < y.length; i += audio.length) y.set(audio.subarray(0, Math.min(audio.length, y.length - i)), i);
  return y;
}

/**
 * Time ours (with `model` bytes) and every peer on `audio` looped to
 * `seconds` (and 1 s for the short run), `rounds` medians each.
 */
export async function peerSpeeds(audio: Float32Array, model: Uint8Array | null, seconds: number, rounds: number,
  log: (s: string) => void = () => {}): Promise<PeerSpeed[]> {
  const short = loopTo(audio, 1), long = loopTo(audio, seconds);
  const out: PeerSpeed[] = [];
  const factories: [string, () => Promise<Enhancer>][] = [
    ["ours", () => createOurs(model ? { model } : {})],
    ...PEER_NAMES.map((n) => [n, ENHANCERS.get(n)!] as [string, () => Promise<Enhancer>]),
  ];
  const systems: Enhancer[] = [];
  for (const [name, make] of factories) {
    try {
      systems.push(await make());
    } catch (e) {
      out.push({ name, usPerFrame: NaN, setupMs: NaN, skipped: (e as Error).message });
      log(`  ${name}: skipped (${(e as Error).message})`);
    }
  }
  // Rounds over all systems (not one system after another), so a slow
  // spell of the shared machine hits every system alike; round 0 is warm-up.
  const ts = new Map<Enhancer, number[]>(), tl = new Map<Enhancer, number[]>();
  const failed = new Map<Enhancer, string>();
  for (let r = 0; r <= rounds; r++) {
    for (const sys of systems) {
      if (failed.has(sys)) continue;
      try {
        const s = await timeAsync(() => sys.run(short));
        const l = await timeAsync(() => sys.run(long));
        if (r === 0) continue;
        ts.set(sys, [...(ts.get(sys) ?? []), s]);
        tl.set(sys, [...(tl.get(sys) ?? []), l]);
      } catch (e) {
        failed.set(sys, (e as Error).message);
      }
    }
  }
  for (const sys of systems) {
    sys.dispose?.();
    const why = failed.get(sys);
    if (why) { out.push({ name: sys.name, usPerFrame: NaN, setupMs: NaN, skipped: why }); continue; }
    const s = median(ts.get(sys)!), l = median(tl.get(sys)!);
    const usPerFrame = ((l - s) * 1000) / ((long.length - short.length) / HOP);
    out.push({ name: sys.name, usPerFrame, setupMs: Math.max(0, s - (usPerFrame * short.length) / HOP / 1000) });
    log(`  ${sys.name}: ${usPerFrame.toFixed(1)} us per 10 ms`);
  }
  const order = factories.map(([n]) => n);
  return out.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}
