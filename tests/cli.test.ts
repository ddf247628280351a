import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AlignedStream, type ChannelStream } from "../host/aligned.js";
import { main, type CliDeps } from "../host/cli.js";
import type { StreamOptions } from "../host/stream.js";
import { decodeWav, encodeWav } from "../host/wav.js";
import { float32Bytes, rawWav, rng } from "./wavbytes.js";
import { DelayStream } from "./util.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SPEECH = "/work/shared/data/samples/speech_clean_freesound_33711.wav";

interface Run { code: number; out: string; err: string; created: StreamOptions[] }

async function run(argv: string[], extra: Partial<CliDeps> & { tty?: boolean; delay?: number } = {}): Promise<Run> {
  let out = "", err = "";
  const created: StreamOptions[] = [];
  const code = await main(argv, {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: extra.tty ?? false } },
    createStream: async (opts) => { created.push(opts); return new DelayStream(opts.channels, extra.delay); },
    ...extra,
  });
  return { code, out, err, created };
}

let dir: string;
before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), "percepnet-cli-")); });
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

async function tmpFile(name: string, bytes?: Uint8Array): Promise<string> {
  const p = path.join(dir, name);
  if (bytes) await fs.writeFile(p, bytes);
  return p;
}

function snrDb(ref: Float32Array, x: Float32Array): number {
  let s = 0, e = 0;
  for (let i = 0; i < ref.length; i++) { s += ref[i] * ref[i]; e += (ref[i] - x[i]) ** 2; }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}

function noise(frames: number, seed: number, amp = 0.5): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: frames }, () => (r() * 2 - 1) * amp);
}

/** Files in the test dir that look like our temp files: must never survive a run. */
async function leftovers(): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"));
}

test("--help, --version and usage errors", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: percepnet \[denoise\] INPUT\.wav -o OUTPUT\.wav/);
  assert.match(help.out, /Commands:\n\s+denoise/);
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8"));
  assert.equal((await run(["--version"])).out.trim(), pkg.version);
  assert.equal((await run(["denoise", "--help"])).code, 0);
  for (const [argv, msg] of [
    [[], /Usage/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["in.wav"], /missing -o OUTPUT\.wav/],
    [["-o", "x.wav"], /missing INPUT\.wav/],
    [["a.wav", "b.wav", "-o", "x.wav"], /expected one input file, got 2/],
  ] as const) {
    const r = await run([...argv]);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.match(r.err, msg);
  }
});

test("bin/percepnet.js runs the compiled CLI", () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, "bin/percepnet.js"), "--help"], { encoding: "utf8" });
  assert.match(out, /percepnet - PercepNet/);
});

test("speech file round-trips through a pass-through denoiser with SNR > 90 dB", { skip: !existsSync(SPEECH) && "sample data missing" }, async () => {
  const output = await tmpFile("speech_out.wav");
  const r = await run([SPEECH, "-o", output, "--quiet"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "");
  const a = decodeWav(await fs.readFile(SPEECH)), b = decodeWav(await fs.readFile(output));
  assert.deepEqual(b.info, a.info);
  const snr = snrDb(a.channels[0], b.channels[0]);
  assert.ok(snr > 90, `SNR ${snr} dB`);
  // A one-sample misalignment must be caught, or this test proves nothing.
  assert.ok(snrDb(a.channels[0], Float32Array.from(b.channels[0], (_, i) => b.channels[0][i + 1] ?? 0)) < 40);
});

test("multi-channel 24-bit: one denoiser per channel, format and alignment kept", async () => {
  const x = [noise(50000, 1), noise(50000, 2, 0.1), noise(50000, 3, 0.9)];
  const input = await tmpFile("multi.wav", encodeWav(x, { sampleRate: 48000, format: "pcm24", channelMask: 0x7 }).bytes);
  const output = await tmpFile("multi_out.wav");
  const r = await run([input, "-o", output], { delay: 1001 });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.created.length, 1);
  assert.equal(r.created[0].channels, 3);
  assert.match(r.err, /multi\.wav -> .*multi_out\.wav: 1\.04 s, 3 ch, 48000 Hz, pcm24/);
  const a = decodeWav(await fs.readFile(input)), b = decodeWav(await fs.readFile(output));
  assert.deepEqual(b.info, a.info);
  for (let c = 0; c < 3; c++) assert.deepEqual(b.channels[c], a.channels[c], `channel ${c}`);
});

