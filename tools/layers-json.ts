/**
 * Writes training/percepnet/layers.json: host/model-file.ts's layer and
 * tensor lists (layerSpecs, tensorSpecs) for a few named configurations.
 * The trainer's torch-free training/percepnet/topology.py is tested against
 * this file, so a layer change on either side fails a test without running
 * the other language; tests/topology.test.ts fails when the file is stale.
 *
 *   node dist/tools/layers-json.js [--check]
 *
 * --check writes nothing and exits 1 if the committed file is not what
 * layerSpecs gives now.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { DEFAULT_CONFIG, layerSpecs, tensorSpecs, type ModelConfig } from "../host/model-file.js";
import { makeConfig } from "../lab/random-model.js";

export const LAYERS_JSON = new URL("../../training/percepnet/layers.json", import.meta.url);

/**
 * The shipped models' configurations, and two that differ in every way the
 * layer arithmetic can: distinct conv1/conv2/gru widths (so a layer reading
 * the wrong one changes a width), one trunk GRU, no VAD head.
 */
export const NAMED_CONFIGS: Record<string, ModelConfig> = {
  default: structuredClone(DEFAULT_CONFIG) as ModelConfig,
  small: makeConfig(192),
  mixed: {
    nFeatures: 70, nBands: 34, lookahead: 2, dense: 24, conv1: { k: 4, out: 40 }, conv2: { k: 2, out: 48 },
    gru: 56, gruLayers: 2, gruR: 16, vad: true,
  },
  "one-gru-no-vad": {
    nFeatures: 70, nBands: 34, lookahead: 2, dense: 24, conv1: { k: 5, out: 40 }, conv2: { k: 3, out: 48 },
    gru: 56, gruLayers: 1, gruR: 16, vad: false,
  },
};

/** The file's text: one layer or tensor per line, so a change reads as a small diff. */
export function layersJson(): string {
  const line = (v: unknown) => JSON.stringify(v);
  const configs = Object.entries(NAMED_CONFIGS).map(([name, c]) => [
    `    {"name": ${line(name)}, "config": ${line(c)},`,
    `     "layers": [`,
    layerSpecs(c).map((l) => `      ${line(l)}`).join(",\n"),
    `     ],`,
    `     "tensors": [`,
    tensorSpecs(c).map((t) => `      ${line(t)}`).join(",\n"),
    `     ]}`,
  ].join("\n"));
  return [
    "{",
    `  "generatedBy": "tools/layers-json.ts from host/model-file.ts; do not edit",`,
    `  "defaultConfig": ${line(DEFAULT_CONFIG)},`,
    `  "configs": [`,
    configs.join(",\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
}

function main(argv: string[]): void {
  const text = layersJson();
  if (argv.includes("--check")) {
    let old = "";
    try { old = readFileSync(LAYERS_JSON, "utf8"); } catch { /* missing counts as stale */ }
    if (old !== text) {
      console.error(`${LAYERS_JSON.pathname} is stale: run node dist/tools/layers-json.js`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(LAYERS_JSON, text);
  console.log(`wrote ${LAYERS_JSON.pathname}`);
}

if (typeof process !== "undefined" && process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]/, "/"))) {
  main(process.argv.slice(2));
}
