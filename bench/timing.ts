/**
 * Small timing and formatting helpers shared by the speed benchmarks.
 *
 * Every figure is a median: the development machine is shared, and a median
 * of many samples is the statistic one slow or one lucky sample cannot move.
 */
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One 10 ms hop at 48 kHz, in microseconds: the real-time budget of a frame. */
export const FRAME_US = 10000;

/** Median of a list (not modified). */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of a list, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Milliseconds of one call of an async function. */
export async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

let gcFn: (() => void) | undefined;
/**
 * A full garbage collection, so heap figures mean live objects rather than
 * garbage not yet collected. Works without `node --expose-gc`.
 */
export function fullGc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

/** Percent of one core used by a per-frame cost. */
export const pctCore = (us: number): number => (us / FRAME_US) * 100;
/** How many times faster than real time a per-frame cost is. */
export const xRealTime = (us: number): number => FRAME_US / us;

/** Fixed-point with `d` decimals, or "-" for a missing value. */
export function fmt(v: number | null | undefined, d = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(d);
}

/** A table as aligned plain text (first column left-aligned, the rest right-aligned). */
export function textTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n");
}

/** The same table in GitHub markdown. */
export function mdTable(head: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(head), `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map(line)].join("\n");
}