test("AlignedStream handles inputs shorter than the delay and odd block sizes", async () => {
  for (const [n, delay, block] of [[100, 1440, 48000], [5000, 480, 333], [1440, 1440, 1440], [0, 10, 5]]) {
    const x = noise(n, n + 1);
    const a = new AlignedStream(new DelayStream(1, delay));
    const parts: Float32Array[] = [];
    for (let i = 0; i < n; i += block) parts.push(a.push([x.subarray(i, Math.min(n, i + block))])[0]);
    parts.push(a.end()[0]);
    const y = new Float32Array(parts.reduce((k, p) => k + p.length, 0));
    parts.reduce((k, p) => (y.set(p, k), k + p.length), 0);
    assert.deepEqual(y, x, `n=${n} delay=${delay} block=${block}`);
  }
});

test("the default Denoiser keeps length and format", async () => {
  const x = [noise(12000, 4), noise(12000, 5)];
  const input = await tmpFile("default.wav", encodeWav(x, { sampleRate: 48000, format: "float32" }).bytes);
  const output = await tmpFile("default_out.wav");
  let err = "";
  const code = await main([input, "-o", output, "-q"], { io: { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } } });
  assert.equal(code, 0, err);
  const b = decodeWav(await fs.readFile(output));
  assert.equal(b.info.format, "float32");
  assert.equal(b.info.channels, 2);
  assert.equal(b.info.frames, 12000);
});

test("bad inputs fail with a clear message and leave an existing output untouched", async () => {
  const output = await tmpFile("keep.wav", new TextEncoder().encode("precious bytes"));
  const good = encodeWav([noise(4800, 9)], { sampleRate: 48000, format: "pcm16" }).bytes;
  const corrupt = good.slice(); corrupt.set([0x01, 0x02, 0x03, 0x04], 36);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["truncated.wav", good.slice(0, 20), /truncated header/],
    ["corrupt.wav", corrupt, /corrupt header: unreadable chunk id/],
    ["empty.wav", new Uint8Array(0), /empty \(0 bytes\)/],
    ["adpcm.wav", rawWav({ formatTag: 0x11, channels: 1, sampleRate: 48000, bitsPerSample: 4, blockAlign: 1, data: new Uint8Array(64) }), /unsupported encoding: IMA ADPCM/],
    ["nan.wav", rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([0, 0.1, NaN]) }), /sample 2 of channel 0 .* NaN/],
    ["inf.wav", rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([Infinity]) }), /sample 0 of channel 0 .* infinite/],
  ];
  for (const [name, bytes, msg] of cases) {
    const input = await tmpFile(name, bytes);
    const r = await run([input, "-o", output, "--force"]);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assert.match(r.err, new RegExp(`percepnet: error: .*${name}: `));
    assert.match(r.err, msg, name);
    assert.equal(await fs.readFile(output, "utf8"), "precious bytes", name);
  }
  assert.deepEqual(await leftovers(), []);
  const missing = await run([path.join(dir, "nope.wav"), "-o", output, "--force"]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read .*nope\.wav: no such file/);
});

