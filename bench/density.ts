/**
 * "Cost against density" (issue 27 item 5), a section of `npm run bench`:
 * the whole 10 ms frame of block-sparse models at densities 1.0, 0.5, 0.3,
 * 0.2 and 0.1, for the paper-size shape (width 512) and each shipped
 * model's shape (weights/*.pnm), on the plain and the relaxed-SIMD build,
 * each as a ratio to RNNoise's SIMD build timed in the same interleaved
 * rounds, with each model file's size.
 *
 * Models: random weights at each shape (lab/random-model.ts; the cost
 * depends on the shape and the kept blocks, not on the weights' values),
 * 7-bit (weightBits 7) so that the relaxed build runs its matrices on the
 * relaxed kernels; the plain build runs the same files. Density d keeps a
 * random fraction d of the 4 x 16 blocks of every GRU and conv matrix and
 * stores them block-sparse (format v2); density 1.0 is the dense model
 * (dense storage, as shipped: stored sparse it would cost ~5 % more for
 * its block index, docs/ENGINE.md).
 *
 * Cost: the whole pipeline as an AudioWorklet runs it, ours
 * (Denoiser.process) and RNNoise's SIMD build (@sapphi-red's AudioWorklet
 * processor, rnnoise-sapphi-simd) alike: 128-sample render quanta timed in
 * groups of 15 calls (4 frames), per 10 ms, medians, every system
 * interleaved in rounds (speed.ts denoiserChunks and rotate).
 *
 * Relaxed: in this process when host/wasm-select.ts chooseWasmBuild picks
 * the relaxed build (Node 24+); else in a child process that validates
 * relaxed SIMD (`--relaxed-node PATH`, else this Node with
 * --experimental-wasm-relaxed-simd --no-liftoff), which times the relaxed
 * build and RNNoise again, so its ratios are from one run too; else the
 * section says "relaxed: skipped (why)".
 *
 * On its own (the section only, printed; `npm run bench` writes it into
 * report/bench.md):
 *   node dist/bench/density.js [--quick] [--audio WAV] [--relaxed-node PATH]
 * Child mode (used by the above): node [flags] dist/bench/density.js --child SPEC.json
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseModelFile, type ModelConfig } from "../host/model-file.js";
import { shippedWasmModule } from "../host/wasm.js";
import { chooseWasmBuild, RELAXED_SIMD_PROBE, type WasmBuild } from "../host/wasm-select.js";
import { Denoiser } from "../host/denoiser.js";
import { decodeWav } from "../host/wav.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { workletProcessor } from "./enhancers/worklet.js";
import { DEFAULT_INPUT } from "./throughput.js";
import { denoiserChunks, rotate, type Sampler } from "./speed.js";
import { fmt, median, textTable } from "./timing.js";

/** Kept fractions of blocks, the rows of the section. */
export const DENSITIES = [1.0, 0.5, 0.3, 0.2, 0.1];
/** The reference: RNNoise's SIMD build (bench/enhancers/worklet.ts). */
export const RNNOISE_SIMD = "rnnoise-sapphi-simd";
/** Node flags under which Node 20 runs relaxed SIMD correctly (its Liftoff tier gets the dot product wrong). */
export const RELAXED_NODE_FLAGS = ["--experimental-wasm-relaxed-simd", "--no-liftoff"];
/** The issue's ship rule: at most this many times RNNoise's SIMD build, and at most this many bytes. */
export const SHIP_RATIO = 1.2;
export const SHIP_BYTES = 3e6;

/** One network shape: what it stands for, and its configuration. */
export interface DensityShape { label: string; config: ModelConfig }

const sameConfig = (a: ModelConfig, b: ModelConfig) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The paper-size shape (makeConfig(512)) and the shape of each shipped
 * model found in weights/, shapes that coincide merged into one row group.
 */
