// The public surface (host/index.ts): unknown options are rejected with a
// suggestion, wrong arguments fail with the function's name and the problem,
// and every export is listed in docs/API.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as api from "../host/index.js";
import { ROOT, wasmModule } from "./util.js";

type Call = () => unknown;

/** Run `f` (sync or async) and return the error it throws or rejects with. */
async function errorOf(f: Call): Promise<Error> {
  try { await f(); } catch (e) { return e as Error; }
  assert.fail("expected an error, got none");
}

async function rejects(f: Call, type: typeof Error, re: RegExp, label: string): Promise<void> {
  const e = await errorOf(f);
  assert.ok(e instanceof type, `${label}: expected ${type.name}, got ${e?.constructor?.name}: ${e?.message}`);
  assert.match(e.message, re, label);
}

test("unknown options are rejected with the nearest valid key, on every options-taking function", async () => {
  const module = await wasmModule();
  const x = new Float32Array(480);
  const d = new api.Denoiser(module, { mode: "unity" });
  const s = new api.MultiChannelDenoiser(module, { mode: "unity" });
  const typo = /unknown option "modle"; did you mean "model"\?/;
  const cases: [string, Call, RegExp][] = [
    ["Denoiser.create", () => api.Denoiser.create({ modle: null } as any), typo],
    ["new Denoiser", () => new api.Denoiser(module, { modle: null } as any), typo],
    ["Denoiser.setOptions", () => d.setOptions({ postfiltre: false } as any), /unknown option "postfiltre"; did you mean "postfilter"\?/],
    ["Denoiser.setOptions (not live)", () => d.setOptions({ mode: "unity" } as any), /unknown option "mode"/],
    ["createStream", () => api.createStream({ modle: null } as any), typo],
    ["MultiChannelDenoiser.create", () => api.MultiChannelDenoiser.create({ samplerate: 16000 } as any), /unknown option "samplerate"; did you mean "sampleRate"\?/],
    ["new MultiChannelDenoiser", () => new api.MultiChannelDenoiser(module, { chanels: 2 } as any), /unknown option "chanels"; did you mean "channels"\?/],
    ["MultiChannelDenoiser.setOptions", () => s.setOptions({ com: false } as any), /unknown option "com"; did you mean "comb"\?/],
    ["denoiseChannels", () => api.denoiseChannels([x], { modle: null } as any), typo],
    ["enhanceOracle", () => api.enhanceOracle(x, x, { postfiltre: false } as any), /did you mean "postfilter"\?/],
    ["enhanceOracle (mode)", () => api.enhanceOracle(x, x, { mode: "network" } as any), /unknown option "mode"/],
    ["dumpFeatures", () => api.dumpFeatures(x, x, { wsam: module } as any), /unknown option "wsam"; did you mean "wasm"\?/],
    ["resample", () => api.resample(x, 48000, 16000, { passbnd: 0.8 } as any), /unknown option "passbnd"; did you mean "passband"\?/],
    ["StreamResampler", () => new api.StreamResampler(48000, 16000, { attenuation: 60 } as any), /did you mean "attenuationDb"\?/],
    ["decodeWav", () => api.decodeWav(new Uint8Array(44), { sanitise: true } as any), /unknown option "sanitise"; did you mean "sanitize"\?/],
    ["encodeWav", () => api.encodeWav([x], { sampleRate: 48000, format: "pcm16", channelmask: 3 } as any), /did you mean "channelMask"\?/],
  ];
  for (const [label, f, re] of cases) await rejects(f, TypeError, re, label);
});

test("Denoiser given sampleRate says it is 48 kHz only and points to createStream / denoiseChannels", async () => {
  for (const f of [() => api.Denoiser.create({ sampleRate: 16000 } as any), async () => new api.Denoiser(await wasmModule(), { sampleRate: 16000 } as any)]) {
    const e = await errorOf(f);
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /unknown option "sampleRate"/);
    assert.match(e.message, /48 kHz only/);
    assert.match(e.message, /createStream/);
    assert.match(e.message, /denoiseChannels/);
  }
});

