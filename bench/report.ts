/** Aggregation and rendering (console table, Markdown) of evaluation results. */

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
export function groupByCondition(rows: FileResult[]): Map<string, FileResult[]> {
  const g = new Map<string, FileResult[]>();
  const key = (r: FileResult) => `${r.reverb ? "reverb " : ""}${r.snr === null ? "snr ?" : `snr ${r.snr}`}`;
  const sorted = [...rows].sort((a, b) => Number(a.reverb) - Number(b.reverb) || (a.snr ?? 1e9) - (b.snr ?? 1e9));
  for (const r of sorted) {
    const k = key(r);
    if (!g.has(k)) g.set(k, []);
    g.get(k)!.push(r);
  }
  return g;
}