export function densityShapes(weightsDir = new URL("../../weights/", import.meta.url)): DensityShape[] {
  const shapes: DensityShape[] = [{ label: "width 512 (paper size)", config: makeConfig(512) }];
  for (const name of ["default", "small"]) {
    let config: ModelConfig;
    try {
      config = parseModelFile(new Uint8Array(readFileSync(new URL(`${name}.pnm`, weightsDir)))).config;
    } catch {
      continue;
    }
    const same = shapes.find((s) => sameConfig(s.config, config));
    if (same) same.label = same.label.replace(/\)$/, `, ${name}.pnm)`);
    else shapes.push({ label: `width ${config.gru} (${name}.pnm)`, config });
  }
  return shapes;
}

/** Rounds and groups per round of `npm run bench` (and of --quick). */
export function densityCounts(quick: boolean): { rounds: number; groups: number } {
  return quick ? { rounds: 4, groups: 15 } : { rounds: 15, groups: 40 };
}

/** 128 samples: an AudioWorklet render quantum. */
const QUANTUM = 128;

/** How the relaxed column is measured. */
export type RelaxedPlan =
  | { kind: "in-process"; runtime: string }
  | { kind: "child"; node: string; args: string[]; runtime: string }
  | { kind: "skip"; why: string };

/** What {@link planRelaxed} looks at (tests inject their own). */
export interface RelaxedEnv {
  /** The build this runtime would run (default chooseWasmBuild()). */
  chooseBuild?: () => WasmBuild;
  /** A Node binary for the child (default: this one, with RELAXED_NODE_FLAGS). */
  node?: string;
  /** Node's version string if `node` with `args` validates relaxed SIMD, else null (default: run it). */
  probeChild?: (node: string, args: string[]) => string | null;
}

