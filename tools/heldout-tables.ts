/**
 * The held-out sets' tables for docs/RESULTS.md and README.md, made from the
 * eval.json reports of `npm run eval:heldout` (tools/heldout-sets.ts) by
 * tools/readme-sections.ts (`--heldout DIR`). Only the systems asked for
 * (`--systems`) are shown, under their labels; other rows of the reports
 * (experimental models scored beside the shipped ones) are ignored. The
 * first system is the default model: each other system's row gives the
 * default's paired difference to it (bench/report.ts pairedDiff: mean over
 * the clips both scored, 95 % percentile-bootstrap interval, fixed seed, the
 * same figures as DIR/paired.md).
 */
import { existsSync, readFileSync } from "node:fs";
import { groupByCondition, pairedDiff, summarise, CLEAN_REFERENCE, type FileResult, type Metric } from "../bench/report.js";

/** The before/after figure's file name, in the heldout folder (tools/heldout-figure.ts) and in docs/img. */
export const FIGURE_NAME = "heldout-spectrogram.png";

/** One system to show: its name in the reports and the label the tables give it. */
export interface SystemChoice { name: string; label: string }

/** What the tables show unless told otherwise: the shipped models and every peer, the default first. */
export const DEFAULT_SYSTEMS = "ours=default,small-old=small,rnnoise-jitsi-sync=RNNoise 0.2,gtcrn=GTCRN,dfn3=DeepFilterNet3,noisy=noisy input";

/**
 * Parse `name=label,name=label,...` (a bare `name` is its own label). The
 * first system is the one the others are compared against.
 */
export function parseSystems(spec: string, min = 2): SystemChoice[] {
  const out = spec.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const i = s.indexOf("=");
    const name = (i < 0 ? s : s.slice(0, i)).trim(), label = (i < 0 ? s : s.slice(i + 1)).trim();
    if (!name || !label) throw new Error(`--systems: "${s}" is not NAME=LABEL`);
    return { name, label };
  });
  if (out.length < min) throw new Error(min > 1 ? "--systems: give the default and at least one system to compare it with" : "--systems: give at least one system");
  for (const k of ["name", "label"] as const) {
    const dup = out.find((s, i) => out.findIndex((t) => t[k] === s[k]) !== i);
    if (dup) throw new Error(`--systems: ${k} "${dup[k]}" given twice`);
  }
  return out;
}

/** One held-out set's rows, as read from its eval.json. */
export interface HeldoutSet {
  /** Set name (T, X). */
  name: string;
  /** What the set is, one phrase. */
  about: string;
  rows: FileResult[];
  /** Give a table per condition (cond-NAME in the file names), not only the whole set. */
  byCondition: boolean;
}

/** The sets tools/heldout-sets.ts makes, in order, with what each is. */
export const HELDOUT_ABOUT: Record<string, string> = {
  T: "test speakers and noise recordings of the newer extra lists, 13 conditions",
  X: "speech and noise from whole sources no training file comes from (cross-source)",
};

/** Rows of an eval.json (eval.js writes infinite scores as the string "Infinity"). */
export function readEvalRows(path: string): FileResult[] {
  const j = JSON.parse(readFileSync(path, "utf8"), (_, v) => (v === "Infinity" ? Infinity : v)) as { rows?: FileResult[] };
  if (!Array.isArray(j.rows)) throw new Error(`${path} is not an eval.json (no rows)`);
  return j.rows;
}

/** The sets found in a `npm run eval:heldout` folder (DIR/S/report/eval.json), in HELDOUT_ABOUT's order. */
export function readHeldoutDir(dir: string, byCondition: string[] = ["T"]): HeldoutSet[] {
  const names = [...new Set([...Object.keys(HELDOUT_ABOUT)])];
  return names.filter((s) => existsSync(`${dir}/${s}/report/eval.json`)).map((s) => ({
    name: s, about: HELDOUT_ABOUT[s] ?? "", rows: readEvalRows(`${dir}/${s}/report/eval.json`), byCondition: byCondition.includes(s),
  }));
}

const KIND: Record<string, string> = {
  dry: "noise", reverb: "reverberant room + noise", babble: "babble (3-6 talkers)", nonstat: "non-stationary noise",
  band8k: "8 kHz channel", band16k: "16 kHz channel", quiet: "quiet talker (-40 dB FS)", loud: "loud talker",
};

