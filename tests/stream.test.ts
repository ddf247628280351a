// Public streaming API: rates, channels, options, resampler round trip, delays.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Denoiser, ALGORITHMIC_DELAY } from "../host/denoiser.js";
import { MultiChannelDenoiser, createStream, alignedProcess, SUPPORTED_SAMPLE_RATES } from "../host/stream.js";
import { resample, StreamResampler } from "../host/resample.js";
import { parseModelFile } from "../host/model-file.js";
import { makeConfig, randomModelFile } from "../lab/random-model.js";
import { Engine } from "../host/engine.js";
import { readSample, rng, snrDb, wasmModule } from "./util.js";

/** Sum of 24 tones from 100 Hz to 0.85 x Nyquist (inside the resampler's pass band, 0.9 x Nyquist), random phases. */
function speechBand(rate: number, frames: number, seed: number): Float32Array {
  const r = rng(seed);
  const top = Math.min(0.85 * rate / 2, 20000);
  const tones = Array.from({ length: 24 }, (_, k) => ({ f: 100 + (k + r()) * (top - 100) / 24, p: r() * 2 * Math.PI }));
  return Float32Array.from({ length: frames }, (_, i) => tones.reduce((a, t) => a + Math.sin((2 * Math.PI * t.f * i) / rate + t.p), 0) / 30);
}

/** Edges excluded from SNRs: the sinc filters' start/end transients (50 ms). */
const mid = (x: Float32Array, rate: number) => x.subarray(rate / 20, x.length - rate / 20);

test("resample() round trip 16k -> 48k -> 16k: SNR > 60 dB in the pass band", () => {
  const x = speechBand(16000, 16000, 1);
  const y = resample(resample(x, 16000, 48000), 48000, 16000);
  assert.equal(y.length, x.length);
  const snr = snrDb(mid(x, 16000), mid(y, 16000));
  assert.ok(snr > 60, `SNR ${snr.toFixed(1)} dB`);
});

test("StreamResampler equals resample() for any chunking", () => {
  const x = speechBand(44100, 9000, 2);
  for (const [fin, fout] of [[44100, 48000], [48000, 44100], [16000, 48000]] as const) {
    const ref = resample(x, fin, fout);
    const s = new StreamResampler(fin, fout);
    const got: number[] = [];
    const r = rng(3);
    for (let i = 0; i < x.length;) {
      const n = 1 + Math.floor(r() * 700);
      const out = new Float32Array(s.maxOutput(n));
      const k = s.push(x.subarray(i, i + n), out);
      got.push(...out.subarray(0, k));
      i += n;
    }
    // The last `lookahead` inputs' outputs are still pending; everything before matches.
    assert.ok(got.length >= ref.length - Math.ceil(((s.lookahead + 1) * fout) / fin) - 1, `${fin}->${fout}: ${got.length} of ${ref.length}`);
    let worst = 0;
    for (let m = 0; m < got.length; m++) worst = Math.max(worst, Math.abs(got[m] - ref[m]));
    assert.ok(worst < 1e-5, `${fin}->${fout}: max diff ${worst}`);
  }
});

test("every supported rate: unity stream returns the input delayed by exactly `delay` (SNR > 60 dB), any chunking", async () => {
  const module = await wasmModule();
  for (const rate of SUPPORTED_SAMPLE_RATES) {
    const x = speechBand(rate, Math.round(rate * 0.5), rate);
    const s = new MultiChannelDenoiser(module, { sampleRate: rate, mode: "unity" });
    const y = new Float32Array(x.length + s.delay + 1);
    const r = rng(rate);
    let i = 0;
    while (i < y.length) {
      const n = Math.min(y.length - i, 1 + Math.floor(r() * 1500));
      const chunk = new Float32Array(n);
      if (i < x.length) chunk.set(x.subarray(i, Math.min(x.length, i + n)));
      y.set(s.process([chunk])[0], i);
      i += n;
    }
    const snr = snrDb(mid(x, rate), mid(y.subarray(s.delay, s.delay + x.length), rate));
    assert.ok(snr > 60, `${rate} Hz: SNR ${snr.toFixed(1)} dB at delay ${s.delay}`);
    // One sample off must be clearly worse: the delay is exact, not approximately right.
    const off = snrDb(mid(x, rate), mid(y.subarray(s.delay + 1, s.delay + 1 + x.length), rate));
    assert.ok(off < snr - 10, `${rate} Hz: delay+1 gives ${off.toFixed(1)} dB vs ${snr.toFixed(1)}`);
  }
});

