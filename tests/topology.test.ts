/**
 * host/model-file.ts's layerSpecs is the one description of the network.
 * Here the wasm engine's own layer arithmetic (assembly/model.ts: layer
 * count, tensor ids, tensor sizes, which layers exist) is held to it, the
 * default configuration is held to the shipped model and docs/FORMATS.md,
 * and training/percepnet/layers.json (the trainer's copy, tested in
 * training/tests/test_topology.py) is held to be current. The wiring is
 * held by tests/nnet.test.ts, whose float reference reads it from layerSpecs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG, layerSpecs, parseModelFile, tensorSpecs, type ModelConfig, type TensorSpec } from "../host/model-file.js";
import { LAYERS_JSON, NAMED_CONFIGS, layersJson } from "../tools/layers-json.js";
import { makeConfig } from "../lab/random-model.js";
import { ROOT, TEST_WASM, wasmInstance } from "./util.js";

test("training/percepnet/layers.json is what tools/layers-json.ts writes from layerSpecs now", () => {
  assert.equal(readFileSync(LAYERS_JSON, "utf8"), layersJson(),
    "stale: run `npm run build:ts && node dist/tools/layers-json.js` and commit training/percepnet/layers.json");
});

test("DEFAULT_CONFIG is weights/default.pnm's config and the one in docs/FORMATS.md; small.pnm is makeConfig(192)", () => {
  const config = (name: string) => parseModelFile(readFileSync(join(ROOT, `weights/${name}.pnm`))).config;
  assert.deepEqual(config("default"), DEFAULT_CONFIG);
  assert.deepEqual(config("small"), NAMED_CONFIGS.small);
  const doc = readFileSync(join(ROOT, "docs/FORMATS.md"), "utf8");
  const block = /Config JSON[^\n]*\n+```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, "docs/FORMATS.md has no ```json block after 'Config JSON'");
  assert.deepEqual(JSON.parse(block[1]), DEFAULT_CONFIG);
  // The doc's layer table (in its own order) names the same layers.
  const table = [...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(table, layerSpecs(DEFAULT_CONFIG).map((l) => l.name).sort());
});

const bytesOf = (t: TensorSpec) => t.shape.reduce((p, v) => p * v, 1) * (t.dtype === "i8" ? 1 : 4);

const cases: [string, ModelConfig][] = [
  ...Object.entries(NAMED_CONFIGS),
  ["16 trunk GRUs (the engine's maximum)", makeConfig(8, { dense: 8, gruR: 8, gruLayers: 16 })],
];

for (const [name, c] of cases) {
  test(`wasm engine takes exactly layerSpecs' layers and tensors: ${name}`, async () => {
    const ex = await wasmInstance(TEST_WASM); // modelLayerOutPtr is a test hook
    assert.equal(ex.modelConfigure(c.nFeatures, c.nBands, c.dense, c.conv1.k, c.conv1.out, c.conv2.k, c.conv2.out,
      c.gru, c.gruLayers, c.gruR, c.vad ? 1 : 0), 0);
    const L = layerSpecs(c), T = tensorSpecs(c);
    assert.equal(ex.modelLayerCount(), L.length, "layer count");
    // Room for an oversized tensor, so that a wrong size is reported as a size (-3), not as no room (-2).
    ex.modelReserve(Math.max(...T.map(bytesOf)) + 16);
    const byId = new Map(T.map((t) => [t.id, t]));
    let left = T.length;
    // Every id one past the last layer: each either is a tensor of the spec or is refused as unknown.
    for (let id = -1; id < (L.length + 1) * 8; id++) {
      const t = byId.get(id);
      const where = `id ${id} (layer ${id >> 3} ${L[id >> 3]?.name ?? "-"}, kind ${id & 7})`;
      if (!t) {
        assert.equal(ex.modelLoadTensor(id, 4), -2, `${where} is no tensor of layerSpecs, yet the engine takes it`);
        continue;
      }
      const n = bytesOf(t), step = t.dtype === "i8" ? 1 : 4;
      // One element more or less: the engine's width for this tensor must be the spec's, not just close.
      assert.equal(ex.modelLoadTensor(id, n - step), -3, `${where} ${t.name}: engine takes ${n - step} bytes, spec says ${n}`);
      assert.equal(ex.modelLoadTensor(id, n + step), -3, `${where} ${t.name}: engine takes ${n + step} bytes, spec says ${n}`);
      assert.equal(ex.modelReady(), 0, `ready before ${t.name} was loaded`);
      assert.equal(ex.modelLoadTensor(id, n), 0, `${where} ${t.name}: engine refuses the spec's ${n} bytes`);
      left--;
    }
    assert.equal(left, 0, "a spec tensor id lies beyond the engine's layers");
    assert.equal(ex.modelReady(), 1, "every spec tensor loaded, yet the engine is not ready");
    L.forEach((l, i) => {
      assert.equal(ex.modelLayerOutPtr(i) !== 0, l.present, `layer ${i} ${l.name}: output ${l.present ? "missing" : "present"}`);
    });
    assert.equal(ex.modelLayerOutPtr(L.length), 0);
    assert.equal(ex.modelHasVad(), c.vad ? 1 : 0);
    assert.equal(ex.modelRun(), 0);
  });
}
