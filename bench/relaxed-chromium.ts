/**
 * Plain SIMD against relaxed SIMD in headless Chromium (whose V8 runs
 * relaxed SIMD's int8 dot product; Node 20 does not, and Node 22's older
 * V8 gains nothing from it, docs/ENGINE.md "Relaxed SIMD"): kernel
 * throughput of matvecI8 (test build) and the 7-bit matvecI7 (relaxed test
 * build), and microseconds per network step of the shipped models at 8 and
 * 7 bits and of block-sparse 7-bit width-512 models, each build in turn.
 *
 *   npm run build && node dist/bench/relaxed-chromium.js [--quick]
 *
 * Needs /usr/bin/chromium (or CHROMIUM=path) and playwright-core. Serves
 * the files on a loopback port only.
 */
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile, to7BitFile } from "../lab/random-model.js";

const ROOT = new URL("../../", import.meta.url);
const quick = process.argv.includes("--quick");
const DENSITIES = [1.0, 0.5, 0.3, 0.2, 0.1];

const read = (p: string) => new Uint8Array(readFileSync(new URL(p, ROOT)));

const files: Record<string, [string, Uint8Array | string]> = {
  "/": ["text/html", "<!doctype html><script type=module>import * as P from '/percepnet.js'; window.P = P; window.ready = true;</script>"],
  "/percepnet.js": ["text/javascript", read("dist/bundle/percepnet.js")],
  "/plain.wasm": ["application/wasm", read("build/percepnet-test.wasm")],
  "/relaxed.wasm": ["application/wasm", read("build/percepnet-relaxed-test.wasm")],
};
const models: string[] = [];
for (const name of ["default", "small"]) {
  const b = read(`weights/${name}.pnm`);
  files[`/${name}-8.pnm`] = ["application/octet-stream", b];
  files[`/${name}-7.pnm`] = ["application/octet-stream", to7BitFile(parseModelFile(b))];
  models.push(`${name}-8`, `${name}-7`);
}
for (const d of DENSITIES) {
  files[`/w512-d${d}-7.pnm`] = ["application/octet-stream", randomModelFile(makeConfig(512), 1, { density: d, weightBits: 7 })];
  models.push(`w512-d${d}-7`);
}

/** Runs in the page: returns report lines. */
async function inPage(args: { models: string[]; rounds: number; frames: number }): Promise<string[]> {
  const P = (window as any).P;
  const mods: Record<string, WebAssembly.Module> = {};
  for (const b of ["plain", "relaxed"]) mods[b] = await WebAssembly.compile(await (await fetch(`/${b}.wasm`)).arrayBuffer());
  const lines = [`${navigator.userAgent}; relaxed SIMD validates: ${P.relaxedSimdSupported()}`];
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const best = (fns: (() => void)[], rounds: number) => {
    const t = fns.map(() => Infinity);
    const all: number[][] = fns.map(() => []);
    for (let k = 0; k < rounds; k++) fns.forEach((f, i) => { const a = performance.now(); f(); const d = performance.now() - a; t[i] = Math.min(t[i], d); all[i].push(d); });
    return { best: t, median: all.map((v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]) };
  };
  lines.push("kernel (GMAC/s, best of rounds): int8 SIMD | 7-bit relaxed (with its int16 -> int8 input copy) | ratio");
  for (const [rows, cols] of [[64, 256], [384, 512], [1536, 512], [1536, 1024]]) {
    const w = Int8Array.from({ length: rows * cols }, () => Math.floor(rand() * 127) - 63);
    const x = Int16Array.from({ length: cols }, () => Math.floor(rand() * 255) - 127);
    const reps = Math.round(1e8 / (rows * cols));
    const fns = ["plain", "relaxed"].map((b, i) => {
      const ex = new P.Engine(mods[b]).hooks;
      const src = ex.nnetAlloc(rows * cols), wp = ex.nnetAlloc(ex.nnetPackedBytes(rows, cols));
      new Int8Array(ex.memory.buffer, src, rows * cols).set(w);
      if (i) ex.nnetPackI7(wp, src, rows, cols); else ex.nnetPackI8(wp, src, rows, cols);
      const xp = ex.nnetAlloc(cols * 2 + 64), x8 = ex.nnetAlloc(cols + 32), o = ex.nnetAlloc(rows * 4 + 16);
      new Int16Array(ex.memory.buffer, xp, cols).set(x);
      return i ? () => ex.nnetMatvecI7Repeat(o, wp, 0, 0, rows, cols, xp, x8, reps) : () => ex.nnetMatvecI8Repeat(o, wp, 0, 0, rows, cols, xp, reps);
    });
    const g = best(fns, args.rounds).best.map((t) => rows * cols * reps / (t / 1000) / 1e9);
    lines.push(`  ${rows}x${cols}: ${g[0].toFixed(1)} | ${g[1].toFixed(1)} | x${(g[1] / g[0]).toFixed(2)}`);
  }
  lines.push(`network step (us per frame, median / best of ${args.rounds} interleaved rounds of ${args.frames} frames): plain build | relaxed build | ratio`);
  for (const name of args.models) {
    const m = P.parseModelFile(new Uint8Array(await (await fetch(`/${name}.pnm`)).arrayBuffer()));
    const engines = ["plain", "relaxed"].map((b) => {
      const e = new P.Engine(mods[b]);
      e.loadModel(m);
      const ex = e.hooks;
      const inp = new Float32Array(ex.memory.buffer, ex.modelInputPtr(), 70);
      for (let i = 0; i < 70; i++) inp[i] = (i < 34 ? 2 : 0.3) + Math.sin(i);
      return { ex, relaxed: e.relaxedMatrices };
    });
    const r = best(engines.map((e) => () => e.ex.modelRunRepeat(args.frames)), args.rounds);
    const us = (t: number) => (t * 1000 / args.frames).toFixed(1);
    lines.push(`  ${name.padEnd(14)} ${us(r.median[0])} / ${us(r.best[0])} | ${us(r.median[1])} / ${us(r.best[1])} | x${(r.median[1] / r.median[0]).toFixed(2)}  (relaxed matrices: ${engines[1].relaxed})`);
  }
  return lines;
}

const { chromium } = await import("playwright-core");
const server = createServer((req, res) => {
  const f = files[new URL(req.url ?? "/", "http://x").pathname];
  if (!f) { res.writeHead(404).end(); return; }
  res.writeHead(200, { "content-type": f[0] }).end(f[1]);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const profile = mkdtempSync(join(tmpdir(), "percepnet-bench-"));
try {
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (window as any).ready === true);
    const lines = await page.evaluate(inPage, { models, rounds: quick ? 5 : 15, frames: quick ? 50 : 200 });
    console.log(lines.join("\n"));
  } finally {
    await browser.close();
  }
} finally {
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
