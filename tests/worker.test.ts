// The example Cloudflare Worker in real workerd (through miniflare), on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { MultiChannelDenoiser, alignedProcess, denoiseChannels } from "../host/stream.js";
import { decodeWav, encodeWav } from "../host/wav.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { ROOT, readSample, wasmModule } from "./util.js";

const BUNDLE = `${ROOT}dist/bundle/worker/worker.js`;

function workerdMissing(): string | false {
  try {
    const req = createRequire(import.meta.url);
    req.resolve("miniflare");
    req.resolve("@cloudflare/workerd-linux-64/package.json");
  } catch {
    return "miniflare/workerd not installed (npm install --save-dev miniflare)";
  }
  if (!existsSync(BUNDLE)) return `${BUNDLE} missing: run npm run build:bundle`;
  return false;
}

test("example Worker in workerd: POST a WAV, get a WAV of the same length/rate matching the Node output", { skip: workerdMissing(), timeout: 60_000 }, async () => {
  const { Miniflare } = await import("miniflare");
  // A 7-bit model: in workerd (relaxed SIMD) the worker runs percepnet-relaxed.wasm's relaxed kernels, here Node 20 the plain build.
  const model = randomModelFile(makeConfig(32), 11, { weightBits: 7 });
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 48000 * 1.5);
  const body = encodeWav([x], { sampleRate: 48000, format: "float32" }).bytes;
  const mf = new Miniflare({
    compatibilityDate: "2025-01-01",
    modulesRoot: `${ROOT}dist/bundle/worker`,
    modules: [
      { type: "ESModule", path: BUNDLE, contents: readFileSync(BUNDLE, "utf8") },
      { type: "CompiledWasm", path: `${ROOT}dist/bundle/worker/percepnet.wasm`, contents: readFileSync(`${ROOT}build/percepnet.wasm`) },
      { type: "CompiledWasm", path: `${ROOT}dist/bundle/worker/percepnet-relaxed.wasm`, contents: readFileSync(`${ROOT}build/percepnet-relaxed.wasm`) },
      { type: "Data", path: `${ROOT}dist/bundle/worker/default.pnm`, contents: model },
    ],
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = await mf.ready;
    assert.match(url.hostname, /^(127\.0\.0\.1|localhost)$/);
    const res = await fetch(url, { method: "POST", body: body as Uint8Array<ArrayBuffer> });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("content-type"), "audio/wav");
    assert.equal(res.headers.get("x-percepnet-wasm"), "relaxed", "workerd validates relaxed SIMD, so pickWasmModule takes percepnet-relaxed.wasm");
    const out = decodeWav(new Uint8Array(await res.arrayBuffer()));
    assert.equal(out.info.sampleRate, 48000);
    assert.equal(out.info.channels, 1);
    assert.equal(out.info.frames, x.length);
    assert.equal(out.info.format, "float32");
    // The same wasm and model in Node's V8: workerd runs V8 too, so the float path is the same;
    // allow only float32 rounding noise.
    const ref = alignedProcess(new MultiChannelDenoiser(await wasmModule(), { model }), [x])[0];
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - out.channels[0][i]));
    assert.ok(worst < 1e-6, `max |workerd - node| = ${worst}`);
    // Other rates go through the same whole-buffer path as the CLI and denoiseChannels (tests/cli-stream.test.ts
    // checks CLI == denoiseChannels bit for bit): the Worker must agree with denoiseChannels in Node too.
    for (const rate of [16000, 44100]) {
      const n = Math.round(rate * 1.3);
      const xr = Float32Array.from({ length: n }, (_, i) => x[Math.floor(i * 48000 / rate)]);
      const r2 = await fetch(url, { method: "POST", body: encodeWav([xr], { sampleRate: rate, format: "float32" }).bytes as Uint8Array<ArrayBuffer> });
      assert.equal(r2.status, 200, await r2.clone().text());
      const got = decodeWav(new Uint8Array(await r2.arrayBuffer()));
      assert.deepEqual([got.info.sampleRate, got.info.frames], [rate, n]);
      const want = (await denoiseChannels([xr], { wasm: await wasmModule(), model, sampleRate: rate }))[0];
      let w = 0;
      for (let i = 0; i < n; i++) w = Math.max(w, Math.abs(want[i] - got.channels[0][i]));
      assert.ok(w < 1e-6, `${rate} Hz: max |workerd - denoiseChannels| = ${w}`);
    }
    // A malformed upload is a clear 400, not a crash.
    const bad = await fetch(url, { method: "POST", body: "not a wav" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /bad WAV/);
  } finally {
    await mf.dispose();
  }
});