test("48 kHz stream delay is the Denoiser's (1920) and the impulse response peaks at the 30 ms algorithmic delay", async () => {
  const module = await wasmModule();
  const d = new Denoiser(module, { mode: "unity" });
  assert.equal(d.delay, 1920);
  assert.equal(ALGORITHMIC_DELAY, 1440);
  // An impulse through the streaming path: the peak of the raw process() output lands at `delay`
  // (1440 algorithmic + 480 framing); the time-aligned offline path puts it back at 0.
  const x = new Float32Array(9600);
  x[3000] = 1;
  const y = d.process(x);
  let peak = 0;
  for (let i = 1; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[peak])) peak = i;
  assert.equal(peak - 3000, 1920);
  assert.ok(Math.abs(y[peak] - 1) < 1e-3, `peak ${y[peak]}`);
  // The signal path alone (wasm processFrame, frame in -> frame out, no host FIFO): 1440 samples.
  const eng = new Engine(module);
  const z = new Float32Array(x.length);
  for (let t = 0; t + 480 <= x.length; t += 480) { eng.input.set(x.subarray(t, t + 480)); eng.runFrame(); z.set(eng.output, t); }
  assert.equal(eng.delay, ALGORITHMIC_DELAY);
  let p2 = 0;
  for (let i = 1; i < z.length; i++) if (Math.abs(z[i]) > Math.abs(z[p2])) p2 = i;
  assert.equal(p2 - 3000, ALGORITHMIC_DELAY);
});

test("multi-channel: each channel equals a mono Denoiser on that channel (with a model)", async () => {
  const module = await wasmModule();
  const model = parseModelFile(randomModelFile(makeConfig(32), 5));
  const a = readSample("speech_noisy_snr0.wav").subarray(0, 24000);
  const b = a.map((v, i) => 0.5 * a[(i * 7) % a.length]);
  const s = new MultiChannelDenoiser(module, { channels: 2, model });
  const frames: number[] = [0, 0];
  s.onFrame = (ch) => frames[ch]++;
  const [ya, yb] = s.process([a, b]);
  assert.deepEqual(frames, [50, 50]);
  for (const [x, y] of [[a, ya], [b, yb]]) {
    const mono = new Denoiser(module, { model });
    assert.deepEqual(y, mono.process(x));
  }
  assert.equal(s.vad.length, 2);
  assert.equal(s.frameInfo(1).gains.length, 34);
  assert.ok(s.vad.every((v) => v >= 0 && v <= 1));
});

test("attenuation limit and postfilter options change the output; setOptions applies live", async () => {
  const module = await wasmModule();
  const model = parseModelFile(randomModelFile(makeConfig(32), 5));
  const x = readSample("speech_noisy_snr0.wav").subarray(0, 24000);
  const run = (o: object) => alignedProcess(new MultiChannelDenoiser(module, { model, ...o }), [x])[0];
  const full = run({});
  const limited = run({ attenuationLimitDb: 3 });
  const noPf = run({ postfilter: false });
  assert.ok(snrDb(full, limited) < 40, "a 3 dB limit must change the output");
  assert.ok(snrDb(full, noPf) < 60, "postfilter off must change the output");
  // 3 dB limit: every band gain >= 10^(-3/20).
  const s = new MultiChannelDenoiser(module, { model, attenuationLimitDb: 3 });
  let minGain = 1;
  s.onFrame = (_, d) => { for (const g of d.frameInfo.gains) minGain = Math.min(minGain, g); };
  s.process([x]);
  assert.ok(minGain >= 10 ** (-3 / 20) - 1e-4, `min gain ${minGain}`);
  s.setOptions({ attenuationLimitDb: undefined });
  minGain = 1;
  s.process([x]);
  assert.ok(minGain < 10 ** (-3 / 20) - 0.01, `unlimited min gain ${minGain}`);
});

test("bad options and inputs fail with clear errors", async () => {
  const module = await wasmModule();
  await assert.rejects(createStream({ sampleRate: 22050, model: null }), /unsupported sampleRate 22050; expected one of 8000, 16000, 24000, 32000, 44100, 48000/);
  await assert.rejects(createStream({ channels: 0, model: null }), /channels must be an integer from 1 to 64/);
  await assert.rejects(createStream({ channels: 1.5, model: null }), /channels must be an integer/);
  await assert.rejects(createStream({ attenuationLimitDb: -1, model: null }), /attenuationLimitDb/);
  assert.throws(() => new MultiChannelDenoiser(module, { mode: "oracle" }), /oracle mode needs a clean reference/);
  const s = new MultiChannelDenoiser(module, { channels: 2, model: null });
  assert.throws(() => s.process([new Float32Array(10)]), /expects an array of 2 Float32Array/);
  assert.throws(() => s.process([new Float32Array(10), new Float32Array(11)]), /channel 1 has 11 samples, channel 0 has 10/);
  assert.throws(() => s.process([new Float32Array(10), [1, 2] as any]), /channel 1 is not a Float32Array/);
  assert.throws(() => s.frameInfo(2), /no channel 2/);
  assert.throws(() => s.setOptions({ postfilter: "yes" as any }), /boolean/);
});