test("--sanitize zeroes non-finite samples with a warning", async () => {
  const input = await tmpFile("nan2.wav", rawWav({ formatTag: 3, channels: 1, sampleRate: 48000, bitsPerSample: 32, data: float32Bytes([0.5, NaN, 0.25]) }));
  const output = await tmpFile("nan2_out.wav");
  const r = await run([input, "-o", output, "--sanitize"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: 1 non-finite samples/);
  assert.deepEqual(Array.from(decodeWav(await fs.readFile(output)).channels[0]), [0.5, 0, 0.25]);
});

test("--level on/off reaches the denoiser as levelNormalize, absent leaves the library default, anything else is a usage error", async () => {
  const input = await tmpFile("lvl_in.wav", encodeWav([noise(4800, 12)], { sampleRate: 48000, format: "pcm16" }).bytes);
  for (const [args, want] of [[["--level", "on"], true], [["--level", "off"], false], [[], undefined]] as const) {
    const r = await run([input, "-o", await tmpFile("lvl_out.wav"), "--force", ...args]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.created[0].levelNormalize, want, args.join(" ") || "no --level");
  }
  const output = await tmpFile("lvl_bad.wav", new TextEncoder().encode("precious"));
  const bad = await run([input, "-o", output, "--force", "--level", "auto"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--level takes on or off, got auto/);
  assert.equal(await fs.readFile(output, "utf8"), "precious");
});

test("unwritable output paths fail before processing and leave nothing behind", async () => {
  const input = await tmpFile("w_in.wav", encodeWav([noise(4800, 11)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const noDir = await run([input, "-o", path.join(dir, "no/such/dir/out.wav")]);
  assert.equal(noDir.code, 1);
  assert.match(noDir.err, /cannot write .*out\.wav: directory .*no\/such\/dir does not exist/);
  assert.equal(noDir.created.length, 0);
  const fileAsDir = await run([input, "-o", path.join(input, "out.wav")]);
  assert.equal(fileAsDir.code, 1);
  assert.match(fileAsDir.err, /cannot write/);
  if (process.getuid?.() !== 0) { // root ignores directory permissions
    const ro = path.join(dir, "readonly");
    await fs.mkdir(ro, { mode: 0o555 });
    const r = await run([input, "-o", path.join(ro, "out.wav")]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot write .*permission denied/);
  }
  assert.deepEqual(await leftovers(), []);
});

test("never writes over the input, however it is spelled", async () => {
  const bytes = encodeWav([noise(4800, 12)], { sampleRate: 48000, format: "pcm16" }).bytes;
  const input = await tmpFile("self.wav", bytes);
  await fs.symlink(input, path.join(dir, "self_link.wav"));
  await fs.link(input, path.join(dir, "self_hard.wav"));
  await fs.mkdir(path.join(dir, "sub"));
  for (const out of [input, path.join(dir, "self_link.wav"), path.join(dir, "self_hard.wav"), path.join(dir, "sub/../self.wav")]) {
    const r = await run([input, "-o", out, "--force"]);
    assert.equal(r.code, 2, out);
    assert.match(r.err, /refusing to write over the input/);
  }
  assert.deepEqual(new Uint8Array(await fs.readFile(input)), bytes);
});

test("existing output: refused without --force, replaced with it", async () => {
  const input = await tmpFile("f_in.wav", encodeWav([noise(4800, 13)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const output = await tmpFile("f_out.wav", new TextEncoder().encode("old"));
  const r = await run([input, "-o", output]);
  assert.equal(r.code, 2);
  assert.match(r.err, /already exists \(use --force/);
  assert.equal(await fs.readFile(output, "utf8"), "old");
  assert.equal((await run([input, "-o", output, "-f", "-q"])).code, 0);
  assert.equal(decodeWav(await fs.readFile(output)).info.frames, 4800);
});

test("other sample rates: unsupported ones fail clearly before any work, supported ones reach the stream at their own rate", async () => {
  const odd = await tmpFile("r22.wav", encodeWav([noise(2205, 13)], { sampleRate: 22050, format: "pcm16" }).bytes);
  const r = await run([odd, "-o", await tmpFile("r22_out.wav")]);
  assert.equal(r.code, 1);
  assert.match(r.err, /input is sampled at 22050 Hz; supported rates are 8000, 16000, 24000, 32000, 44100, 48000 Hz/);
  assert.equal(r.created.length, 0);
  const input = await tmpFile("r44.wav", encodeWav([noise(4410, 14)], { sampleRate: 44100, format: "pcm16" }).bytes);
  const output = await tmpFile("r44_out.wav");
  const ok = await run([input, "-o", output, "-q"]);
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(ok.created, [{ sampleRate: 44100, channels: 1 }]);
  const b = decodeWav(await fs.readFile(output));
  assert.equal(b.info.sampleRate, 44100);
  assert.equal(b.info.frames, 4410);
});

/** Sum of tones inside the 16 kHz pass band (up to 0.9 x 8 kHz), random phases. */
function speechBand(rate: number, frames: number, seed: number): Float32Array {
  const r = rng(seed);
  const tones = Array.from({ length: 24 }, (_, k) => ({ f: 100 + k * 290 + r() * 50, p: r() * 2 * Math.PI }));
  return Float32Array.from({ length: frames }, (_, i) => tones.reduce((a, t) => a + Math.sin(2 * Math.PI * t.f * i / rate + t.p), 0) / 30);
}

test("default deps resample: a 16 kHz file goes 16k -> 48k -> 16k and comes back time-aligned, SNR > 60 dB", async () => {
  const x = speechBand(16000, 16000, 21);
  const input = await tmpFile("r16.wav", encodeWav([x], { sampleRate: 16000, format: "float32" }).bytes);
  const output = await tmpFile("r16_out.wav");
  const r = await run([input, "-o", output, "-q"]);
  assert.equal(r.code, 0, r.err);
  const y = decodeWav(await fs.readFile(output));
  assert.equal(y.info.sampleRate, 16000);
  assert.equal(y.info.frames, x.length);
  // The sinc filters' edge transients are excluded: 50 ms at each end.
  const snr = snrDb(x.subarray(800, -800), y.channels[0].subarray(800, -800));
  assert.ok(snr > 60, `SNR ${snr.toFixed(1)} dB`);
});

test("--model is read and passed to the denoiser as bytes; a missing model fails clearly", async () => {
  const input = await tmpFile("m_in.wav", encodeWav([noise(4800, 15), noise(4800, 16)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const model = await tmpFile("m.pnm", new Uint8Array([1, 2, 3]));
  const r = await run([input, "-o", await tmpFile("m_out.wav"), "--model", model, "-q"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.created, [{ sampleRate: 48000, channels: 2, model: new Uint8Array([1, 2, 3]) }]);
  const bad = await run([input, "-o", await tmpFile("m_out2.wav"), "--model", path.join(dir, "none.pnm")]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /cannot read model file .*none\.pnm: no such file/);
  assert.equal(existsSync(path.join(dir, "m_out2.wav")), false);
});

test("progress bar only on a TTY, only for files over 10 s, never with --quiet", async () => {
  const long = await tmpFile("long.wav", encodeWav([noise(48000 * 11, 17, 0.01)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const short = await tmpFile("short.wav", encodeWav([noise(48000, 18, 0.01)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const bar = /denoising \[/;
  const tty = await run([long, "-o", await tmpFile("l1.wav")], { tty: true });
  assert.equal(tty.code, 0, tty.err);
  assert.match(tty.err, bar);
  assert.doesNotMatch((await run([long, "-o", await tmpFile("l2.wav")], { tty: false })).err, bar);
  assert.equal((await run([long, "-o", await tmpFile("l3.wav"), "-q"], { tty: true })).err, "");
  assert.doesNotMatch((await run([short, "-o", await tmpFile("s1.wav")], { tty: true })).err, bar);
});

test("Ctrl-C mid-run removes the temp file and leaves no output", { skip: process.platform === "win32" }, async () => {
  const input = await tmpFile("sig_in.wav", encodeWav([noise(48000 * 4, 19, 0.1)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const output = path.join(dir, "sig_out.wav");
  const cli = new URL("../host/cli.js", import.meta.url).href;
  // A denoiser that takes 50 ms per block keeps the run alive long enough to interrupt.
  const script = `import { main } from ${JSON.stringify(cli)};
    const slow = { delay: 10, flush: () => [new Float32Array(10)],
      process(x) { const t = Date.now(); while (Date.now() - t < 50); return [new Float32Array(x[0].length)]; } };
    process.exitCode = await main(${JSON.stringify([input, "-o", output, "-q"])}, { createStream: async () => slow });`;
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
  const deadline = Date.now() + 20000;
  while ((await fs.readdir(dir)).every((f) => !f.startsWith(".sig_out.wav.")) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(Date.now() < deadline, "the CLI never created its temp file");
  child.kill("SIGINT");
  assert.equal(await exited, "SIGINT");
  assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes("sig_out")), []);
});

test("an error late in the run (last channel's flush) leaves no output, no temp file, and an old output intact", async () => {
  const input = await tmpFile("late_in.wav", encodeWav([noise(48000, 21), noise(48000, 22)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const output = await tmpFile("late_out.wav");
  const kept = await tmpFile("late_kept.wav", new TextEncoder().encode("old output"));
  let made = 0, blocks = 0;
  const failing = async (): Promise<ChannelStream> => {
    const d = new DelayStream(2);
    made++;
    return {
      delay: d.delay,
      process: (x: Float32Array[]) => { blocks++; return d.process(x); },
      flush: () => { throw new Error("simulated engine failure at the very end"); },
    };
  };
  for (const [out, extra] of [[output, []], [kept, ["--force"]]] as const) {
    made = 0;
    const r = await run([input, "-o", out, ...extra], { createStream: failing });
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /simulated engine failure/);
  }
  assert.ok(blocks > 0, "the failure came after processing started");
  assert.equal(existsSync(output), false);
  assert.equal(await fs.readFile(kept, "utf8"), "old output");
  assert.deepEqual(await leftovers(), []);
});

test("SIGTERM mid-run cleans up; SIGKILL (uncatchable) still never leaves a partial output", { skip: process.platform === "win32" }, async () => {
  const input = await tmpFile("kill_in.wav", encodeWav([noise(48000 * 4, 23, 0.1)], { sampleRate: 48000, format: "pcm16" }).bytes);
  const cli = new URL("../host/cli.js", import.meta.url).href;
  const { spawn } = await import("node:child_process");
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    const output = path.join(dir, `kill_out_${sig}.wav`);
    const script = `import { main } from ${JSON.stringify(cli)};
      const slow = { delay: 10, flush: () => [new Float32Array(10)],
        process(x) { const t = Date.now(); while (Date.now() - t < 50); return [new Float32Array(x[0].length)]; } };
      process.exitCode = await main(${JSON.stringify([input, "-o", output, "-q"])}, { createStream: async () => slow });`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, s) => resolve(s)));
    const tmpPrefix = `.${path.basename(output)}.`;
    const deadline = Date.now() + 20000;
    while ((await fs.readdir(dir)).every((f) => !f.startsWith(tmpPrefix)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(Date.now() < deadline, "the CLI never created its temp file");
    child.kill(sig);
    assert.equal(await exited, sig);
    assert.equal(existsSync(output), false, `${sig}: an output appeared`);
    const temps = (await fs.readdir(dir)).filter((f) => f.startsWith(tmpPrefix));
    if (sig === "SIGTERM") assert.deepEqual(temps, []);
    // SIGKILL cannot be caught: the hidden temp file (partly written, since the
    // output is streamed) may stay, but it never has the output's name.
    for (const t of temps) await fs.unlink(path.join(dir, t));
  }
});
