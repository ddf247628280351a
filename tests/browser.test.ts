// The AudioWorklet in headless Chromium: PercepNetNode + the worklet bundle,
// rendered through an OfflineAudioContext, against the Node Denoiser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type RequestListener } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { Denoiser } from "../host/denoiser.js";
import { workletDelay } from "../host/worklet/processor.js";
import { makeConfig, randomModelFile, to7BitFile } from "../lab/random-model.js";
import { kernelMatrices } from "./relaxed-checks.js";
import { parseModelFile } from "../host/model-file.js";
import { ROOT, readSample, wasmModule } from "./util.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const BUNDLE = `${ROOT}dist/bundle`;

function browserMissing(): string | false {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install -y chromium)`;
  try { createRequire(import.meta.url).resolve("playwright-core"); } catch { return "playwright-core not installed"; }
  if (!existsSync(`${BUNDLE}/percepnet-worklet.js`)) return "dist/bundle missing: run npm run build:bundle";
  return false;
}

/**
 * Serve `handler` on a loopback port, open a page in a fresh headless
 * Chromium profile, run `fn` with it, and tear everything down.
 */
async function withPage(handler: RequestListener, fn: (page: Page, origin: string) => Promise<void>): Promise<void> {
  const { chromium } = await import("playwright-core");
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), "percepnet-chromium-"));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    try {
      await fn(await browser.newPage(), origin);
    } finally {
      await browser.close();
    }
  } finally {
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const TYPES: Record<string, string> = { html: "text/html", js: "text/javascript", wasm: "application/wasm" };

/** A static file server for folder `root` (a URL ending in "/" serves its index.html), 404 for what `allowed` refuses. */
function serveFolder(root: string, allowed: (path: string) => boolean): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = `${root}${path.slice(1)}${path.endsWith("/") ? "index.html" : ""}`;
    if (path.includes("..") || !allowed(path) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": TYPES[file.split(".").pop()!] ?? "application/octet-stream" }).end(readFileSync(file));
  };
}

/** A server of in-memory files (path -> [content type, body]), 404 for others; `log` gets "PATH STATUS" per request. */
function serveFiles(files: Record<string, [string, Uint8Array | string]>, log?: string[]): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const f = files[path];
    log?.push(`${path} ${f ? 200 : 404}`);
    if (!f) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": f[0] }).end(f[1]);
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { PercepNetNode } from "/percepnet-node.js";
window.render = async (bypass) => {
  const x = new Float32Array(await (await fetch("/input.f32")).arrayBuffer());
  const ctx = new OfflineAudioContext({ numberOfChannels: 1, length: x.length, sampleRate: 48000 });
  const node = await PercepNetNode.create(ctx, { modelUrl: "/model.pnm", bypass, vadInterval: 10 });
  let reports = 0;
  node.onvad = () => reports++;
  const buf = ctx.createBuffer(1, x.length, 48000);
  buf.copyToChannel(x, 0);
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(node).connect(ctx.destination);
  src.start();
  const out = await ctx.startRendering();
  // Reports are messages posted from the audio thread: the last ones may land
  // after rendering resolves. Wait until none has arrived for 100 ms (2 s at most).
  for (let quiet = 0, t = 0, seen = reports; quiet < 5 && t < 100; t++) {
    await new Promise((r) => setTimeout(r, 20));
    quiet = reports === seen ? quiet + 1 : 0;
    seen = reports;
  }
  return { y: Array.from(out.getChannelData(0)), delay: node.delay, reports };
};
window.badOption = () => PercepNetNode.create(new OfflineAudioContext({ numberOfChannels: 1, length: 128, sampleRate: 48000 }), { modleUrl: "/model.pnm" })
  .then(() => "no error", (e) => \`\${e.name}: \${e.message}\`);
window.ready = true;
</script>`;