/** Runs `node args` on the relaxed-SIMD probe: its version if it validates, else null. */
export function probeNode(node: string, args: string[]): string | null {
  const js = `process.stdout.write(WebAssembly.validate(new Uint8Array(${JSON.stringify([...RELAXED_SIMD_PROBE])})) ? process.version : "")`;
  const r = spawnSync(node, [...args, "-e", js], { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 && r.stdout.startsWith("v") ? r.stdout.trim() : null;
}

/** Where the relaxed build can be timed: here, in a child Node, or nowhere (with the reason). */
export function planRelaxed(env: RelaxedEnv = {}): RelaxedPlan {
  const build = (env.chooseBuild ?? (() => chooseWasmBuild()))();
  if (build === "relaxed") return { kind: "in-process", runtime: `node ${process.version} (chooses the relaxed build)` };
  const probe = env.probeChild ?? probeNode;
  const node = env.node ?? process.execPath;
  // A named Node 22+ runs relaxed SIMD without flags; the flags are for Node 20.
  let args: string[] = [], v = env.node ? probe(node, args) : null;
  if (!v) v = probe(node, args = RELAXED_NODE_FLAGS);
  if (v) {
    const how = args.length ? `${args.join(" ")}: Liftoff off, optimised code only` : "no flags";
    return { kind: "child", node, args, runtime: `child process: node ${v} (${how})` };
  }
  return { kind: "skip", why: `node ${process.version} chooses the plain build here, and ${node === process.execPath ? "this Node" : node} with ${args.length ? args.join(" ") : "no flags"} does not validate relaxed SIMD; use Node 24+, or --relaxed-node PATH to a Node that runs it` };
}

/** One model of the section. */
export interface DensityModel { key: string; shape: string; width: number; density: number; bytes: number; path: string }

/** One row: a shape at a density, its cost on each build and the ratios to RNNoise (relaxed: null if not timed). */
export interface DensityRow {
  shape: string; width: number; density: number; mb: number;
  plainUs: number; plainRatio: number;
  relaxedUs: number | null; relaxedRatio: number | null; relaxedMatrices: number | null;
}

/** The section's figures. */
export interface DensityResult {
  densities: number[]; rounds: number; groups: number;
  rows: DensityRow[];
  /** RNNoise's SIMD build in each run: with the plain build (this process) and with the relaxed build (null when that was skipped). */
  rnnoiseUs: { plain: number; relaxed: number | null };
  plainRuntime: string;
  relaxed: { how: RelaxedPlan["kind"]; runtime?: string; skipped?: string };
}

/** What a run of {@link timeModels} measures. */
interface TimeSpec { models: { key: string; path: string }[]; builds: WasmBuild[]; audio: string; rounds: number; groups: number }
/** Keyed by `build/model key`: median us per 10 ms, and how many matrices ran relaxed kernels. */
interface Timed { us: Record<string, number>; relaxedMatrices: Record<string, number>; rnnoiseUs: number }

/** A 48 kHz mono signal from a WAV file. */
export function loadAudio(path: string): Float32Array {
  const w = decodeWav(new Uint8Array(readFileSync(path)));
  if (w.info.sampleRate !== 48000) throw new Error(`${path}: need 48 kHz audio, got ${w.info.sampleRate}`);
  return w.channels[0];
}

/**
 * Time each model on each build and RNNoise's SIMD build, all interleaved
 * in the same rounds (rotate): both as an AudioWorklet runs them, 128-sample
 * render quanta, timed in groups of 15 calls (4 frames), per 10 ms
 * (speed.ts denoiserChunks); medians of the groups. RNNoise takes its turn
 * at the start, middle and end of each round (a round of the width-512
 * models takes a while, and the machine's speed drifts within it), its
 * samples pooled.
 */
async function timeModels(s: TimeSpec, log: (s: string) => void): Promise<Timed> {
  const audio = loadAudio(s.audio);
  const models = s.models.map(({ key, path }) => ({ key, model: parseModelFile(new Uint8Array(readFileSync(path))) }));
  const relaxedMatrices: Record<string, number> = {};
  const ours: Record<string, Sampler> = {};
  for (const build of s.builds) {
    const wasm = await shippedWasmModule(build);
    for (const { key, model } of models) {
      const d = new Denoiser(wasm, { model });
      relaxedMatrices[`${build}/${key}`] = d.engine.relaxedMatrices;
      ours[`${build}/${key}`] = denoiserChunks(d, audio, QUANTUM, s.groups);
    }
  }
  const rnnoise = await workletProcessor(RNNOISE_SIMD);
  try {
    const rn = denoiserChunks(rnnoise, audio, QUANTUM, s.groups);
    const keys = Object.keys(ours), half = keys.length >> 1;
    const samplers: Record<string, Sampler> = { rn1: rn };
    for (const k of keys.slice(0, half)) samplers[k] = ours[k];
    samplers.rn2 = rn;
    for (const k of keys.slice(half)) samplers[k] = ours[k];
    samplers.rn3 = rn;
    const t = rotate(samplers, s.rounds);
    const us: Record<string, number> = {};
    for (const k of keys) us[k] = median(t[k]);
    const rnnoiseUs = median([...t.rn1, ...t.rn2, ...t.rn3]);
    for (const k of keys) log(`  ${k}: ${us[k].toFixed(1)} us per 10 ms`);
    log(`  ${RNNOISE_SIMD}: ${rnnoiseUs.toFixed(1)} us per 10 ms`);
    return { us, relaxedMatrices, rnnoiseUs };
  } finally {
    rnnoise.destroy();
  }
}

/** Run timeModels in `plan`'s child process; its JSON comes back on stdout, its log lines on stderr. */
function timeInChild(plan: Extract<RelaxedPlan, { kind: "child" }>, s: TimeSpec, dir: string, log: (s: string) => void): Promise<Timed> {
  const spec = join(dir, "relaxed-spec.json");
  writeFileSync(spec, JSON.stringify(s));
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const c = spawn(plan.node, [...plan.args, script, "--child", spec], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    c.stdout.on("data", (d) => { out += d; });
    c.stderr.on("data", (d) => {
      err += d;
      const lines = err.split("\n");
      err = lines.pop() ?? "";
      for (const l of lines) log(`  [relaxed child] ${l}`);
    });
    c.on("error", reject);
    c.on("close", (code) => {
      if (code !== 0) { reject(new Error(`relaxed child exited with ${code}: ${err.slice(-2000)}`)); return; }
      try { resolve(JSON.parse(out) as Timed); } catch (e) { reject(new Error(`relaxed child: bad output ${out.slice(0, 200)}: ${(e as Error).message}`)); }
    });
  });
}

/** Options of {@link densitySection}. */
export interface DensityOpts {
  audio: string;
  /** Rounds after the warm-up round, and 4-frame groups per system per round. */
  rounds: number;
  groups: number;
  shapes?: DensityShape[];
  densities?: number[];
  relaxedEnv?: RelaxedEnv;
  log?: (s: string) => void;
}

/** Measure the section: build the models, time them on both builds with RNNoise. */
export async function densitySection(o: DensityOpts): Promise<DensityResult> {
  const log = o.log ?? (() => {});
  const shapes = o.shapes ?? densityShapes();
  const densities = o.densities ?? DENSITIES;
  const dir = mkdtempSync(join(tmpdir(), "percepnet-density-"));
  try {
    const models: DensityModel[] = [];
    for (const sh of shapes) {
      for (const d of densities) {
        const bytes = randomModelFile(sh.config, 1, d < 1 ? { density: d, weightBits: 7 } : { weightBits: 7 });
        const key = `w${sh.config.gru}-d${d}`;
        const path = join(dir, `${key}.pnm`);
        writeFileSync(path, bytes);
        models.push({ key, shape: sh.label, width: sh.config.gru, density: d, bytes: bytes.length, path });
      }
    }
    const spec = (builds: WasmBuild[]): TimeSpec => ({ models: models.map(({ key, path }) => ({ key, path })), builds, audio: o.audio, rounds: o.rounds, groups: o.groups });
    const plan = planRelaxed(o.relaxedEnv);
    let plain: Timed, relaxed: Timed | null = null;
    let relaxedInfo: DensityResult["relaxed"];
    if (plan.kind === "in-process") {
      // Both builds and RNNoise in the same rounds: one RNNoise figure serves both columns.
      log(`density: ${models.length} models x plain and relaxed (${plan.runtime}) + ${RNNOISE_SIMD}, interleaved...`);
      plain = relaxed = await timeModels(spec(["simd", "relaxed"]), log);
      relaxedInfo = { how: plan.kind, runtime: plan.runtime };
    } else {
      log(`density: ${models.length} models, plain build + ${RNNOISE_SIMD}, interleaved...`);
      plain = await timeModels(spec(["simd"]), log);
      if (plan.kind === "child") {
        log(`density: relaxed build + ${RNNOISE_SIMD} in a ${plan.runtime}...`);
        relaxed = await timeInChild(plan, spec(["relaxed"]), dir, log);
        relaxedInfo = { how: plan.kind, runtime: plan.runtime };
      } else {
        log(`relaxed: skipped (${plan.why})`);
        relaxedInfo = { how: "skip", skipped: plan.why };
      }
    }
    const rows: DensityRow[] = models.map((m) => {
      const pu = plain.us[`simd/${m.key}`], ru = relaxed ? relaxed.us[`relaxed/${m.key}`] : null;
      return {
        shape: m.shape, width: m.width, density: m.density, mb: m.bytes / 1e6,
        plainUs: pu, plainRatio: pu / plain.rnnoiseUs,
        relaxedUs: ru, relaxedRatio: relaxed && ru !== null ? ru / relaxed.rnnoiseUs : null,
        relaxedMatrices: relaxed ? relaxed.relaxedMatrices[`relaxed/${m.key}`] : null,
      };
    });
    return {
      densities, rounds: o.rounds, groups: o.groups, rows,
      rnnoiseUs: { plain: plain.rnnoiseUs, relaxed: relaxed ? relaxed.rnnoiseUs : null },
      plainRuntime: `node ${process.version}`,
      relaxed: relaxedInfo,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "relaxed", "plain", "both" or "no": which builds meet the ship rule's cost and size at this row. */
function meetsRule(r: DensityRow): string {
  if (r.mb * 1e6 > SHIP_BYTES) return "no (size)";
  const p = r.plainRatio <= SHIP_RATIO, x = r.relaxedRatio !== null && r.relaxedRatio <= SHIP_RATIO;
  return p && x ? "both" : p ? "plain" : x ? "relaxed" : "no";
}

/** The section as one report table: [title, header, rows, note]. */
export function densityTable(r: DensityResult): [string, string[], string[][], string] {
  const head = ["shape", "density", "model MB", "plain us", "plain / RNNoise", "relaxed us", "relaxed / RNNoise", `<= ${SHIP_RATIO}x and <= ${SHIP_BYTES / 1e6} MB`];
  const rows = r.rows.map((x) => [
    x.shape, x.density.toFixed(1), fmt(x.mb, 2), fmt(x.plainUs, 1), fmt(x.plainRatio, 2),
    x.relaxedUs === null ? "-" : fmt(x.relaxedUs, 1), x.relaxedRatio === null ? "-" : fmt(x.relaxedRatio, 2), meetsRule(x),
  ]);
  const relaxedLine = r.relaxed.how === "skip"
    ? `relaxed: skipped (${r.relaxed.skipped}).`
    : `Relaxed: ${r.relaxed.runtime}; RNNoise's SIMD build timed again in that run: ${fmt(r.rnnoiseUs.relaxed, 1)} us per 10 ms. Matrices on relaxed kernels per model: ${[...new Set(r.rows.map((x) => x.relaxedMatrices))].join(", ")}.`;
  const note = `Random 7-bit weights at each shape (the cost depends on the shape and the kept blocks, not on the values; lab/random-model.ts). Density d: a random fraction d of the 4 x 16 blocks of every GRU and conv matrix kept, stored block-sparse (format v2); 1.0 is the dense model; the other layers stay dense. `
    + `Cost: the whole pipeline as an AudioWorklet runs it, ours (Denoiser.process) and RNNoise's SIMD build (${RNNOISE_SIMD}'s worklet processor) alike: 128-sample quanta timed in groups of 15 calls (4 frames), per 10 ms, the median of ${r.rounds} x ${r.groups} groups, every system interleaved in rounds after a warm-up round (RNNoise at the start, middle and end of each). RNNoise: ${fmt(r.rnnoiseUs.plain, 1)} us per 10 ms in the plain run (${r.plainRuntime}). `
    + `Plain and relaxed builds run the same files and give the same bits. MB = 10^6 bytes of the .pnm file. Last column: the issue 27 ship rule's cost and size limits (quality not judged here). ${relaxedLine}`;
  return ["Cost against density (block-sparse models vs RNNoise's SIMD build)", head, rows, note];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (argv[0] === "--child") {
    const spec = JSON.parse(readFileSync(argv[1], "utf8")) as TimeSpec;
    // The child runs the builds it is told to (the relaxed one, which this Node's chooseWasmBuild may not pick).
    process.stdout.write(JSON.stringify(await timeModels(spec, log)));
  } else {
    const arg = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
    const quick = argv.includes("--quick");
    const node = arg("--relaxed-node");
    const r = await densitySection({ audio: arg("--audio") ?? DEFAULT_INPUT, ...densityCounts(quick), relaxedEnv: node ? { node } : {}, log });
    const [title, h, rows, note] = densityTable(r);
    console.log(`${title}\n${textTable(h, rows)}\n${note}`);
  }
}
