// The worklet processor's framing in Node, inside a minimal AudioWorkletGlobalScope
// shim: impulse delay per render quantum, VAD report rate, bypass, errors.
// (tests/browser.test.ts runs the same bundle in real Chromium.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { ALGORITHMIC_DELAY } from "../host/denoiser.js";
import { workletDelay, workletRingDelay } from "../host/worklet/processor.js";
import { wasmModule } from "./util.js";

type Proc = { port: { postMessage(m: unknown): void; onmessage?: (e: { data: unknown }) => void }; process(i: Float32Array[][], o: Float32Array[][]): boolean };
let Ctor: (new (o: { processorOptions?: unknown }) => Proc) | undefined;

async function processorClass() {
  if (Ctor) return Ctor;
  const g = globalThis as any;
  g.sampleRate = 48000;
  g.AudioWorkletProcessor = class { port = { posted: [] as unknown[], postMessage(m: unknown) { this.posted.push(m); }, onmessage: undefined }; };
  g.registerProcessor = (name: string, c: any) => { assert.equal(name, "percepnet"); Ctor = c; };
  // A second copy of the module, evaluated with the shim in place (the first import above saw no registerProcessor).
  const spec = "../host/worklet/processor.js?shim";
  await import(spec);
  delete g.registerProcessor;
  return Ctor!;
}

/** Run `x` through the processor in quanta of `q`; returns the output. */
function render(p: Proc, x: Float32Array, q = 128): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i + q <= x.length; i += q) {
    const out = [new Float32Array(q)];
    p.process([[x.slice(i, i + q)]], [out]);
    y.set(out[0], i);
  }
  return y;
}

test("ring delay: 480 - gcd(quantum, 480): 448 for Web Audio's 128-sample quantum", () => {
  assert.equal(workletRingDelay(128), 448);
  assert.equal(workletDelay(128), ALGORITHMIC_DELAY + 448);
  assert.equal(workletRingDelay(480), 0);
  assert.equal(workletRingDelay(160), 320);
});

for (const q of [128, 160, 480]) {
  test(`impulse response peaks at the documented worklet delay (quantum ${q})`, async () => {
    const P = await processorClass();
    const p = new P({ processorOptions: { module: await wasmModule(), model: null, quantum: q } });
    const posted = (p.port as any).posted as any[];
    assert.equal(posted[0].type, "ready", JSON.stringify(posted[0]));
    assert.equal(posted[0].delay, workletDelay(q));
    const x = new Float32Array(q * 60);
    x[1000] = 1;
    const y = render(p, x, q);
    let peak = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[peak])) peak = i;
    assert.equal(peak - 1000, workletDelay(q));
    assert.ok(Math.abs(y[peak] - 1) < 1e-3);
  });
}

test("VAD reported every vadInterval frames; bypass cross-fades to the delayed dry signal; bad options post an error", async () => {
  const P = await processorClass();
  const module = await wasmModule();
  const p = new P({ processorOptions: { module, model: null, vadInterval: 5 } });
  const posted = (p.port as any).posted as any[];
  const x = new Float32Array(128 * 375).map((_, i) => Math.sin(i / 7) * 0.3); // 1 s = 100 frames
  render(p, x);
  assert.equal(posted.filter((m) => m.type === "vad").length, 20);
  p.port.onmessage!({ data: { type: "bypass", value: true } });
  const y = render(p, x);
  const d = workletDelay(128);
  // After the 480-sample fade, output = input delayed by d (the stream continues across calls).
  for (let t = 2000; t < x.length; t++) assert.ok(Math.abs(y[t] - x[(t - d + x.length) % x.length]) < 1e-6, `t=${t}`);
  const bad = new P({ processorOptions: { module, model: null, channels: 0 } });
  assert.match(((bad.port as any).posted as any[])[0].message, /channels must be 1\.\.32/);
  const noModule = new P({ processorOptions: { model: null } });
  assert.match(((noModule.port as any).posted as any[])[0].message, /must be a compiled WebAssembly\.Module/);
});

test("a reset message clears the processor's rings as well as its denoisers: the output then equals a fresh processor's", async () => {
  const P = await processorClass();
  const module = await wasmModule();
  const x = new Float32Array(128 * 75).map((_, i) => Math.sin(i / 5) * 0.4); // 20 frames
  const used = new P({ processorOptions: { module, model: null } });
  // Stop mid-frame (the fill and ring positions are then off their start values).
  render(used, x.subarray(0, 128 * 40));
  used.port.onmessage!({ data: { type: "reset" } });
  const fresh = new P({ processorOptions: { module, model: null } });
  assert.deepEqual(render(used, x), render(fresh, x));
});

test("levelNormalize reaches the worklet's engines from processorOptions and from an options message, and a bad value is reported", async () => {
  const P = await processorClass();
  const module = await wasmModule();
  const on = new P({ processorOptions: { module, model: null, levelNormalize: true } });
  const engines = (p: Proc) => ((p as any).chans as { eng: { config: { levelNormalize: boolean } } }[]).map((c) => c.eng.config.levelNormalize);
  assert.deepEqual(engines(on), [true]);
  on.port.onmessage!({ data: { type: "options", levelNormalize: false } });
  assert.deepEqual(engines(on), [false]);
  const bad = new P({ processorOptions: { module, model: null, levelNormalize: "yes" } });
  assert.match(((bad.port as any).posted as any[])[0].message, /levelNormalize must be a boolean/);
});

test("unknown processorOptions are reported with the nearest valid key", async () => {
  const P = await processorClass();
  const p = new P({ processorOptions: { module: await wasmModule(), modle: null } });
  const posted = (p.port as any).posted as any[];
  assert.equal(posted[0].type, "error");
  assert.match(posted[0].message, /unknown option "modle"; did you mean "model"\?/);
});
