/**
 * Regenerates the speed, quality and held-out sections of docs/RESULTS.md
 * from the benchmarks' reports, so the published numbers are always a
 * command's output and never hand-copied (README.md quotes the speed
 * headline, which tests/readme-sections.test.ts holds to the bench section,
 * and its "Quality" table is generated from the held-out reports too):
 *
 *   npm run bench && npm run eval
 *   node dist/tools/readme-sections.js [--doc docs/RESULTS.md] [--bench report/bench.md]
 *        [--eval report/eval.md] [--images docs/img] [--check]
 *
 * Replaces what lies between `<!-- bench:start -->` and `<!-- bench:end -->`
 * with report/bench.md, and between `<!-- eval:start -->` and
 * `<!-- eval:end -->` with report/eval.md. The report's title (its first
 * `# ` heading) is dropped, its headings are moved down to start at `###`,
 * and relative links are rewritten to stay valid from the document's folder.
 * Images the reports link to are copied to --images (default: img/ beside
 * the document, docs/img; report/ is not committed) and linked there.
 * A report that does not exist leaves its section as it is.
 * --check writes nothing and exits 1 if the document or an image is not up to date.
 * (--readme is the old name of --doc, from when these sections lived in README.md.)
 *
 * The held-out sets (tools/heldout-tables.ts), from the folder of
 * `npm run eval:heldout` and its figure (tools/heldout-figure.ts):
 *
 *   node dist/tools/readme-sections.js --heldout DIR [--systems NAME=LABEL,...]
 *        [--heldout-conditions T] [--summary README.md]
 *
 * fills `<!-- heldout:start -->` .. `<!-- heldout:end -->` of the document
 * (every set's tables, per condition for the sets --heldout-conditions
 * names) and `<!-- quality:start -->` .. `<!-- quality:end -->` of --summary
 * (one table of DNSMOS OVRL, a row per condition, a column per system), and
 * copies DIR/heldout-spectrogram.png to the images folder. Only the systems
 * of --systems are shown (default: tools/heldout-tables.ts DEFAULT_SYSTEMS;
 * the first is the one compared with the others); other rows of the reports
 * are ignored. Without --heldout these two sections are left as they are.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { DEFAULT_SYSTEMS, FIGURE_NAME, parseSystems, readHeldoutDir, readmeMarkdown, resultsMarkdown } from "./heldout-tables.js";

/** The sections this tool owns: marker name -> default report path. */
export const SECTIONS: Record<string, string> = { bench: "report/bench.md", eval: "report/eval.md" };

const startMarker = (name: string) => `<!-- ${name}:start -->`;
const endMarker = (name: string) => `<!-- ${name}:end -->`;

function count(text: string, s: string): number {
  return text.split(s).length - 1;
}

/**
 * Replace the text between the `name` markers (which stay) with `body`.
 * Throws if the markers are missing, repeated or out of order.
 */
export function replaceSection(text: string, name: string, body: string): string {
  const a = startMarker(name), b = endMarker(name);
  if (count(text, a) !== 1 || count(text, b) !== 1) {
    throw new Error(`expected exactly one ${a} and one ${b} (found ${count(text, a)} and ${count(text, b)})`);
  }
  const i = text.indexOf(a) + a.length, j = text.indexOf(b);
  if (j < i) throw new Error(`${b} comes before ${a}`);
  return `${text.slice(0, i)}\n${body.trim()}\n${text.slice(j)}`;
}

/** Options of {@link embedMarkdown}. */
export interface EmbedOptions {
  /** Folder of the report: its relative links are relative to it. */
  fromDir: string;
  /** Folder of the document the text goes into. */
  toDir: string;
  /** Level the report's highest remaining heading becomes (default 3). */
  level?: number;
  /** Report path shown in the "generated" comment. */
  source?: string;
  /** Folder that linked images are copied to (and linked in); unset: link them where they are. */
  imagesDir?: string;
  /** Receives the image copies to make (report file -> imagesDir file). */
  copies?: ImageCopy[];
}

/** One image to copy from a report's folder into the document's image folder. */
export interface ImageCopy { from: string; to: string }

function isRelativeLink(target: string): boolean {
  return !/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target);
}

/**
 * Prepare a report for the document: drop its title, move its headings down,
 * rewrite relative link targets. Fenced code blocks are left alone.
 */
