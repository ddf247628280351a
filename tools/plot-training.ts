/**
 * Training and validation loss per epoch from a run's log.csv, as a PNG
 * (for README.md): node dist/tools/plot-training.js RUN/log.csv OUT.png
 */
import { readFileSync } from "node:fs";
import { plotCurves } from "../bench/plots.js";

const [csv, out] = process.argv.slice(2);
if (!csv || !out) { console.error("usage: plot-training RUN/log.csv OUT.png"); process.exit(2); }
const [head, ...lines] = readFileSync(csv, "utf8").trim().split("\n");
const cols = head.split(",");
const col = (name: string) => cols.indexOf(name);
const rows = lines.map((l) => l.split(",").map(Number));
const series = (name: string) => rows.map((r) => ({ x: r[col("epoch")], y: r[col(name)] }));
plotCurves(out, [
  { label: "loss", curves: [{ system: "train", points: series("train_loss") }, { system: "validation", points: series("val_loss") }] },
  { label: "validation gain loss", curves: [{ system: "train", points: [] }, { system: "validation", points: series("val_gain") }] },
], "epoch");
console.log(`wrote ${out}: ${rows.length} epochs`);
