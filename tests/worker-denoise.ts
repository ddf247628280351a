// Worker side of tests/concurrency.test.ts: denoise the inputs it is given
// with its own module and instance, post the outputs back.
import { parentPort, workerData } from "node:worker_threads";
import { Denoiser } from "../host/denoiser.js";
import { wasmModule } from "./util.js";

interface Job { model: Uint8Array | null; inputs: Float32Array[]; chunk: number }

const job = workerData as Job;
const module = await wasmModule();
const outputs = job.inputs.map((x) => {
  const d = new Denoiser(module, { model: job.model });
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += job.chunk) y.set(d.process(x.subarray(i, i + job.chunk)), i);
  return y;
});
parentPort!.postMessage(outputs);