export function embedMarkdown(md: string, o: EmbedOptions): string {
  const lines = md.replace(/\r\n/g, "\n").split("\n");
  const title = lines.findIndex((l) => /^# /.test(l));
  if (title >= 0) lines.splice(title, 1);
  let fence = false;
  const headings: number[] = [];
  for (const l of lines) {
    if (/^\s*```/.test(l)) fence = !fence;
    else if (!fence && /^#{1,6} /.test(l)) headings.push(l.indexOf(" "));
  }
  const shift = headings.length ? (o.level ?? 3) - Math.min(...headings) : 0;
  const prefix = relative(resolve(o.toDir), resolve(o.fromDir)).split(sep).join("/");
  fence = false;
  const out = lines.map((l) => {
    if (/^\s*```/.test(l)) { fence = !fence; return l; }
    if (fence) return l;
    if (/^#{1,6} /.test(l)) {
      const n = Math.max(1, Math.min(6, l.indexOf(" ") + shift));
      l = "#".repeat(n) + l.slice(l.indexOf(" "));
    }
    return l.replace(/(!?\[[^\]]*\]\()([^)\s]+)/g, (m, open: string, target: string) => {
      if (!isRelativeLink(target)) return m;
      if (o.imagesDir && open.startsWith("!")) {
        const to = join(o.imagesDir, basename(target));
        o.copies?.push({ from: resolve(o.fromDir, target), to });
        return `${open}${relative(resolve(o.toDir), resolve(to)).split(sep).join("/")}`;
      }
      return prefix ? `${open}${prefix}/${target.replace(/^\.\//, "")}` : m;
    });
  });
  const note = `<!-- generated by tools/readme-sections.ts from ${o.source ?? "a report"}; edit the report's generator, not this text -->`;
  return `${note}\n${out.join("\n").trim()}`;
}

/** Result of {@link updateReadme}: the new document text, which sections changed or were skipped, the images to copy. */
export interface UpdateResult { text: string; changed: string[]; skipped: string[]; copies: ImageCopy[] }

