/**
 * Batch throughput of the CLI: a pool of N worker threads, each running the
 * `percepnet` command (host/cli.ts main) on whole files, as a batch job on
 * every core would.
 *
 *   node dist/bench/throughput.js [--files 16] [--input WAV] [--model PNM] [--workers 1,2]
 *
 * Default input: 16 copies of /work/shared/data/samples/speech_noisy_snr0.wav
 * (the same file listed 16 times; outputs go to a temporary directory that is
 * removed afterwards). Reports files/s and x real time per core (audio
 * seconds / wall seconds / N) for N = 1 and N = os.cpus().length.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { decodeWav } from "../host/wav.js";

/** The sample file used when no input is given. */
export const DEFAULT_INPUT = "/work/shared/data/samples/speech_noisy_snr0.wav";

/** One pool size's result. */
export interface ThroughputResult {
  workers: number; files: number; audioSeconds: number; wallSeconds: number;
  filesPerSecond: number; xRealTime: number; xRealTimePerCore: number; failures: number;
}

interface Job { input: string; output: string }
type ToWorker = Job | null;
interface FromWorker { ready?: true; done?: true; code?: number }

async function workerMain(): Promise<void> {
  const { main } = await import("../host/cli.js");
  const model = (workerData as { model?: string }).model;
  const silent = { write: () => true };
  parentPort!.on("message", async (job: ToWorker) => {
    if (!job) { parentPort!.close(); return; }
    const argv = [job.input, "-o", job.output, "-f", "-q", ...(model ? ["--model", model] : [])];
    const code = await main(argv, { io: { stdout: silent, stderr: { write: (s: string) => { process.stderr.write(s); return true; } } } });
    parentPort!.postMessage({ done: true, code } satisfies FromWorker);
  });
  parentPort!.postMessage({ ready: true } satisfies FromWorker);
}

/**
 * Denoise `inputs` with a pool of `n` workers; the clock starts once every
 * worker has loaded its modules (start-up is a one-off, not throughput).
 */
export async function runPool(inputs: string[], n: number, model?: string): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), "percepnet-throughput-"));
  // An unreadable file counts 0 s here; the worker's exit code reports it as a failure.
  const seconds = (f: string) => {
    try { const w = decodeWav(new Uint8Array(readFileSync(f))); return w.info.frames / w.info.sampleRate; } catch { return 0; }
  };
  const audioSeconds = inputs.reduce((s, f) => s + seconds(f), 0);
  const self = fileURLToPath(import.meta.url);
  const workers = Array.from({ length: n }, () => new Worker(self, { workerData: { model } }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
      w.once("error", rej);
      w.once("message", (m: FromWorker) => (m.ready ? res() : rej(new Error("worker did not start"))));
    })));
    const queue = inputs.map((input, i) => ({ input, output: join(dir, `out-${i}.wav`) }));
    let failures = 0;
    const t0 = performance.now();
    await Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
      const next = () => {
        const job = queue.shift();
        if (!job) { res(); return; }
        w.postMessage(job satisfies ToWorker);
      };
      w.on("error", rej);
      w.on("message", (m: FromWorker) => { if (m.done) { if (m.code !== 0) failures++; next(); } });
      next();
    })));
    const wallSeconds = (performance.now() - t0) / 1000;
    const x = audioSeconds / wallSeconds;
    return { workers: n, files: inputs.length, audioSeconds, wallSeconds, filesPerSecond: inputs.length / wallSeconds, xRealTime: x, xRealTimePerCore: x / n, failures };
  } finally {
    for (const w of workers) w.postMessage(null);
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pool sizes 1 and the number of cores (deduplicated). */
export function defaultPoolSizes(): number[] {
  return [...new Set([1, cpus().length])];
}

async function cli(argv: string[]): Promise<void> {
  const arg = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const files = Number(arg("--files") ?? 16);
  const input = arg("--input") ?? DEFAULT_INPUT;
  const sizes = arg("--workers")?.split(",").map(Number) ?? defaultPoolSizes();
  const model = arg("--model");
  console.log(`${files} x ${input}; ${cpus().length} cores; model: ${model ?? "bundled default"}`);
  console.log("workers  files/s  x real time  x real time per core  wall s");
  for (const n of sizes) {
    const r = await runPool(Array(files).fill(input), n, model);
    if (r.failures) console.error(`${r.failures} file(s) failed`);
    console.log(`${String(n).padStart(7)}  ${r.filesPerSecond.toFixed(2).padStart(7)}  ${r.xRealTime.toFixed(1).padStart(11)}  ${r.xRealTimePerCore.toFixed(1).padStart(20)}  ${r.wallSeconds.toFixed(2).padStart(6)}`);
  }
}

if (!isMainThread) await workerMain();
else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await cli(process.argv.slice(2));