test("worklet in headless Chromium matches the Node Denoiser (after the worklet's 32-sample shorter delay); bypass is the delayed dry signal",
  { skip: browserMissing(), timeout: 60_000 }, async () => {
    // A 7-bit model: Chromium has relaxed SIMD, so PercepNetNode fetches percepnet-relaxed.wasm and runs
    // its relaxed kernels; the Node reference below runs the plain build.
    const model = randomModelFile(makeConfig(32), 13, { weightBits: 7 });
    const x = readSample("speech_noisy_snr0.wav").subarray(0, 48000);
    const files: Record<string, [string, Uint8Array | string]> = {
      "/": ["text/html", PAGE],
      "/percepnet-node.js": ["text/javascript", readFileSync(`${BUNDLE}/percepnet-node.js`)],
      "/percepnet-worklet.js": ["text/javascript", readFileSync(`${BUNDLE}/percepnet-worklet.js`)],
      "/percepnet.wasm": ["application/wasm", readFileSync(`${BUNDLE}/percepnet.wasm`)],
      "/percepnet-relaxed.wasm": ["application/wasm", readFileSync(`${BUNDLE}/percepnet-relaxed.wasm`)],
      "/model.pnm": ["application/octet-stream", model],
      "/input.f32": ["application/octet-stream", new Uint8Array(x.slice().buffer)],
    };
    const requests: string[] = [];
    await withPage(serveFiles(files, requests), async (page, origin) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => (window as any).ready === true, undefined, { timeout: 20_000 });
      const wet = await page.evaluate(() => (window as any).render(false)) as { y: number[]; delay: number; reports: number };
      const wasmFetched = requests.filter((r) => r.includes(".wasm"));
      assert.deepEqual(wasmFetched, ["/percepnet-relaxed.wasm 200"], "Chromium has relaxed SIMD: the relaxed build, only");
      // A deployment without percepnet-relaxed.wasm beside the bundle: the node falls back to percepnet.wasm.
      delete files["/percepnet-relaxed.wasm"];
      requests.length = 0;
      const dry = await page.evaluate(() => (window as any).render(true)) as { y: number[]; delay: number; reports: number };
      assert.deepEqual(requests.filter((r) => r.includes(".wasm")), ["/percepnet-relaxed.wasm 404", "/percepnet.wasm 200"]);
      assert.deepEqual(errors, []);
      assert.match(await page.evaluate(() => (window as any).badOption()) as string, /^TypeError: .*unknown option "modleUrl"; did you mean "modelUrl"\?/);
      assert.equal(wet.delay, workletDelay(128));
      assert.equal(wet.delay, 1888);
      // 100 frames, a report every 10
      assert.equal(wet.reports, 10);

      // Node: Denoiser.process() output is delayed by 1920; the worklet's by 1888, so
      // worklet[t] = node[t + 32]. Both run the same wasm on V8 with the same inputs per
      // frame, and Web Audio only copies floats here (same rate, unity gain), so the
      // samples must agree to float32 rounding: 1e-6 absolute.
      const den = new Denoiser(await wasmModule(), { model });
      const ref = den.process(x);
      const shift = den.delay - wet.delay;
      let worst = 0, energy = 0;
      for (let t = 0; t + shift < ref.length; t++) {
        worst = Math.max(worst, Math.abs(wet.y[t] - ref[t + shift]));
        energy += wet.y[t] ** 2;
      }
      assert.ok(energy > 1, `worklet output is silent (energy ${energy})`);
      assert.ok(worst < 1e-6, `max |worklet - node| = ${worst}`);

      // Bypass: the dry input, delay-matched.
      let worstDry = 0;
      for (let t = dry.delay; t < x.length; t++) worstDry = Math.max(worstDry, Math.abs(dry.y[t] - x[t - dry.delay]));
      assert.ok(worstDry < 1e-7, `bypass differs from the delayed input by ${worstDry}`);
    });
  });

