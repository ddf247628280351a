/**
 * Speed benchmark (`npm run bench`): cost of one 10 ms frame in Node, per
 * stage, against the peers, against network width, memory after a long
 * run, and batch throughput of the CLI on all cores.
 *
 *   node dist/bench/bench.js [--quick] [--out report] [--audio WAV] [--model PNM]
 *        [--no-peers] [--no-throughput] [--no-density] [--relaxed-node PATH]
 *
 * Model: --model, else weights/default.pnm if it exists, else a random model
 * of width 256 (the cost depends on the shape, not on the weights). Audio:
 * /work/shared/data/samples/speech_noisy_snr0.wav (looped as needed).
 * Writes OUT/bench.json and OUT/bench.md. Default run about 3 minutes,
 * --quick about 30 s, plus the density section (bench/density.ts: block-
 * sparse models at densities 1.0-0.1, plain and relaxed SIMD, against
 * RNNoise's SIMD build; about 1-2 minutes, --quick about 10 s; skipped
 * with --no-density). Its relaxed column runs in a child Node when this
 * one does not choose the relaxed build: --relaxed-node PATH names that
 * Node (default: this one with --experimental-wasm-relaxed-simd --no-liftoff).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Denoiser } from "../host/denoiser.js";
import { parseModelFile, weightCount } from "../host/model-file.js";
import { compileWasm } from "../host/wasm.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { densityCounts, densitySection, densityTable, loadAudio, type DensityResult } from "./density.js";
import { peerSpeeds, type PeerSpeed } from "./peer-speed.js";
import { benchModel, denoiserChunks, denoiserFrames, longRunMemory, rawFrames, rawInstance, rotate, networkSteps, stageSamplers, stagesFrom, summarise, type FrameCost, type MemoryReport, type Sampler, type Stage } from "./speed.js";
import { DEFAULT_INPUT, defaultPoolSizes, runPool, type ThroughputResult } from "./throughput.js";
import { fmt, mdTable, median, pctCore, textTable, xRealTime } from "./timing.js";

const WIDTHS = [128, 192, 256, 384, 512];

interface Opts { quick: boolean; out: string; audio: string; model?: string; peers: boolean; throughput: boolean; density: boolean; relaxedNode?: string }

function parseArgs(argv: string[]): Opts {
  const o: Opts = { quick: false, out: "report", audio: DEFAULT_INPUT, peers: true, throughput: true, density: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    if (k === "--quick") o.quick = true;
    else if (k === "--out") o.out = v();
    else if (k === "--audio") o.audio = v();
    else if (k === "--model") o.model = v();
    else if (k === "--no-peers") o.peers = false;
    else if (k === "--no-throughput") o.throughput = false;
    else if (k === "--no-density") o.density = false;
    else if (k === "--relaxed-node") o.relaxedNode = v();
    else if (k === "-h" || k === "--help") {
      console.log(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return o;
}

interface Results {
  date: string; node: string; arch: string; cpu: string; cores: number; loadAverage: number; quick: boolean;
  model: string; audio: string;
  whole: { denoiser: FrameCost; raw: FrameCost; scalar: FrameCost; worklet128: FrameCost; unity: FrameCost };
  stages: Stage[]; other: number;
  peers: PeerSpeed[];
  density: DensityResult | null;
  widths: { width: number; weights: number; bytes: number; networkUs: number; frame: FrameCost }[];
  memory: MemoryReport;
  throughput: ThroughputResult[];
}

function log(s: string): void { process.stderr.write(`${s}\n`); }

async function measure(o: Opts): Promise<Results> {
  const q = o.quick;
  // Other jobs on the machine slow every figure: say how busy it was.
  const load = loadavg()[0];
  const simd = await compileWasm(new URL("../../build/percepnet.wasm", import.meta.url));
  const scalar = await compileWasm(new URL("../../build/percepnet-scalar.wasm", import.meta.url));
  const audio = loadAudio(o.audio);
  const m = benchModel(o.model);
  log(`model: ${m.label}`);

  // Everything timed per frame runs interleaved in rounds (see rotate): the
  // ratios between paths and the stage breakdown then see the same machine.
  log("whole frame and stages...");
  const main = rawInstance(simd, m.model);
  const chunk = q ? 100 : 200;
  const t = rotate({
    denoiser: denoiserFrames(new Denoiser(simd, { model: m.model }), audio, chunk),
    raw: rawFrames(main, audio, chunk),
    unity: rawFrames(rawInstance(simd, null), audio, chunk),
    scalar: rawFrames(rawInstance(scalar, m.model), audio, chunk >> 3),
    worklet128: denoiserChunks(new Denoiser(simd, { model: m.model }), audio, 128, chunk >> 2),
    ...stageSamplers(simd, main, audio, chunk >> 2),
  }, q ? 8 : 60);
  const raw = summarise(t.raw);
  const stages = stagesFrom(t);
  const other = raw.median - stages.reduce((s, x) => s + x.us, 0);
  const whole = { denoiser: summarise(t.denoiser), raw, scalar: summarise(t.scalar), worklet128: summarise(t.worklet128), unity: summarise(t.unity) };

  log("network widths...");
  const byWidth: Record<string, Sampler> = {};
  const info = WIDTHS.map((width) => {
    const bytes = randomModelFile(makeConfig(width), 1);
    const pm = parseModelFile(bytes);
    const wex = rawInstance(simd, pm);
    byWidth[`f${width}`] = rawFrames(wex, audio, q ? 50 : 100);
    byWidth[`n${width}`] = networkSteps(wex, q ? 50 : 100);
    return { width, weights: weightCount(pm.config), bytes: bytes.length };
  });
  const tw = rotate(byWidth, q ? 4 : 12);
  const widths = info.map((w) => ({ ...w, networkUs: median(tw[`n${w.width}`]), frame: summarise(tw[`f${w.width}`]) }));

  const memSeconds = q ? 60 : 600;
  log(`memory: ${memSeconds} s of audio through one instance...`);
  const memory = longRunMemory(new Denoiser(simd, { model: m.model }), audio, memSeconds);

  let peers: PeerSpeed[] = [];
  if (o.peers) {
    log("peers (same audio, steady-state cost per 10 ms)...");
    peers = await peerSpeeds(audio, m.bytes, q ? 6 : 21, q ? 2 : 5, log);
  }

  let density: DensityResult | null = null;
  if (o.density) {
    log("cost against density (block-sparse models, plain and relaxed, with RNNoise's SIMD build)...");
    density = await densitySection({ audio: o.audio, ...densityCounts(q), relaxedEnv: o.relaxedNode ? { node: o.relaxedNode } : {}, log });
  }

  const throughput: ThroughputResult[] = [];
  if (o.throughput) {
    const dir = mkdtempSync(join(tmpdir(), "percepnet-bench-"));
    try {
      const modelPath = join(dir, "model.pnm");
      writeFileSync(modelPath, m.bytes);
      const files = Array(q ? 4 : 16).fill(o.audio);
      for (const n of defaultPoolSizes()) {
        log(`throughput: ${files.length} files, ${n} worker(s)...`);
        throughput.push(await runPool(files, n, modelPath));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  return {
    date: new Date().toISOString(), node: process.version, arch: arch(), cpu: cpus()[0]?.model ?? "?", cores: cpus().length, loadAverage: load, quick: q,
    model: m.label, audio: o.audio,
    whole, stages, other, peers, density, widths, memory, throughput,
  };
}

/** The report's tables: [title, header, rows, note]. */
function tables(r: Results): [string, string[], string[][], string][] {
  const us = (v: number) => fmt(v, 1);
  const row = (name: string, c: FrameCost): string[] => [name, us(c.median), us(c.mean), us(c.p99), fmt(pctCore(c.median), 2), fmt(xRealTime(c.median), 0)];
  const out: [string, string[], string[][], string][] = [];
  out.push(["Whole pipeline, one 10 ms frame", ["path", "median us", "mean us", "p99 us", "% of one core", "x real time"], [
    row("Denoiser.process, 480-sample chunks", r.whole.denoiser),
    row("Denoiser.process, 128-sample chunks (per 10 ms)", r.whole.worklet128),
    row("processFrame() called directly", r.whole.raw),
    row("processFrame(), scalar build (no SIMD)", r.whole.scalar),
    row("processFrame(), no network (unity gains)", r.whole.unity),
  ], `Median of ${r.whole.denoiser.frames} frames per path, each timed on its own, the paths interleaved in rounds after a warm-up round; one thread. % of one core and x real time from the median. 128-sample chunks: groups of 15 calls (4 frames) timed, per 10 ms.`]);
  const total = r.whole.raw.median;
  const stageRows = r.stages.map((s) => [s.name, s.calls, us(s.us), fmt((100 * s.us) / total, 0)]);
  stageRows.push(["other (input, history, features, coherence, output)", "difference to the whole frame", us(r.other), fmt((100 * r.other) / total, 0)]);
  stageRows.push(["host framing (Denoiser.process vs processFrame)", "per 480-sample chunk", us(r.whole.denoiser.median - r.whole.raw.median), "-"]);
  out.push(["Per-stage cost of one frame", ["stage", "calls per frame", "us", "% of frame"], stageRows,
    "Stages timed on their own through the wasm's test*/model* exports (medians of short intervals, JS call overhead subtracted), multiplied by their calls per frame, interleaved with the whole-frame timings. The difference to the whole frame is the rest of processFrame (small; it can come out slightly negative from measurement noise)."]);
  const ours = r.peers.find((p) => p.name === "ours");
  if (r.peers.length) {
    out.push(["Against other WebAssembly suppressors (same audio, Node)", ["system", "us per 10 ms", "% of one core", "x real time", "cost / ours", "set-up ms"],
      r.peers.map((p) => p.skipped ? [p.name, "-", "-", "-", "-", `skipped: ${p.skipped}`] : [
        p.name, us(p.usPerFrame), fmt(pctCore(p.usPerFrame), 2), fmt(xRealTime(p.usPerFrame), 0),
        ours && !ours.skipped ? fmt(p.usPerFrame / ours.usPerFrame, 2) : "-", fmt(p.setupMs, 1)]),
      "Steady-state slope of whole-signal run() times (long minus 1 s signal; a mean over frames, so above the per-frame median), which cancels each system's per-run set-up; systems interleaved in rounds, median of rounds. GTCRN runs a 16 kHz model inside its worklet."]);
  }
  if (r.density) out.push(densityTable(r.density));
  out.push(["Cost vs network width (random models)", ["width", "weights", "model KiB", "network us", "frame us", "% of one core"],
    r.widths.map((w) => [String(w.width), `${(w.weights / 1e6).toFixed(2)} M`, fmt(w.bytes / 1024, 0), us(w.networkUs), us(w.frame.median), fmt(pctCore(w.frame.median), 2)]),
    "Width = conv1, conv2 and each of the 3 GRUs; dense 128, gru_r 128. Network = one step (modelRunRepeat(1)), frame = processFrame(), medians of single timings, widths interleaved."]);
  const mm = r.memory;
  out.push([`Memory after ${mm.seconds / 60} minutes of audio through one instance`, ["", "before", "after"], [
    ["wasm memory (64 KiB pages)", String(mm.pagesBefore), String(mm.pagesAfter)],
    ["JS heap used, MiB (after full GC)", fmt(mm.heapBeforeMB, 1), fmt(mm.heapAfterMB, 1)],
  ], `Process RSS after: ${fmt(mm.rssAfterMB, 0)} MiB.`]);
  if (r.throughput.length) {
    out.push(["CLI batch throughput (worker_threads pool, whole files)", ["workers", "files", "files/s", "x real time", "x real time per core"],
      r.throughput.map((t) => [String(t.workers), String(t.files), fmt(t.filesPerSecond, 2), fmt(t.xRealTime, 0), fmt(t.xRealTimePerCore, 0)]),
      `Each worker runs the percepnet command (decode, denoise, encode, write) on ${fmt(r.throughput[0].audioSeconds / r.throughput[0].files, 1)} s files; ${r.cores} cores reported by the OS.`]);
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const r = await measure(o);
  const head = `node ${r.node}, ${r.arch}, ${r.cpu} (${r.cores} cores, load average ${r.loadAverage.toFixed(1)} at start), ${r.date}${r.quick ? ", --quick" : ""}\nmodel: ${r.model}\naudio: ${r.audio}`;
  const ts = tables(r);
  console.log(`\n${head}\n`);
  for (const [title, h, rows, note] of ts) console.log(`${title}\n${textTable(h, rows)}\n${note}\n`);
  let md = `# Speed\n\n${head.split("\n").map((l) => `${l}  `).join("\n")}\n\n`;
  md += `Headline: **${fmt(pctCore(r.whole.denoiser.median), 2)} % of one core** (${fmt(r.whole.denoiser.median, 0)} us per 10 ms frame, ${fmt(xRealTime(r.whole.denoiser.median), 0)}x real time) for the whole pipeline through \`Denoiser.process\`.\n\n`;
  for (const [title, h, rows, note] of ts) md += `## ${title}\n\n${mdTable(h, rows)}\n\n${note}\n\n`;
  md += `Reproduce: \`npm run bench${r.quick ? " -- --quick" : ""}\`.\n`;
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "bench.json"), JSON.stringify(r, null, 1));
  writeFileSync(join(o.out, "bench.md"), md);
  console.log(`wrote ${join(o.out, "bench.json")}, ${join(o.out, "bench.md")}`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
