// Where `-o` may point: FIFOs and character devices are written directly,
// symlinks are followed (their target replaced, the link kept), and what
// cannot take a WAV is refused. Every case lives in a temp folder: the
// device nodes are made there with mknod, never the machine's own.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { main } from "../host/cli.js";
import { decodeWav, encodeWav } from "../host/wav.js";
import { rng } from "./wavbytes.js";
import { DelayStream } from "./util.js";

async function run(argv: string[]) {
  let err = "";
  const code = await main(argv, {
    io: { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } },
    createStream: async (o) => new DelayStream(o.channels, 480),
  });
  return { code, err };
}

let dir: string;
let input: string;
let inputBytes: Uint8Array;
const r = rng(7);
const samples = Float32Array.from({ length: 9600 }, () => Math.round((r() - 0.5) * 20000) / 32768);
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "percepnet-out-"));
  input = path.join(dir, "in.wav");
  inputBytes = encodeWav([samples], { sampleRate: 48000, format: "pcm16" }).bytes;
  await fs.writeFile(input, inputBytes);
});
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const isRoot = process.getuid?.() === 0;
const linuxOnly = process.platform !== "linux" && "needs Linux (mkfifo, mknod, /proc)";

/** A reader on the FIFO's other end, as `percepnet in.wav -o pipe | ...` would have; resolves when it has read everything into `file`. */
function readFifoInto(fifo: string, file: string): Promise<unknown> {
  const cat = spawn("sh", ["-c", `cat "${fifo}" > "${file}"`]);
  return new Promise((res) => cat.on("exit", res));
}

/** Make a device node in the temp folder; false where the mount forbids it (nodev). */
function mknod(dev: string, kind: "b" | "c", major: number, minor: number): boolean {
  try {
    execFileSync("mknod", [dev, kind, String(major), String(minor)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function temps(): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"));
}

test("a FIFO is written directly, with or without --force, and stays a FIFO", { skip: linuxOnly }, async () => {
  const fifo = path.join(dir, "pipe.wav");
  execFileSync("mkfifo", [fifo]);
  for (const extra of [[], ["--force"]]) {
    const captured = path.join(dir, "captured.wav");
    const catDone = readFifoInto(fifo, captured);
    const res = await run([input, "-o", fifo, "-q", ...extra]);
    assert.equal(res.code, 0, res.err);
    await catDone;
    assert.ok((await fs.lstat(fifo)).isFIFO(), "the FIFO was replaced");
    assert.deepEqual(new Uint8Array(await fs.readFile(captured)), inputBytes);
  }
  assert.deepEqual(await temps(), []);
});

test("a character device (a null device made in the temp folder) is written directly and stays a device", { skip: linuxOnly || (!isRoot && "mknod needs root") }, async () => {
  const dev = path.join(dir, "null");
  if (!mknod(dev, "c", 1, 3)) return; // a nodev mount: nothing to test here
  const res = await run([input, "-o", dev, "--force", "-q"]);
  assert.equal(res.code, 0, res.err);
  const st = await fs.lstat(dev);
  assert.ok(st.isCharacterDevice(), "the device node was replaced by a regular file");
  assert.deepEqual(await temps(), []);
});

test("a block device is refused and left alone", { skip: linuxOnly || (!isRoot && "mknod needs root") }, async () => {
  const dev = path.join(dir, "blk");
  if (!mknod(dev, "b", 7, 200)) return;
  const res = await run([input, "-o", dev, "--force"]);
  assert.equal(res.code, 2);
  assert.match(res.err, /is a block device/);
  assert.ok((await fs.lstat(dev)).isBlockDevice());
});

test("a symlink is followed: its target is replaced atomically, the link stays; a dangling link creates its target", async () => {
  const real = path.join(dir, "real.wav");
  const link = path.join(dir, "link.wav");
  await fs.writeFile(real, "old contents");
  await fs.symlink("real.wav", link);
  const refused = await run([input, "-o", link]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /already exists \(use --force/);
  assert.equal(await fs.readFile(real, "utf8"), "old contents");
  const ok = await run([input, "-o", link, "--force", "-q"]);
  assert.equal(ok.code, 0, ok.err);
  assert.ok((await fs.lstat(link)).isSymbolicLink(), "the link was replaced by a file");
  assert.deepEqual(new Uint8Array(await fs.readFile(real)), inputBytes);

  await fs.mkdir(path.join(dir, "sub"));
  const dangling = path.join(dir, "dangling.wav");
  await fs.symlink("sub/new.wav", dangling);
  const made = await run([input, "-o", dangling, "-q"]);
  assert.equal(made.code, 0, made.err);
  assert.ok((await fs.lstat(dangling)).isSymbolicLink());
  assert.deepEqual(new Uint8Array(await fs.readFile(path.join(dir, "sub/new.wav"))), inputBytes);

  const loop = path.join(dir, "loop.wav");
  await fs.symlink("loop.wav", loop);
  const looped = await run([input, "-o", loop, "--force"]);
  assert.equal(looped.code, 1);
  assert.match(looped.err, /too many levels of symbolic links/);
  assert.deepEqual(await temps(), []);
});

test("a folder that allows no new files (/proc) is not called missing", { skip: linuxOnly }, async () => {
  const res = await run([input, "-o", "/proc/percepnet-test.wav"]);
  assert.equal(res.code, 1);
  assert.doesNotMatch(res.err, /does not exist/);
  assert.match(res.err, /cannot write \/proc\/percepnet-test\.wav: \/proc does not allow creating files/);
  assert.equal(existsSync("/proc/percepnet-test.wav"), false);
});

test("the oracle command writes through the same rules (FIFO kept)", { skip: linuxOnly }, async () => {
  const fifo = path.join(dir, "oracle-pipe.wav");
  execFileSync("mkfifo", [fifo]);
  const captured = path.join(dir, "oracle-captured.wav");
  const catDone = readFifoInto(fifo, captured);
  const res = await run(["oracle", "--clean", input, "--noisy", input, "-o", fifo, "-q"]);
  assert.equal(res.code, 0, res.err);
  await catDone;
  assert.ok((await fs.lstat(fifo)).isFIFO());
  assert.equal(decodeWav(new Uint8Array(await fs.readFile(captured))).info.frames, samples.length);
});

test("a bad input fails before the FIFO is opened (no reader needed, nothing hangs)", { skip: linuxOnly, timeout: 20_000 }, async () => {
  const fifo = path.join(dir, "no-reader.wav");
  execFileSync("mkfifo", [fifo]);
  const bad = path.join(dir, "bad.wav");
  await fs.writeFile(bad, "not a wav file at all");
  // Opening a FIFO for writing blocks until a reader comes: a CLI that opened
  // the output first would wait here forever.
  const res = await run([bad, "-o", fifo]);
  assert.equal(res.code, 1);
  assert.match(res.err, /not a WAV file/);
  assert.ok((await fs.lstat(fifo)).isFIFO());
});

test("-o /dev/stdout into a shell pipe streams the WAV through it (a magic link no readlink walk resolves)", { skip: linuxOnly }, async () => {
  const bin = new URL("../../bin/percepnet.js", import.meta.url).pathname;
  const model = new URL("../../weights/small.pnm", import.meta.url).pathname;
  const piped = path.join(dir, "piped.wav");
  execFileSync("sh", ["-c", `"${process.execPath}" "${bin}" "${input}" -o /dev/stdout -q --model "${model}" | cat > "${piped}"`]);
  const wav = decodeWav(new Uint8Array(await fs.readFile(piped)));
  assert.equal(wav.info.frames, samples.length);
  assert.equal(wav.info.format, "pcm16");
});