test("examples/browser demo page loads in Chromium and builds its PercepNetNode", { skip: browserMissing(), timeout: 60_000 }, async () => {
  // Only what the demo needs, from the repository root.
  await withPage(serveFolder(ROOT, (path) => /^\/(examples\/browser|dist\/bundle|weights)\/[\w.-]*$/.test(path)), async (page, origin) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${origin}/examples/browser/`);
    await page.waitForFunction(() => (window as any).percepnetReady === true || /error/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 20_000 });
    assert.match(await page.textContent("#status") ?? "", /^ready: .*delay 39\.3 ms/);
    assert.deepEqual(errors, []);
  });
});

test("examples/browser served as its own root does not hang on Loading...: it says to serve the package root", { skip: browserMissing(), timeout: 60_000 }, async () => {
  // What `npx http-server examples/browser` serves: that folder only, so ../../dist is out of reach.
  await withPage(serveFolder(`${ROOT}examples/browser/`, () => true), async (page, origin) => {
    await page.goto(`${origin}/`);
    // Any change away from the initial text within 10 s; a page stuck on "Loading" fails here.
    const changed = await page.waitForFunction(() => !/^Loading/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 10_000 })
      .then(() => true, () => false);
    const status = await page.textContent("#status") ?? "";
    assert.ok(changed, `status still "${status}"`);
    assert.match(status, /serve the package root/i);
    assert.match(status, /examples\/browser\//);
  });
});

/** Every network output (gains, strengths, vad) of `frames` frames of random features on one build, in the page. */
const RELAXED_PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { Engine, parseModelFile, chooseWasmBuild, relaxedSimdSupported } from "/percepnet.js";
window.compare = async (names, frames) => {
  const mods = {};
  for (const b of ["simd", "relaxed"]) mods[b] = await WebAssembly.compile(await (await fetch("/" + (b === "simd" ? "percepnet.wasm" : "percepnet-relaxed.wasm"))).arrayBuffer());
  const out = { build: chooseWasmBuild(), supported: relaxedSimdSupported(), models: {} };
  for (const name of names) {
    const m = parseModelFile(new Uint8Array(await (await fetch("/" + name)).arrayBuffer()));
    const r = {};
    for (const b of ["simd", "relaxed"]) {
      const e = new Engine(mods[b]);
      e.loadModel(m);
      const ex = e.exports, acc = [];
      let s = 12345;
      for (let t = 0; t < frames; t++) {
        const x = new Float32Array(ex.memory.buffer, ex.modelInputPtr(), 70);
        for (let i = 0; i < 70; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = (i < 34 ? 2 : 0) + (s / 2 ** 32 - 0.5) * (i < 34 ? 3 : 1); }
        ex.modelRun();
        acc.push(...new Float32Array(ex.memory.buffer, ex.modelGainsPtr(), 34), ...new Float32Array(ex.memory.buffer, ex.modelStrengthsPtr(), 34), ex.modelVad());
      }
      r[b] = { bits: Array.from(new Uint32Array(Float32Array.from(acc).buffer)), relaxed: e.relaxedMatrices };
    }
    out.models[name] = { weightBits: m.weightBits, ...r };
  }
  return out;
};
window.ready = true;
</script>`;

test("relaxed SIMD in headless Chromium: percepnet-relaxed.wasm == percepnet.wasm bit for bit on 7-bit and 8-bit models, and it is the build chosen",
  { skip: browserMissing(), timeout: 120_000 }, async () => {
    const models: Record<string, Uint8Array> = {
      "dense7.pnm": randomModelFile(makeConfig(48), 21, { weightBits: 7 }),
      "sparse7.pnm": randomModelFile(makeConfig(40, { gruLayers: 2 }), 22, { weightBits: 7, density: 0.3 }),
      "novad7.pnm": randomModelFile(makeConfig(24, { vad: false, gruLayers: 1 }), 23, { weightBits: 7 }),
      "dense8.pnm": randomModelFile(makeConfig(32), 24),
    };
    // a shipped model re-quantised to 7 bits, as training.export --weight-bits 7 writes it
    models["small7.pnm"] = to7BitFile(parseModelFile(readFileSync(`${ROOT}weights/small.pnm`)));
    const files: Record<string, [string, Uint8Array | string]> = {
      "/": ["text/html", RELAXED_PAGE],
      "/percepnet.js": ["text/javascript", readFileSync(`${BUNDLE}/percepnet.js`)],
      "/percepnet.wasm": ["application/wasm", readFileSync(`${BUNDLE}/percepnet.wasm`)],
      "/percepnet-relaxed.wasm": ["application/wasm", readFileSync(`${BUNDLE}/percepnet-relaxed.wasm`)],
    };
    for (const [n, b] of Object.entries(models)) files[`/${n}`] = ["application/octet-stream", b];
    await withPage(serveFiles(files), async (page, origin) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => (window as any).ready === true, undefined, { timeout: 20_000 });
      const r = await page.evaluate(([n, f]) => (window as any).compare(n, f), [Object.keys(models), 200] as const) as {
        build: string; supported: boolean; models: Record<string, { weightBits: number; simd: { bits: number[]; relaxed: number }; relaxed: { bits: number[]; relaxed: number } }>;
      };
      assert.deepEqual(errors, []);
      assert.equal(r.supported, true, "this Chromium validates relaxed SIMD");
      assert.equal(r.build, "relaxed");
      for (const [name, m] of Object.entries(r.models)) {
        const cfg = parseModelFile(models[name]).config;
        assert.equal(m.simd.relaxed, 0, name);
        assert.equal(m.relaxed.relaxed, m.weightBits === 7 ? kernelMatrices(cfg) : 0, `${name}: matrices on the relaxed kernels`);
        assert.equal(m.simd.bits.length, 200 * 69, name);
        const d = m.simd.bits.findIndex((v, i) => v !== m.relaxed.bits[i]);
        assert.equal(d, -1, `${name}: relaxed differs from plain at output ${d}`);
        assert.ok(m.simd.bits.some((v) => v !== 0), name);
      }
    });
  });
