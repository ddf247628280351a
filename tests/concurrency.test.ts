/**
 * Many independent instances, in one thread and across worker threads,
 * give bit-identical output to one instance alone on the same input:
 * instances share no mutable state (each owns its wasm memory).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { Denoiser } from "../host/denoiser.js";
import { parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { rng, wasmModule } from "./util.js";

const modelBytes = randomModelFile(makeConfig(128), 9);
const model = parseModelFile(modelBytes);
const SECONDS = 1.5;

function input(seed: number): Float32Array {
  const r = rng(seed);
  const f = 80 + 40 * r();
  return Float32Array.from({ length: Math.round(48000 * SECONDS) }, (_, i) =>
    0.3 * Math.sin(2 * Math.PI * f * i / 48000) * (0.5 + 0.5 * Math.sin(i / 4000 + seed)) + (r() * 2 - 1) * 0.05);
}

async function solo(x: Float32Array, opts: { model: typeof model | null }): Promise<Float32Array> {
  return new Denoiser(await wasmModule(), opts).process(x);
}

test("16 instances interleaved in random-sized chunks match solo runs bit for bit", async () => {
  const module = await wasmModule();
  const n = 16;
  const xs = Array.from({ length: n }, (_, k) => input(k + 1));
  const opts = (k: number) => ({ model: k % 4 === 3 ? null : model });
  const ds = xs.map((_, k) => new Denoiser(module, opts(k)));
  const ys = xs.map((x) => new Float32Array(x.length));
  const pos = new Array(n).fill(0);
  const r = rng(5);
  while (pos.some((p, k) => p < xs[k].length)) {
    const k = Math.floor(r() * n);
    if (pos[k] >= xs[k].length) continue;
    const len = Math.min(xs[k].length - pos[k], 1 + Math.floor(r() * 2000));
    ys[k].set(ds[k].process(xs[k].subarray(pos[k], pos[k] + len)), pos[k]);
    pos[k] += len;
  }
  for (let k = 0; k < n; k++) assert.deepEqual(ys[k], await solo(xs[k], opts(k)), `instance ${k}`);
});

test("two instances on different inputs, alternating frame by frame, match solo runs", async () => {
  const module = await wasmModule();
  const a = input(21), b = input(22);
  const da = new Denoiser(module, { model }), db = new Denoiser(module, { model });
  const ya = new Float32Array(a.length), yb = new Float32Array(b.length);
  for (let i = 0; i < a.length; i += 480) {
    ya.set(da.process(a.subarray(i, i + 480)), i);
    yb.set(db.process(b.subarray(i, i + 480)), i);
  }
  const sa = await solo(a, { model }), sb = await solo(b, { model });
  assert.deepEqual(ya, sa);
  assert.deepEqual(yb, sb);
  assert.notDeepEqual(sa.subarray(4800), sb.subarray(4800)); // the comparison can fail
});

test("4 worker threads give the same bits as the main thread", async () => {
  const xs = [input(31), input(32)];
  const ref = await Promise.all(xs.map((x) => solo(x, { model })));
  const url = new URL("./worker-denoise.js", import.meta.url);
  const runs = await Promise.all(Array.from({ length: 4 }, (_, w) => new Promise<Float32Array[]>((resolve, reject) => {
    const worker = new Worker(url, { workerData: { model: modelBytes, inputs: xs, chunk: [480, 441, 97, 4096][w] } });
    worker.once("message", (m) => { resolve(m as Float32Array[]); void worker.terminate(); });
    worker.once("error", reject);
  })));
  runs.forEach((outs, w) => outs.forEach((y, k) => assert.deepEqual(y, ref[k], `worker ${w}, input ${k}`)));
});