/** Readable name of a condition token (`dry-snr-5` -> "noise, -5 dB SNR"), with the SNRs its rows have. */
export function conditionLabel(token: string, rows: FileResult[]): string {
  const m = /^([a-z0-9]+?)(?:-snr-?\d+(?:\.\d+)?)?$/i.exec(token);
  const kind = m ? KIND[m[1].toLowerCase()] : undefined;
  if (!kind) return token;
  const snrs = [...new Set(rows.map((r) => r.snr).filter((x): x is number => typeof x === "number"))].sort((a, b) => a - b);
  return snrs.length ? `${kind}, ${snrs.join("/")} dB SNR` : kind;
}

/** The metrics of the tables: SI-SDR, ESTOI, DNSMOS OVRL. */
export const TABLE_METRICS: Metric[] = ["siSdr", "estoi", "ovrl"];
const HEAD: Record<string, string> = { siSdr: "SI-SDR (dB)", estoi: "ESTOI", ovrl: "DNSMOS OVRL" };

/** One group of clips (a condition, or the whole set): every system's means and the default's differences. */
export interface GroupTable {
  /** Condition token, or null for the whole set. */
  token: string | null;
  label: string;
  /** Clips the default scored. */
  clips: number;
  /** Mean DNSMOS OVRL of the clean references themselves, when the report has them. */
  cleanOvrl?: number;
  systems: {
    system: SystemChoice;
    files: number;
    mean: Partial<Record<Metric, number>>;
    /** Default minus this system (undefined for the default itself and where no clip pairs). */
    diff: Partial<Record<Metric, { mean: number; lo: number; hi: number; files: number }>>;
  }[];
}

function groupTable(rows: FileResult[], systems: SystemChoice[], token: string | null, label: string): GroupTable {
  const base = systems[0].name;
  const sums = new Map(summarise(rows).map((s) => [s.system, s]));
  const t: GroupTable = {
    token, label, clips: new Set(rows.filter((r) => r.system === base).map((r) => r.file)).size, systems: [],
  };
  const clean = sums.get(CLEAN_REFERENCE)?.mean.ovrl;
  if (clean !== undefined) t.cleanOvrl = clean;
  for (const s of systems) {
    const sum = sums.get(s.name);
    const diff: GroupTable["systems"][number]["diff"] = {};
    if (s.name !== base) {
      for (const k of TABLE_METRICS) {
        const d = pairedDiff(rows, base, s.name, k);
        if (d) diff[k] = { mean: d.mean, lo: d.lo, hi: d.hi, files: d.files };
      }
    }
    t.systems.push({ system: s, files: sum?.files ?? 0, mean: sum?.mean ?? {}, diff });
  }
  return t;
}

/**
 * The tables of one set: the whole set first, then (with `byCondition`) one
 * per condition in the order the report's files have them. Throws when a
 * system asked for has no row in the set (a report that lacks a peer must
 * not print a table without it).
 */
export function setTables(set: HeldoutSet, systems: SystemChoice[]): GroupTable[] {
  const names = new Set(systems.map((s) => s.name));
  const have = new Set(set.rows.map((r) => r.system));
  const missing = systems.filter((s) => !have.has(s.name)).map((s) => s.name);
  if (missing.length) throw new Error(`set ${set.name}: no rows of ${missing.join(", ")} (the report has ${[...have].join(", ")})`);
  const rows = set.rows.filter((r) => names.has(r.system) || r.system === CLEAN_REFERENCE);
  const out = [groupTable(rows, systems, null, `all ${new Set(rows.filter((r) => r.system === systems[0].name).map((r) => r.file)).size} clips`)];
  if (set.byCondition) {
    for (const [token, rs] of groupByCondition(rows)) {
      if (!rs.some((r) => r.system === systems[0].name)) continue;
      out.push(groupTable(rs, systems, token, conditionLabel(token, rs)));
    }
  }
  return out;
}

function fmt(v: number | undefined, k: Metric, signed = false): string {
  if (v === undefined || !Number.isFinite(v)) return "-";
  const s = k === "estoi" || k === "stoi" ? v.toFixed(3) : v.toFixed(2);
  return signed && v >= 0 ? `+${s}` : s;
}

