/**
 * Training and validation loss from one or more runs' log.csv, as a PNG (for
 * README.md):
 *   node dist/tools/plot-training.js RUN/log.csv [STAGE2/log.csv ...] OUT.png
 * Several logs are stages of one model (a fine-tuning run started with
 * --init from the previous one): they are chained on one axis of optimizer
 * steps, each stage its own curves, since a stage may change the loss.
 */
import { readFileSync } from "node:fs";
import { plotCurves } from "../bench/plots.js";

const args = process.argv.slice(2);
const out = args.pop();
if (!out || !args.length) { console.error("usage: plot-training RUN/log.csv [STAGE2/log.csv ...] OUT.png"); process.exit(2); }

interface Stage { name: string; rows: number[][]; col: (name: string) => number }
const stages: Stage[] = args.map((csv, i) => {
  const [head, ...lines] = readFileSync(csv, "utf8").trim().split("\n");
  const cols = head.split(",");
  // log-stage10.csv is stage 10 even when stages 8 and 9 (not shipped) are left out of the plot.
  const n = /stage(\d+)/.exec(csv)?.[1] ?? String(i + 1);
  return { name: args.length > 1 ? ` (stage ${n})` : "", rows: lines.map((l) => l.split(",").map(Number)), col: (n) => cols.indexOf(n) };
});
// The steps column is cumulative across stages (a fine-tuning run continues the step count).
const series = (s: Stage, name: string) => s.rows.map((r) => ({ x: r[s.col("steps")], y: r[s.col(name)] }));
plotCurves(out, [
  { label: "loss", curves: stages.flatMap((s) => [{ system: `train${s.name}`, points: series(s, "train_loss") }, { system: `validation${s.name}`, points: series(s, "val_loss") }]) },
  { label: "validation gain loss", curves: stages.flatMap((s) => [{ system: `train${s.name}`, points: [] }, { system: `validation${s.name}`, points: series(s, "val_gain") }]) },
], "optimizer step");
console.log(`wrote ${out}: ${stages.map((s) => s.rows.length).join(" + ")} epochs`);
