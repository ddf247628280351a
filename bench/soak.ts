/**
 * Soak test: 24 hours of audio (8.64 M frames of 10 ms) through ONE Denoiser,
 * watching for leaks (wasm memory pages, JS heap), non-finite or exploding
 * output, and per-frame cost drift, including the classic denormal slowdown
 * when long silence or near-silence follows loud audio.
 *
 *   npm run soak                      # the full 24 h of audio
 *   npm run soak -- --frames 500000   # shorter
 *   node --expose-gc dist/bench/soak.js [--frames N] [--model PATH] [--out DIR]
 *
 * The input repeats a 60 s programme: 20 s of loud noisy speech (a shared
 * sample, or a synthetic stand-in), 20 s of digital silence, 10 s of
 * near-silence (noise at 1e-40 .. 1e-12 full scale, a new level every 10 ms:
 * the range where squares and products turn denormal), 50 ms of NaN, then
 * 10 s of the speech at normal level.
 * Writes report/soak/soak.json and report/soak/soak.png; exit code 1 when a
 * check fails.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createCanvas } from "@napi-rs/canvas";
import { Denoiser, DEFAULT_MODEL_URL } from "../host/denoiser.js";
import { parseModelFile, type ParsedModel } from "../host/model-file.js";
import { decodeWav } from "../host/wav.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const HOP = 480;
const FULL_RUN = 8_640_000;
/** Programme segments in frames (60 s cycle). */
const PROGRAMME: { kind: Segment; frames: number }[] = [
  { kind: "loud", frames: 2000 },
  { kind: "silence", frames: 2000 },
  { kind: "tiny", frames: 1000 },
  { kind: "nan", frames: 5 },
  { kind: "normal", frames: 995 },
];
type Segment = "loud" | "silence" | "tiny" | "nan" | "normal";
const CYCLE = PROGRAMME.reduce((s, p) => s + p.frames, 0);
const TIMED: Segment[] = ["loud", "silence", "tiny", "normal"];

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function loadSpeech(): { x: Float32Array; source: string } {
  const shared = process.env.PERCEPNET_SHARED ?? path.join(ROOT, "../shared");
  const file = path.join(shared, "data/samples/speech_noisy_snr0.wav");
  if (existsSync(file)) {
    const w = decodeWav(readFileSync(file));
    if (w.info.sampleRate === 48000) return { x: w.channels[0], source: path.relative(ROOT, file) };
  }
  // A voiced, noisy stand-in: harmonics of a wandering pitch plus white noise.
  let s = 1;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = new Float32Array(48000 * 10);
  let ph = 0;
  for (let i = 0; i < x.length; i++) {
    ph += (2 * Math.PI * (140 + 40 * Math.sin(i / 20000))) / 48000;
    let v = 0;
    for (let h = 1; h <= 10; h++) v += Math.sin(h * ph) / h;
    x[i] = 0.15 * v * (0.5 + 0.5 * Math.sin(i / 9000)) + 0.05 * rand();
  }
  return { x, source: "synthetic voiced noise (shared sample missing)" };
}

function loadModel(argv: string[]): { model: ParsedModel; source: string } {
  const p = arg(argv, "--model");
  const def = DEFAULT_MODEL_URL ? fileURLToPath(DEFAULT_MODEL_URL) : "";
  if (p) return { model: parseModelFile(readFileSync(p)), source: p };
  if (def && existsSync(def)) return { model: parseModelFile(readFileSync(def)), source: "weights/default.pnm" };
  return { model: parseModelFile(randomModelFile(makeConfig(128), 1)), source: "random width-128 model (weights/default.pnm missing)" };
}

/**
 * Per-frame costs of one window, preallocated: the harness itself must not
 * allocate per frame, or its garbage would blur the heap and RSS figures.
 */
class CostWindow {
  private readonly a: Float64Array;
  length = 0;
  constructor(capacity: number) { this.a = new Float64Array(capacity); }
  push(v: number): void { if (this.length < this.a.length) this.a[this.length++] = v; }
  median(): number { return this.length ? median(Array.from(this.a.subarray(0, this.length))) : NaN; }
  clear(): void { this.length = 0; }
}