test("every exported function names itself and the problem when called with wrong arguments", async () => {
  const module = await wasmModule();
  const x = new Float32Array(480);
  const d = new api.Denoiser(module, { mode: "unity" });
  const s = new api.MultiChannelDenoiser(module, { mode: "unity" });
  const cases: [string, Call, typeof Error, RegExp][] = [
    // The guessed call of the README's denoiseBuffer: samples first, no Denoiser.
    ["denoiseBuffer(chunk)", () => api.denoiseBuffer(x as any, undefined as any), TypeError, /denoiseBuffer\(\).*Denoiser.*got a Float32Array/],
    ["denoiseBuffer(d)", () => (api.denoiseBuffer as any)(d), TypeError, /denoiseBuffer\(\).*samples.*Float32Array, got undefined/],
    ["denoiseBuffer(d, x, 3)", () => api.denoiseBuffer(d, x, 3 as any), TypeError, /denoiseBuffer\(\).*clean.*Float32Array/],
    ["Denoiser.create(model)", () => api.Denoiser.create(new Uint8Array(4) as any), TypeError, /Denoiser\.create\(\).*options must be an object.*Uint8Array/],
    ["new Denoiser()", () => new (api.Denoiser as any)(), TypeError, /new Denoiser\(\).*WebAssembly\.Module.*got undefined/],
    ["Denoiser.process(array)", () => d.process([0, 1] as any), TypeError, /Denoiser\.process\(\).*Float32Array, got an array/],
    ["Denoiser.setOptions()", () => (d.setOptions as any)(), TypeError, /Denoiser\.setOptions\(\).*options.*got undefined/],
    ["resolveModel(3)", () => api.resolveModel(3 as any), TypeError, /resolveModel\(\).*got a number/],
    ["parseModelFile()", () => (api.parseModelFile as any)(), TypeError, /parseModelFile\(\).*Uint8Array or ArrayBuffer, got undefined/],
    ["enhanceOracle(x)", () => (api.enhanceOracle as any)(x), TypeError, /enhanceOracle\(\).*noisy.*Float32Array, got undefined/],
    ["enhanceOracle(lengths)", () => api.enhanceOracle(x, new Float32Array(3)), RangeError, /enhanceOracle\(\).*lengths differ/],
    ["dumpFeatures([x], [x])", () => api.dumpFeatures([x] as any, [x] as any), TypeError, /dumpFeatures\(\).*clean.*Float32Array, got an array/],
    ["compileWasm()", () => (api.compileWasm as any)(), TypeError, /compileWasm\(\).*got undefined/],
    ["createStream(16000)", () => api.createStream(16000 as any), TypeError, /createStream\(\).*options must be an object.*number/],
    ["denoiseChannels(x)", () => api.denoiseChannels(x as any), TypeError, /denoiseChannels\(\).*array of Float32Array.*\[samples\]/],
    ["denoiseChannels(channels mismatch)", () => api.denoiseChannels([x], { channels: 2 }), RangeError, /denoiseChannels\(\).*channels/],
    ["new MultiChannelDenoiser()", () => new (api.MultiChannelDenoiser as any)(), TypeError, /new MultiChannelDenoiser\(\).*WebAssembly\.Module/],
    ["MultiChannelDenoiser.process(x)", () => s.process(x as any), TypeError, /MultiChannelDenoiser\.process\(\).*\[samples\]/],
    ["resample(x)", () => (api.resample as any)(x), TypeError, /resample\(\).*rates/],
    ["resample('abc', ...)", () => api.resample("abc" as any, 48000, 16000), TypeError, /resample\(\).*samples.*got a string/],
    ["new StreamResampler()", () => new (api.StreamResampler as any)(), TypeError, /StreamResampler\(\).*rates/],
    ["StreamResampler.push(x)", () => (new api.StreamResampler(48000, 16000) as any).push(x), TypeError, /StreamResampler\.push\(\).*out.*Float32Array.*got undefined/],
    ["decodeWav(buffer)", () => api.decodeWav(new ArrayBuffer(44) as any), TypeError, /decodeWav\(\).*Uint8Array, got a ArrayBuffer|decodeWav\(\).*Uint8Array, got an? ArrayBuffer/],
    ["encodeWav(x, opts)", () => api.encodeWav(x as any, { sampleRate: 48000, format: "pcm16" }), TypeError, /encodeWav\(\).*array of Float32Array/],
    ["encodeWav([x])", () => (api.encodeWav as any)([x]), TypeError, /encodeWav\(\).*options.*sampleRate/],
    ["encodeWav(bad format)", () => api.encodeWav([x], { sampleRate: 48000, format: "mp3" as any }), TypeError, /encodeWav\(\).*format/],
    ["outputFormatFor()", () => (api.outputFormatFor as any)(), TypeError, /outputFormatFor\(\).*WavInfo.*got undefined/],
  ];
  for (const [label, f, type, re] of cases) await rejects(f, type, re, label);
});

/** Every name exported by host/index.ts, values and types. */
function indexExports(): string[] {
  const src = readFileSync(`${ROOT}host/index.ts`, "utf8");
  const names: string[] = [];
  for (const m of src.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (name) names.push(name);
    }
  }
  for (const m of src.matchAll(/export\s+(?:declare\s+)?(?:const|function|class|interface|type|enum)\s+(\w+)/g)) names.push(m[1]);
  return names;
}

test("docs/API.md lists every export of host/index.ts (a new export without docs fails here)", () => {
  const names = indexExports();
  // The runtime module agrees with the parse (guards the regexes above).
  for (const k of Object.keys(api)) assert.ok(names.includes(k), `${k} exported at run time but not found in host/index.ts`);
  assert.ok(names.length > 20);
  const doc = readFileSync(`${ROOT}docs/API.md`, "utf8");
  // Each export has a heading of its own: "### `name`".
  const missing = names.filter((n) => !new RegExp("^#{2,4} `" + n + "`", "m").test(doc));
  assert.deepEqual(missing, [], `exports missing from docs/API.md: ${missing.join(", ")}`);
});

test("README's API section names every exported function and class (a new one without a README line fails here)", () => {
  const readme = readFileSync(`${ROOT}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## API"), readme.indexOf("\n## ", readme.indexOf("## API") + 1));
  assert.ok(section.length > 200, "README has an API section");
  const fns = Object.entries(api).filter(([, v]) => typeof v === "function").map(([k]) => k);
  assert.ok(fns.length > 15);
  const missing = fns.filter((n) => !section.includes("`" + n) && !new RegExp("[ (`.]" + n + "\\(").test(section));
  assert.deepEqual(missing, [], `exported functions without a README API line: ${missing.join(", ")}`);
});