function sameFile(a: string, b: string): boolean {
  return existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

/**
 * The document's text with every section whose report exists regenerated.
 * `reports` maps section name -> report path.
 */
export function updateReadme(readmePath: string, reports: Record<string, string>, imagesDir?: string): UpdateResult {
  let text = readFileSync(readmePath, "utf8");
  const changed: string[] = [], skipped: string[] = [], copies: ImageCopy[] = [];
  for (const [name, path] of Object.entries(reports)) {
    if (!existsSync(path)) { skipped.push(name); continue; }
    const body = embedMarkdown(readFileSync(path, "utf8"), {
      fromDir: dirname(path), toDir: dirname(readmePath), source: isAbsolute(path) ? path : path.split(sep).join("/"),
      imagesDir, copies,
    });
    const next = replaceSection(text, name, body);
    if (next !== text) changed.push(name);
    text = next;
  }
  return { text, changed, skipped, copies };
}

function link(fromDoc: string, target: string): string {
  return relative(dirname(resolve(fromDoc)), resolve(target)).split(sep).join("/");
}

/** Options of {@link updateHeldout}. */
export interface HeldoutOptions {
  /** Folder of `npm run eval:heldout` (DIR/S/report/eval.json, DIR/heldout-spectrogram.png). */
  dir: string;
  /** `--systems` spec, NAME=LABEL,... (the first is the default model). */
  systems: string;
  /** Sets given one table per condition. */
  conditions: string[];
  /** The document with the short table (README.md). */
  summary: string;
  /** Its current text. */
  summaryText: string;
  /** Folder the figure is copied to. */
  imagesDir: string;
}

/**
 * `text` (docs/RESULTS.md) and the summary's text with their held-out
 * sections regenerated from the reports of `o.dir`; adds the figure's copy
 * to `copies`. Throws when the folder has no report or lacks a system.
 */
export function updateHeldout(docPath: string, text: string, o: HeldoutOptions, copies: ImageCopy[]): { text: string; summaryText: string } {
  const sets = readHeldoutDir(o.dir, o.conditions);
  if (!sets.length) throw new Error(`no held-out report in ${o.dir} (expected ${o.dir}/T/report/eval.json; run npm run eval:heldout)`);
  const systems = parseSystems(o.systems);
  const figure = { from: resolve(o.dir, FIGURE_NAME), to: join(o.imagesDir, FIGURE_NAME) };
  if (!existsSync(figure.from)) throw new Error(`${figure.from} not found (make it with node dist/tools/heldout-figure.js --set ${o.dir}/T)`);
  copies.push(figure);
  const source = `${isAbsolute(o.dir) ? o.dir : o.dir.split(sep).join("/")}/{${sets.map((s) => s.name).join(",")}}/report/eval.json`;
  const note = `<!-- generated by tools/readme-sections.ts (tools/heldout-tables.ts) from ${source}; edit the generator, not this text -->`;
  const results = resultsMarkdown(sets, systems, { link: link(docPath, figure.to) });
  const summary = readmeMarkdown(sets, systems, { link: link(o.summary, figure.to) }, `${link(o.summary, docPath)}#held-out-sets`);
  return {
    text: replaceSection(text, "heldout", `${note}\n${results}`),
    summaryText: replaceSection(o.summaryText, "quality", `${note}\n${summary}`),
  };
}

/** The command line; returns the exit code. */
export function main(argv: string[], log: (s: string) => void = (s) => console.error(s)): number {
  let readme = "docs/RESULTS.md";
  const reports = { ...SECTIONS };
  let check = false;
  let images: string | undefined;
  let heldout: string | undefined, systems = DEFAULT_SYSTEMS, conditions = ["T"], summary = "README.md";
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    if (k === "--doc" || k === "--readme") readme = v();
    else if (k === "--bench") reports.bench = v();
    else if (k === "--eval") reports.eval = v();
    else if (k === "--images") images = v();
    else if (k === "--heldout") heldout = v();
    else if (k === "--systems") systems = v();
    else if (k === "--heldout-conditions") conditions = v().split(",").map((s) => s.trim()).filter(Boolean);
    else if (k === "--summary") summary = v();
    else if (k === "--check") check = true;
    else { log(`readme-sections: unknown argument ${k}`); return 2; }
  }
  const imagesDir = images ?? join(dirname(readme), "img");
  let r: UpdateResult;
  let summaryOld: string | undefined, summaryNew: string | undefined;
  try {
    r = updateReadme(readme, reports, imagesDir);
    if (heldout !== undefined) {
      summaryOld = readFileSync(summary, "utf8");
      const h = updateHeldout(readme, r.text, { dir: heldout, systems, conditions, summary, summaryText: summaryOld, imagesDir }, r.copies);
      if (h.text !== r.text) r.changed.push("heldout");
      r.text = h.text;
      summaryNew = h.summaryText;
    }
  } catch (e) {
    log(`readme-sections: ${readme}: ${(e as Error).message}`);
    return 1;
  }
  for (const s of r.skipped) log(`readme-sections: ${reports[s]} not found; section "${s}" left as it is`);
  if (heldout === undefined) log("readme-sections: no --heldout DIR; the held-out sections are left as they are");
  if (r.skipped.length === Object.keys(reports).length && heldout === undefined) { log("readme-sections: no report found; run npm run bench / npm run eval first"); return 1; }
  const missing = r.copies.filter((c) => !existsSync(c.from));
  if (missing.length) { log(`readme-sections: linked image not found: ${missing.map((c) => c.from).join(", ")}`); return 1; }
  const stale = r.copies.filter((c) => !sameFile(c.from, c.to));
  const summaryChanged = summaryNew !== undefined && summaryNew !== summaryOld;
  const what = [...r.changed.map((s) => `${s} in ${readme}`), ...(summaryChanged ? [`quality in ${summary}`] : []), ...stale.map((c) => c.to)];
  if (check) {
    if (what.length) {
      log(`readme-sections: out of date: ${what.join(", ")}`);
      return 1;
    }
    log(`readme-sections: ${readme}${summaryNew !== undefined ? ` and ${summary} are` : " is"} up to date`);
    return 0;
  }
  for (const c of stale) { mkdirSync(dirname(c.to), { recursive: true }); copyFileSync(c.from, c.to); }
  if (r.changed.length) writeFileSync(readme, r.text);
  if (summaryChanged) writeFileSync(summary, summaryNew!);
  log(`readme-sections: ${what.length ? `updated ${what.join(", ")}` : "already up to date"}`);
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, "/"))) {
  process.exitCode = main(process.argv.slice(2));
}