function median(a: number[]): number {
  if (a.length === 0) return NaN;
  const s = a.slice().sort((p, q) => p - q);
  return s[s.length >> 1];
}

interface Sample {
  frame: number;
  hours: number;
  wasmPages: number;
  heapMB: number;
  rssMB: number;
  heapTotalMB: number;
  externalMB: number;
  arrayBuffersMB: number;
  /** median µs per frame over the window since the previous sample, per segment kind */
  costUs: Partial<Record<Segment, number>>;
  peak: number;
}

function plot(file: string, samples: Sample[], title: string): void {
  const W = 1000, panelH = 260, left = 70, top = 50, gap = 60;
  const canvas = createCanvas(W, top + 2 * panelH + gap + 40);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "black"; ctx.font = "16px sans-serif"; ctx.fillText(title, left, 26);
  const xmax = Math.max(samples[samples.length - 1].hours, 1e-9);
  const panel = (y0: number, label: string, series: { name: string; colour: string; v: (s: Sample) => number | undefined }[]) => {
    const pw = W - left - 150;
    let ymax = 0;
    for (const sr of series) for (const s of samples) ymax = Math.max(ymax, sr.v(s) ?? 0);
    ymax = ymax > 0 ? ymax * 1.15 : 1;
    ctx.strokeStyle = "#888"; ctx.strokeRect(left, y0, pw, panelH);
    ctx.fillStyle = "black"; ctx.font = "12px sans-serif";
    ctx.fillText(label, left, y0 - 6);
    for (let k = 0; k <= 4; k++) {
      const yv = (ymax * k) / 4, yy = y0 + panelH - (panelH * k) / 4;
      ctx.fillText(yv.toPrecision(3), 8, yy + 4);
      const xv = (xmax * k) / 4;
      ctx.fillText(`${xv.toFixed(2)} h`, left + (pw * k) / 4 - 12, y0 + panelH + 16);
    }
    series.forEach((sr, i) => {
      ctx.strokeStyle = sr.colour; ctx.lineWidth = 2; ctx.beginPath();
      let started = false;
      for (const s of samples) {
        const v = sr.v(s);
        if (v === undefined || !Number.isFinite(v)) continue;
        const x = left + (pw * s.hours) / xmax, y = y0 + panelH - (panelH * v) / ymax;
        if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
      }
      ctx.stroke();
      ctx.fillStyle = sr.colour; ctx.fillText(sr.name, left + pw + 10, y0 + 16 + 18 * i);
    });
  };
  panel(top, "memory (MB) vs hours of audio processed", [
    { name: "wasm memory", colour: "#1f77b4", v: (s) => (s.wasmPages * 65536) / 2 ** 20 },
    { name: "JS heap used", colour: "#ff7f0e", v: (s) => s.heapMB },
    { name: "array buffers", colour: "#2ca02c", v: (s) => s.arrayBuffersMB },
  ]);
  const colours: Record<string, string> = { loud: "#d62728", silence: "#1f77b4", tiny: "#9467bd", normal: "#2ca02c" };
  panel(top + panelH + gap, "median µs per 10 ms frame, by input segment", TIMED.map((k) => ({ name: k, colour: colours[k], v: (s: Sample) => s.costUs[k] })));
  writeFileSync(file, canvas.toBuffer("image/png"));
}