/** Markdown table of one group: a row per system with its means and the default's difference to it. */
export function groupMarkdown(t: GroupTable): string {
  const head = ["system", ...TABLE_METRICS.map((k) => HEAD[k]), ...TABLE_METRICS.map((k) => `diff ${HEAD[k]} [95 % CI]`)];
  const lines = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`];
  for (const s of t.systems) {
    const diffs = TABLE_METRICS.map((k) => {
      const d = s.diff[k];
      return d ? `${fmt(d.mean, k, true)} [${fmt(d.lo, k, true)}, ${fmt(d.hi, k, true)}]` : "-";
    });
    lines.push(`| ${s.system.label} | ${TABLE_METRICS.map((k) => fmt(s.mean[k], k)).join(" | ")} | ${diffs.join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * A group's name, `T: all` or `T: noise, -5 dB SNR`: README.md's row and the
 * start of docs/RESULTS.md's heading (tests/readme-sections.test.ts pairs them).
 */
export function groupName(set: string, t: GroupTable): string {
  return `${set}: ${t.token === null ? "all" : t.label}`;
}

/** docs/RESULTS.md's heading of a group: its name, the condition token, the clips. */
function groupTitle(set: string, t: GroupTable): string {
  return `${groupName(set, t)} (${t.token === null ? "" : `\`${t.token}\`, `}${t.clips} clips)`;
}

/** The before/after figure (tools/heldout-figure.ts): its link from the document. */
export interface HeldoutFigure { link: string }

/** The docs/RESULTS.md section: per set, the whole set's table and (T) one per condition. */
export function resultsMarkdown(sets: HeldoutSet[], systems: SystemChoice[], figure?: HeldoutFigure): string {
  const base = systems[0].label;
  let md = `Means over the clips of each system (${systems.map((s) => `${s.label} = \`${s.name}\``).join(", ")}), ` +
    `and "diff": ${base} minus that system, paired by clip, the mean difference with its 95 % bootstrap interval ` +
    "(an interval that holds 0 means the set cannot tell the two apart). Sets and conditions: " +
    "[EVALUATION.md, \"Held-out sets T and X\"](EVALUATION.md#held-out-sets-t-and-x-toolsheldout-setsts).\n";
  for (const set of sets) {
    const tables = setTables(set, systems);
    md += `\n### Set ${set.name}${set.about ? `: ${set.about}` : ""}\n`;
    const clean = tables[0].cleanOvrl;
    if (clean !== undefined) md += `\nThe clean references' own DNSMOS OVRL: ${fmt(clean, "ovrl")}.\n`;
    for (const t of tables) md += `\n#### ${groupTitle(set.name, t)}\n\n${groupMarkdown(t)}\n`;
  }
  if (figure) md += `\n### Before and after\n\nOne clip of set T (named in the figure), made by tools/heldout-figure.ts: the noisy input, the outputs, the clean speech.\n\n![spectrograms before and after](${figure.link})\n`;
  return md;
}

/**
 * The README.md section: one table, a row per condition of each set shown
 * by condition and a row per whole set, a column per system, cells =
 * DNSMOS OVRL means (the highest in bold); then the figure.
 */
export function readmeMarkdown(sets: HeldoutSet[], systems: SystemChoice[], figure?: HeldoutFigure, resultsLink = "docs/RESULTS.md#held-out-sets"): string {
  const head = ["set: condition", "clips", ...systems.map((s) => s.label)];
  const lines = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`];
  for (const set of sets) {
    const tables = setTables(set, systems);
    // The conditions first, then the whole set.
    for (const t of [...tables.slice(1), tables[0]]) {
      const v = t.systems.map((s) => s.mean.ovrl);
      const best = Math.max(...v.filter((x): x is number => x !== undefined));
      const cells = v.map((x) => (x !== undefined && fmt(x, "ovrl") === fmt(best, "ovrl") ? `**${fmt(x, "ovrl")}**` : fmt(x, "ovrl")));
      const name = t.token === null ? `**${groupName(set.name, t)}**` : groupName(set.name, t);
      lines.push(`| ${name} | ${t.clips} | ${cells.join(" | ")} |`);
    }
  }
  let md = `Mean DNSMOS OVRL (1-5, higher is better; the highest of each row in bold). SI-SDR, ESTOI, and the ${systems[0].label} model's ` +
    `paired difference to every other system with 95 % intervals, per condition: [docs/RESULTS.md, "Held-out sets"](${resultsLink}).\n\n${lines.join("\n")}\n`;
  if (figure) md += `\n![spectrograms before and after: noisy input, outputs, clean speech](${figure.link})\n`;
  return md;
}
