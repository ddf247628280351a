/** Aggregation and rendering (console table, Markdown) of evaluation results. */
import { mulberry32 } from "../lab/dataset/rng.js";

/** Metric values of one system on one file; undefined = not computed. */
export interface FileResult {
  file: string;
  system: string;
  snr: number | null;
  reverb: boolean;
  delay: number;
  rtf: number;
  siSdr?: number;
  stoi?: number;
  estoi?: number;
  sig?: number;
  bak?: number;
  ovrl?: number;
}

export const METRICS = ["siSdr", "stoi", "estoi", "sig", "bak", "ovrl"] as const;
export type Metric = (typeof METRICS)[number];
export const METRIC_LABEL: Record<Metric, string> = {
  siSdr: "SI-SDR (dB)", stoi: "STOI", estoi: "ESTOI", sig: "DNSMOS SIG", bak: "DNSMOS BAK", ovrl: "DNSMOS OVRL",
};

/** Per-system means (finite values only) plus delay median and mean real-time factor. */
export interface Summary {
  system: string;
  files: number;
  delayMedian: number;
  rtf: number;
  mean: Partial<Record<Metric, number>>;
}

function mean(xs: number[]): number | undefined {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** Summaries per system, in the order systems first appear in `rows`. */
export function summarise(rows: FileResult[]): Summary[] {
  const systems = [...new Set(rows.map((r) => r.system))];
  return systems.map((system) => {
    const rs = rows.filter((r) => r.system === system);
    const m: Partial<Record<Metric, number>> = {};
    for (const k of METRICS) {
      const v = mean(rs.map((r) => r[k]).filter((x): x is number => x !== undefined));
      if (v !== undefined) m[k] = v;
    }
    return { system, files: rs.length, delayMedian: median(rs.map((r) => r.delay)), rtf: mean(rs.map((r) => r.rtf)) ?? NaN, mean: m };
  });
}

function fmt(v: number | undefined, k: Metric): string {
  if (v === undefined) return "-";
  return k === "siSdr" || k === "sig" || k === "bak" || k === "ovrl" ? v.toFixed(2) : v.toFixed(3);
}

/** Markdown table of summaries. */
export function markdownTable(sum: Summary[], extra = true): string {
  const head = ["system", "files", ...METRICS.map((k) => METRIC_LABEL[k]), ...(extra ? ["delay (samples)", "RTF"] : [])];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const s of sum) {
    const cells = [s.system, String(s.files), ...METRICS.map((k) => fmt(s.mean[k], k))];
    if (extra) cells.push(Number.isFinite(s.delayMedian) ? String(s.delayMedian) : "-", Number.isFinite(s.rtf) ? s.rtf.toFixed(4) : "-");
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Fixed-width console table of summaries. */
export function consoleTable(sum: Summary[]): string {
  const head = ["system", "n", "SI-SDR", "STOI", "ESTOI", "SIG", "BAK", "OVRL", "delay", "RTF"];
  const rows = sum.map((s) => [s.system, String(s.files), ...METRICS.map((k) => fmt(s.mean[k], k)),
    Number.isFinite(s.delayMedian) ? String(s.delayMedian) : "-", Number.isFinite(s.rtf) ? s.rtf.toFixed(4) : "-"]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Groups of rows keyed by condition label ("snr 5", "reverb snr 10", "unknown"). */
/**
 * A named condition carried by a file name: a `cond-NAME` token (letters,
 * digits, `.`, `+`, `-`; ended by `_`, `.wav` or the end), e.g.
 * `T-08-003_cond-babble-snr5_snr5.wav` is in "babble-snr5". Null for names
 * without one (their condition is their SNR and reverb, as before).
 */
export function conditionOf(file: string): string | null {
  const m = /(?:^|[_:/\\])cond-([A-Za-z0-9.+-]+?)(?=_|\.wav$|$)/i.exec(file);
  return m ? m[1] : null;
}

/**
 * Rows grouped by condition: a file's named condition ({@link conditionOf})
 * when it has one, in the order the groups first appear; otherwise reverb
 * and SNR (dry before reverberant, SNRs ascending), ahead of the named ones.
 */
export function groupByCondition(rows: FileResult[]): Map<string, FileResult[]> {
  const g = new Map<string, FileResult[]>();
  const key = (r: FileResult) => conditionOf(r.file) ?? `${r.reverb ? "reverb " : ""}${r.snr === null ? "snr ?" : `snr ${r.snr}`}`;
  const named = (r: FileResult) => Number(conditionOf(r.file) !== null);
  // Stable sort: named groups keep the files' order.
  const sorted = [...rows].sort((a, b) => named(a) - named(b) ||
    (named(a) ? 0 : Number(a.reverb) - Number(b.reverb) || (a.snr ?? 1e9) - (b.snr ?? 1e9)));
  for (const r of sorted) {
    const k = key(r);
    if (!g.has(k)) g.set(k, []);
    g.get(k)!.push(r);
  }
  return g;
}

/** System name of the DNSMOS rows of the clean files themselves: a reference, never a peer. */
export const CLEAN_REFERENCE = "clean (reference)";

/** True for the clean-reference rows (kept out of condition groups, curves and peer lists). */
export function isReference(system: string): boolean {
  return system.startsWith("clean");
}

/** The systems to compare `system` against: every other one but the clean reference. */
export function peersOf(systems: string[], system: string): string[] {
  return systems.filter((s) => s !== system && !isReference(s));
}

/** Mean paired difference (system minus peer) of one metric over the files both scored, with a bootstrap CI. */
export interface PairedDiff {
  system: string;
  peer: string;
  metric: Metric;
  files: number;
  mean: number;
  lo: number;
  hi: number;
  /** Fraction of files where the system scored higher than the peer. */
  wins: number;
}

/**
 * Paired differences of `system` against `peer`. Per-file scores vary far
 * more between clips (DNSMOS OVRL by +-0.5) than between systems, so a mean
 * over a few dozen clips needs an interval before "ahead" or "behind" means
 * anything; pairing by file removes the clip-to-clip part. The 95 % interval
 * is the percentile bootstrap over files (`resamples` draws, fixed seed, so a
 * report regenerated from the same rows prints the same interval).
 */
export function pairedDiff(rows: FileResult[], system: string, peer: string, metric: Metric, resamples = 4000, seed = 1): PairedDiff | undefined {
  const a = new Map<string, number>();
  for (const r of rows) if (r.system === system && Number.isFinite(r[metric])) a.set(r.file, r[metric] as number);
  const d: number[] = [];
  for (const r of rows) {
    if (r.system !== peer || !Number.isFinite(r[metric]) || !a.has(r.file)) continue;
    d.push(a.get(r.file)! - (r[metric] as number));
  }
  if (d.length === 0) return undefined;
  const n = d.length, avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rand = mulberry32(seed), means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    means[b] = s / n;
  }
  means.sort();
  const q = (p: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(p * (resamples - 1))))];
  return { system, peer, metric, files: n, mean: avg(d), lo: q(0.025), hi: q(0.975), wins: d.filter((x) => x > 0).length / n };
}

/** Markdown table of `system` minus each peer on SI-SDR, ESTOI and OVRL: mean [95 % CI] and files won. */
export function pairedTable(rows: FileResult[], system: string, peers: string[], metrics: Metric[] = ["siSdr", "estoi", "ovrl"]): string {
  const head = ["peer", ...metrics.map((k) => `${METRIC_LABEL[k]} diff [95 % CI], wins`)];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  const f = (v: number, k: Metric) => (v >= 0 ? "+" : "") + (k === "estoi" || k === "stoi" ? v.toFixed(3) : v.toFixed(2));
  for (const p of peers) {
    const cells = metrics.map((k) => {
      const r = pairedDiff(rows, system, p, k);
      return r ? `${f(r.mean, k)} [${f(r.lo, k)}, ${f(r.hi, k)}], ${Math.round(r.wins * r.files)}/${r.files}` : "-";
    });
    if (cells.some((c) => c !== "-")) lines.push(`| ${p} | ${cells.join(" | ")} |`);
  }
  return lines.length > 2 ? lines.join("\n") : "";
}
