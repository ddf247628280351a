/**
 * Paired comparison of one system against the others, pooled over one or
 * more evaluation runs (e.g. two test sets drawn from the validation split):
 *
 *   node dist/tools/eval-paired.js RUN/eval.json [RUN2/eval.json ...] [--system ours]
 *        [--by-condition]
 *
 * Files are paired by name within each run; runs never pair with each other
 * (each run's file names get the run's index as a prefix). Prints, per peer,
 * the mean difference (system minus peer) of SI-SDR, ESTOI and DNSMOS OVRL
 * with its 95 % bootstrap interval and the count of files won.
 */
import { existsSync, readFileSync } from "node:fs";
import { groupByCondition, pairedTable, peersOf, type FileResult } from "../bench/report.js";

interface Args { runs: string[]; system: string; byCondition: boolean }

const USAGE = "usage: eval-paired RUN/eval.json [MORE/eval.json ...] [--system NAME] [--by-condition]";

function parse(argv: string[]): Args {
  const a: Args = { runs: [], system: "ours", byCondition: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--system") {
      const v = argv[++i];
      if (!v) throw new Error("--system needs a name");
      a.system = v;
    } else if (k === "--by-condition") a.byCondition = true;
    else if (k === "-h" || k === "--help") { console.log(USAGE); process.exit(0); }
    else if (k.startsWith("-")) throw new Error(`unknown option ${k}\n${USAGE}`);
    else a.runs.push(k);
  }
  if (a.runs.length === 0) throw new Error(USAGE);
  return a;
}

/** Rows of several eval.json runs, file names made unique per run. */
export function pooledRows(runs: { rows: FileResult[] }[]): FileResult[] {
  return runs.flatMap((run, i) => run.rows.map((r) => ({ ...r, file: `${i}:${r.file}` })));
}

function main(): void {
  const args = parse(process.argv.slice(2));
  const runs = args.runs.map((p) => {
    if (!existsSync(p)) throw new Error(`no such file: ${p}`);
    const j = JSON.parse(readFileSync(p, "utf8")) as { rows?: FileResult[] };
    if (!Array.isArray(j.rows)) throw new Error(`${p} is not an eval.json (no rows)`);
    return { rows: j.rows };
  });
  const rows = pooledRows(runs);
  const systems = [...new Set(rows.map((r) => r.system))];
  if (!systems.includes(args.system)) throw new Error(`no system "${args.system}" in the runs (have: ${systems.join(", ")})`);
  const peers = peersOf(systems, args.system);
  const filesOf = (rs: FileResult[]) => new Set(rs.filter((r) => r.system === args.system).map((r) => r.file)).size;
  console.log(`## ${args.system} minus each peer (${filesOf(rows)} files from ${runs.length} run${runs.length > 1 ? "s" : ""})\n`);
  console.log(pairedTable(rows, args.system, peers) + "\n");
  if (args.byCondition) {
    for (const [k, rs] of groupByCondition(rows)) {
      console.log(`### ${k} (${filesOf(rs)} files)\n\n${pairedTable(rs, args.system, peers)}\n`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, "/"))) {
  try {
    main();
  } catch (e) {
    console.error(`eval-paired: ${(e as Error).message}`);
    process.exit(2);
  }
}
