// The whole per-frame pipeline through the host framing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Denoiser } from "../host/denoiser.js";
import { readSample, rng, snrDb, wasmModule } from "./util.js";

async function unity(): Promise<Denoiser> {
  return new Denoiser(await wasmModule(), { mode: "unity" });
}

function runAll(d: Denoiser, x: Float32Array): Float32Array {
  const y = new Float32Array(x.length + d.delay);
  y.set(d.process(x));
  y.set(d.flush(), x.length);
  return y.subarray(d.delay);
}

test("perfect reconstruction with unity gains: speech and white noise, SNR > 90 dB after delay compensation", async () => {
  const speech = readSample("speech_clean_freesound_33711.wav");
  const r = rng(7);
  const white = new Float32Array(48000 * 2).map(() => (r() * 2 - 1) * 0.5);
  for (const [name, x] of [["speech", speech], ["white", white]] as const) {
    const d = await unity();
    const y = runAll(d, x);
    const snr = snrDb(x, y);
    assert.ok(snr > 90, `${name}: SNR ${snr.toFixed(1)} dB`);
  }
});

test("chunking invariance: chunks of 1, 128, 441 and 4096 give bit-identical output", async () => {
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 48000);
  const ref = (await (async () => { const d = new Denoiser(await wasmModule(), { mode: "unity" }); return d.process(x); })());
  for (const modeOpts of [{ mode: "unity" as const }]) {
    for (const chunk of [1, 128, 441, 4096]) {
      const d = new Denoiser(await wasmModule(), modeOpts);
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i += chunk) {
        const part = x.subarray(i, Math.min(i + chunk, x.length));
        y.set(d.process(part), i);
      }
      assert.deepEqual(y, ref, `chunk ${chunk}`);
    }
  }
});

test("reset() restores the initial state bit-exactly", async () => {
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 24000);
  const d = await unity();
  const a = d.process(x);
  d.process(x.subarray(0, 777));
  d.reset();
  const b = d.process(x);
  assert.deepEqual(b, a);
});

test("non-finite input samples give finite output", async () => {
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 9600).slice();
  x[100] = NaN; x[2000] = Infinity; x[3000] = -Infinity; x[4000] = 1e30;
  const d = await unity();
  const y = d.process(x);
  for (const v of y) assert.ok(Number.isFinite(v));
});

test("options are validated", async () => {
  await assert.rejects(Denoiser.create({ attenuationLimitDb: -3 }), /attenuationLimitDb/);
  await assert.rejects(Denoiser.create({ attenuationLimitDb: NaN }), /attenuationLimitDb/);
  await assert.rejects(Denoiser.create({ mode: "loud" as any }), /unknown mode/);
  await assert.rejects(Denoiser.create({ comb: 1 as any }), /boolean/);
});
