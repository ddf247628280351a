/**
 * Training and validation loss from one or more runs' log.csv, as a PNG (for
 * training/HISTORY.md):
 *   node dist/tools/plot-training.js [NAME=]RUN/log.csv [[NAME=]STAGE2/log.csv ...] OUT.png
 * Several logs are stages of one model (a fine-tuning run started with
 * --init from the previous one): they are chained on one axis of optimizer
 * steps, each stage its own curves, since a stage may change the loss. A
 * stage is named NAME, else by the "stageN" in its file name, else by its
 * position. A stage whose step count starts again below the previous
 * stage's end (a widened --init sets its own step for its lr schedule) is
 * drawn after it. Rows without a validation gain loss (a run without --val,
 * whose val column repeats the training loss) get no validation point.
 */
import { readFileSync } from "node:fs";
import { plotCurves } from "../bench/plots.js";

const args = process.argv.slice(2);
const out = args.pop();
if (!out || !args.length) { console.error("usage: plot-training [NAME=]RUN/log.csv [...] OUT.png"); process.exit(2); }

interface Point { x: number; y: number }
interface Stage { name: string; train: Point[]; val: Point[]; valGain: Point[] }
let end = -Infinity;
const stages: Stage[] = args.map((arg, i) => {
  const eq = arg.indexOf("=");
  const csv = eq > 0 ? arg.slice(eq + 1) : arg;
  const [head, ...lines] = readFileSync(csv, "utf8").trim().split("\n");
  const cols = head.split(",");
  const col = (n: string) => {
    const k = cols.indexOf(n);
    if (k < 0) throw new Error(`${csv}: no column ${n}`);
    return k;
  };
  const rows = lines.map((l) => l.split(","));
  const steps = rows.map((r) => Number(r[col("steps")]));
  // The steps column is cumulative across stages (a fine-tuning run continues the step count).
  // A restarted count: its first epoch is drawn one epoch's steps after the previous stage's end.
  const epochSteps = steps.length > 1 ? steps[1] - steps[0] : 1;
  const shift = steps.length && steps[0] <= end ? end + epochSteps - steps[0] : 0;
  if (steps.length) end = steps[steps.length - 1] + shift;
  // log-stage10.csv is stage 10 even when stages 8 and 9 (not shipped) are left out of the plot.
  const n = eq > 0 ? arg.slice(0, eq) : /stage(\d+)/.exec(csv)?.[1] ?? String(i + 1);
  const pts = (name: string, keep: (r: string[]) => boolean) => {
    const k = col(name);
    return rows.flatMap((r, j) => (keep(r) ? [{ x: steps[j] + shift, y: Number(r[k]) }] : []));
  };
  const vg = col("val_gain");
  const hasVal = (r: string[]) => r[vg] !== undefined && r[vg] !== "";
  return {
    name: args.length > 1 ? ` (stage ${n})` : "",
    train: pts("train_loss", () => true), val: pts("val_loss", hasVal), valGain: pts("val_gain", hasVal),
  };
});
// Both panels list the same curves in the same order, so colours match; a stage without validation has none.
const curves = (val: (s: Stage) => Point[], train: (s: Stage) => Point[]) => stages.flatMap((s) => [
  { system: `train${s.name}`, points: train(s) },
  ...(s.val.length ? [{ system: `validation${s.name}`, points: val(s) }] : []),
]);
plotCurves(out, [
  { label: "loss", curves: curves((s) => s.val, (s) => s.train) },
  { label: "validation gain loss", curves: curves((s) => s.valGain, () => []) },
], "optimizer step");
console.log(`wrote ${out}: ${stages.map((s) => s.train.length).join(" + ")} epochs`);