async function main(argv: string[]): Promise<number> {
  const frames = Number(arg(argv, "--frames") ?? FULL_RUN);
  if (!Number.isInteger(frames) || frames < CYCLE) throw new RangeError(`--frames must be an integer >= ${CYCLE}`);
  const outDir = arg(argv, "--out") ?? path.join(ROOT, "report/soak");
  // at least one whole programme cycle per sample, so every segment kind is timed
  const sampleEvery = Math.max(CYCLE, Math.ceil(frames / 100));
  const gc = (globalThis as { gc?: () => void }).gc;
  const { model, source: modelSource } = loadModel(argv);
  const { x: speech, source: speechSource } = loadSpeech();
  const loud = speech.map((v) => v * 3); // about 0 dBFS peaks on the shared sample
  let tinySeed = 7, tinyAmp = 1e-30;
  const d = await Denoiser.create({ model });
  const eng = d.engine;
  const input = new Float32Array(HOP), output = new Float32Array(HOP);

  console.log(`soak: ${frames} frames (${(frames / 360000).toFixed(2)} h of audio), model: ${modelSource}, speech: ${speechSource}${gc ? "" : " (no --expose-gc: heap figures include garbage)"}`);
  const samples: Sample[] = [];
  const costs = (n: number) => Object.fromEntries(PROGRAMME.map((p) => [p.kind, new CostWindow(n)])) as Record<Segment, CostWindow>;
  const windowCost = costs(sampleEvery + CYCLE), reportCost = costs(Math.ceil(frames / 10) + CYCLE);
  const clear = (c: Record<Segment, CostWindow>) => { for (const k in c) c[k as Segment].clear(); };
  let peak = 0, nonFinite = 0, sp = 0;
  const take = (f: number) => {
    gc?.();
    const m = process.memoryUsage();
    const costUs: Partial<Record<Segment, number>> = {};
    for (const k of TIMED) if (windowCost[k].length) costUs[k] = windowCost[k].median();
    samples.push({ frame: f, hours: f / 360000, wasmPages: eng.memoryBytes / 65536, heapMB: m.heapUsed / 2 ** 20,
      rssMB: m.rss / 2 ** 20, heapTotalMB: m.heapTotal / 2 ** 20, externalMB: m.external / 2 ** 20, arrayBuffersMB: m.arrayBuffers / 2 ** 20, costUs, peak });
    clear(windowCost);
  };
  take(0);
  const started = performance.now(), cpu0 = process.cpuUsage();
  let seg = 0, segLeft = PROGRAMME[0].frames;
  let nextSample = sampleEvery, nextReport = Math.ceil(frames / 10);
  const header = "  done   audio h  wasm MB  heap MB   rss MB  µs loud  µs silence  µs tiny  µs normal   max|y|  non-finite";
  console.log(header);
  for (let f = 1; f <= frames; f++) {
    const kind = PROGRAMME[seg].kind;
    if (kind === "loud" || kind === "normal") {
      const g = kind === "loud" ? loud : speech;
      if (sp + HOP > g.length) sp = 0;
      for (let i = 0; i < HOP; i++) input[i] = g[sp + i];
      sp += HOP;
    } else if (kind === "tiny") {
      tinySeed = (tinySeed * 1664525 + 1013904223) >>> 0;
      tinyAmp = 10 ** (-40 + 28 * (tinySeed / 2 ** 32));
      for (let i = 0; i < HOP; i++) { tinySeed = (tinySeed * 1664525 + 1013904223) >>> 0; input[i] = (tinySeed / 2 ** 32 - 0.5) * 2 * tinyAmp; }
    } else input.fill(kind === "nan" ? NaN : 0);
    const t0 = performance.now();
    d.process(input, output);
    const dt = performance.now() - t0;
    windowCost[kind].push(dt * 1000);
    reportCost[kind].push(dt * 1000);
    for (let i = 0; i < HOP; i++) {
      const v = output[i];
      if (!Number.isFinite(v)) nonFinite++;
      else if (Math.abs(v) > peak) peak = Math.abs(v);
    }
    if (--segLeft === 0) { seg = (seg + 1) % PROGRAMME.length; segLeft = PROGRAMME[seg].frames; }
    if (f >= nextSample || f === frames) { take(f); nextSample += sampleEvery; }
    if (f >= nextReport || f === frames) {
      nextReport += Math.ceil(frames / 10);
      const s = samples[samples.length - 1];
      const c = (k: Segment) => reportCost[k].median().toFixed(1).padStart(k === "silence" ? 11 : k === "normal" ? 10 : 8);
      console.log(`${((100 * f) / frames).toFixed(0).padStart(5)}%  ${(f / 360000).toFixed(2).padStart(7)}  ${((s.wasmPages * 65536) / 2 ** 20).toFixed(1).padStart(7)}  ` +
        `${s.heapMB.toFixed(1).padStart(7)}  ${s.rssMB.toFixed(0).padStart(7)} ${c("loud")} ${c("silence")} ${c("tiny")} ${c("normal")}  ${peak.toFixed(3).padStart(7)}  ${nonFinite}`);
      clear(reportCost);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  // Checks: compare the first and last tenth of the run (skipping the very first sample: JIT warm-up).
  const tenth = Math.max(1, Math.floor(samples.length / 10));
  const early = samples.slice(1, 1 + tenth), late = samples.slice(-tenth);
  const costOf = (ss: Sample[], k: Segment) => median(ss.map((s) => s.costUs[k]).filter((v): v is number => v !== undefined));
  const allCost = (ss: Sample[]) => median(ss.flatMap((s) => TIMED.map((k) => s.costUs[k]).filter((v): v is number => v !== undefined)));
  const first = samples[1] ?? samples[0], last = samples[samples.length - 1];
  const checks = [
    { name: "output always finite", ok: nonFinite === 0, value: nonFinite },
    { name: "output bounded (max |y| <= 16)", ok: peak <= 16, value: peak },
    { name: "wasm memory constant after the first frame", ok: last.wasmPages === first.wasmPages, value: `${first.wasmPages} -> ${last.wasmPages} pages` },
    { name: "JS heap growth < 8 MB", ok: last.heapMB - first.heapMB < 8, value: `${first.heapMB.toFixed(2)} -> ${last.heapMB.toFixed(2)} MB` },
    // RSS also holds V8's heap reserve, which settles during the first tenth of the run
    { name: "RSS growth after the first tenth < 32 MB", ok: last.rssMB - early[early.length - 1].rssMB < 32,
      value: `${early[early.length - 1].rssMB.toFixed(1)} -> ${last.rssMB.toFixed(1)} MB` },
    { name: "cost drift: last tenth / first tenth < 1.5", ok: allCost(late) / allCost(early) < 1.5, value: (allCost(late) / allCost(early)).toFixed(3) },
    ...(["silence", "tiny"] as Segment[]).map((k) => ({
      name: `no denormal slowdown: ${k} / loud cost < 1.15`, ok: costOf(samples, k) / costOf(samples, "loud") < 1.15,
      value: `${costOf(samples, k).toFixed(1)} / ${costOf(samples, "loud").toFixed(1)} µs = ${(costOf(samples, k) / costOf(samples, "loud")).toFixed(3)}`,
    })),
  ];
  console.log(`\n${frames} frames in ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU: ${(frames / 100 / seconds).toFixed(0)}x real time; ` +
    `${((seconds * 1e6) / frames).toFixed(1)} µs wall, ${((cpuSeconds * 1e6) / frames).toFixed(1)} µs CPU per frame including the harness`);
  console.log(`full 24 h run (${FULL_RUN} frames) estimate: ~${((seconds * FULL_RUN) / frames / 60).toFixed(0)} min at this wall rate, ` +
    `~${((cpuSeconds * FULL_RUN) / frames / 60).toFixed(0)} min of CPU`);
  for (const c of checks) console.log(`${c.ok ? "PASS" : "FAIL"}  ${c.name}: ${c.value}`);
  console.log(`cost per frame (median µs): early ${allCost(early).toFixed(1)}, late ${allCost(late).toFixed(1)}`);

  mkdirSync(outDir, { recursive: true });
  const result = {
    frames, audioHours: frames / 360000, seconds, cpuSeconds, model: modelSource, speech: speechSource, programme: PROGRAMME,
    node: process.version, gcExposed: !!gc, checks, samples,
  };
  writeFileSync(path.join(outDir, "soak.json"), JSON.stringify(result, null, 1));
  plot(path.join(outDir, "soak.png"), samples, `percepnet soak: ${(frames / 360000).toFixed(2)} h of audio, one instance (${modelSource})`);
  console.log(`wrote ${path.relative(process.cwd(), path.join(outDir, "soak.json"))} and soak.png`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
