// The npm tarball as a user gets it: `npm pack` of a clean checkout (the tracked files plus
// working-tree changes, no dist/ or build/, so prepack has to build), unpacked into a separate
// folder with only its declared dependencies beside it, then used through its public names: the
// library, the bundle, the worklet entries, both models, the wasm, the CLI and its types.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync,
  readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, posix } from "node:path";
import { after, test } from "node:test";
import { ROOT } from "./util.js";

/**
 * The environment of a fresh shell: none of the npm_* variables of the `npm test` running us, and
 * no node_modules/.bin on PATH, where `npm run` puts an old npm (a dependency of a dev tool's
 * dependency) ahead of the real one.
 */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
ENV.PATH = (process.env.PATH ?? "").split(delimiter).filter((p) => !/node_modules[\\/]\.bin$/.test(p)).join(delimiter);

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: ENV, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stdout ?? "").slice(-3000)}\n${(r.stderr ?? "").slice(-3000)}`);
  return r.stdout;
}

/** Why this cannot run here, or false. Only a missing tool or a non-git copy is a reason. */
function cannotRun(): string | false {
  for (const [tool, args] of [["git", ["--version"]], ["npm", ["--version"]], ["tar", ["--version"]]] as const) {
    if (spawnSync(tool, args, { stdio: "ignore", env: ENV }).status !== 0) return `${tool} is not available`;
  }
  if (sh("git", ["rev-parse", "--is-inside-work-tree"], ROOT).stdout?.trim() !== "true") return `${ROOT} is not a git checkout, so there is no clean checkout to pack`;
  if (!existsSync(join(ROOT, "node_modules/.bin/tsc"))) return "node_modules is not installed (npm ci)";
  return false;
}

/** Files of `dir` relative to it, with sizes. */
function walk(dir: string, base = ""): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of walk(dir, rel)) out.set(k, v);
    else out.set(rel, statSync(join(dir, rel)).size);
  }
  return out;
}

// Runs inside the unpacked consumer folder, so bare names resolve as they do for a user.
const CHECK = String.raw`
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const pn = await import("percepnet-wasm");

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
const noise = Float32Array.from({ length: 9600 }, () => 0.2 * rnd());
const energy = (x) => x.reduce((s, v) => s + v * v, 0);
async function denoise(lib, opts) {
  const d = await lib.Denoiser.create(opts);
  const y = d.process(noise), tail = d.flush();
  assert.equal(y.length, noise.length);
  assert.equal(tail.length, d.delay);
  const all = [...y, ...tail];
  assert.ok(all.every(Number.isFinite), "non-finite output");
  assert.ok(energy(all) < 0.5 * energy(noise), "noise was not attenuated: " + energy(all) / energy(noise));
  return all;
}
const byDefault = await denoise(pn, {});
console.log("library: Denoiser with the default model attenuates noise");

const models = {};
for (const name of ["default.pnm", "small.pnm"]) {
  const path = require.resolve("percepnet-wasm/" + name);
  models[name] = pn.parseModelFile(new Uint8Array(readFileSync(path)));
  const out = await denoise(pn, { model: path });
  if (name === "default.pnm") assert.deepEqual(out, byDefault, "percepnet-wasm/default.pnm is not the default model");
  console.log("model " + name + ": resolves, parses and denoises");
}
assert.notDeepEqual(models["default.pnm"].config, models["small.pnm"].config, "the two models are the same network");

await denoise(await import("percepnet-wasm/bundle"), {});
console.log("bundle: denoises with the default model");

const wasmBytes = readFileSync(require.resolve("percepnet-wasm/percepnet.wasm"));
const module = await WebAssembly.compile(wasmBytes);
await denoise(pn, { wasm: module });
console.log("percepnet.wasm: compiles and runs");
// The relaxed build ships beside it; it compiles exactly where relaxed SIMD validates (Node 22+, not Node 20 unflagged).
const relaxedBytes = readFileSync(require.resolve("percepnet-wasm/percepnet-relaxed.wasm"));
assert.equal(WebAssembly.validate(relaxedBytes), pn.relaxedSimdSupported());
console.log("percepnet-relaxed.wasm: shipped, runs here: " + pn.relaxedSimdSupported() + ", default build here: " + pn.chooseWasmBuild());

// The worklet files are browser code: give them the few globals they touch at load.
globalThis.AudioWorkletNode = class {};
const node = await import("percepnet-wasm/worklet");
assert.equal(typeof node.PercepNetNode?.create, "function");
console.log("worklet: PercepNetNode loads");

let Processor;
globalThis.sampleRate = 48000;
globalThis.AudioWorkletProcessor = class { port = { posted: [], postMessage(m) { this.posted.push(m); } }; };
globalThis.registerProcessor = (name, c) => { assert.equal(name, "percepnet"); Processor = c; };
await import("percepnet-wasm/worklet-processor");
assert.ok(Processor, "the worklet processor did not register");
const p = new Processor({ processorOptions: { module, model: new Uint8Array(readFileSync(require.resolve("percepnet-wasm/small.pnm"))) } });
let heard = 0;
for (let q = 0; q < 60; q++) {
  const out = new Float32Array(128);
  assert.equal(p.process([[noise.subarray(q * 128, q * 128 + 128)]], [[out]]), true);
  assert.ok(out.every(Number.isFinite));
  heard += energy(out);
}
assert.deepEqual(p.port.posted.filter((m) => m.type === "error"), []);
assert.ok(heard > 0, "the processor produced silence");
console.log("worklet-processor: registers and processes render quanta");

// Inputs for the CLI commands: a harmonic tone as speech, the noise.
const tone = Float32Array.from({ length: 24000 }, (_, i) => 0.3 * Math.sin(2 * Math.PI * 180 * i / 48000) + 0.15 * Math.sin(2 * Math.PI * 360 * i / 48000));
const wav = (x) => pn.encodeWav([x], { sampleRate: 48000, format: "pcm16" }).bytes;
writeFileSync("clean.wav", wav(tone));
writeFileSync("noise.wav", wav(noise));
writeFileSync("noisy.wav", wav(tone.map((v, i) => v + noise[i % noise.length])));
`;

const CONSUMER_TS = `
import { Denoiser, createStream, type DenoiserOptions, type FrameInfo } from "percepnet-wasm";
import { PercepNetNode, type PercepNetNodeOptions } from "percepnet-wasm/worklet";
const opts: DenoiserOptions = { attenuationLimitDb: 12 };
export async function run(x: Float32Array): Promise<Float32Array> {
  const d = await Denoiser.create(opts);
  d.onFrame = (den: Denoiser) => { const info: FrameInfo = den.frameInfo; void info; };
  const s = await createStream({ sampleRate: 16000 });
  return s.process([d.process(x)])[0];
}
export async function attach(ctx: AudioContext, o: PercepNetNodeOptions): Promise<AudioNode> { return PercepNetNode.create(ctx, o); }
`;

const skip = cannotRun();
const tmp = mkdtempSync(join(tmpdir(), "percepnet-pack-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("npm pack of a clean checkout ships a package that works installed elsewhere", { skip, timeout: 600_000 }, async (t) => {
  // 1. A clean checkout: what git tracks (as changed in the working tree) and new unignored files.
  const src = join(tmp, "src");
  const listed = ok(sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT), "git ls-files").split("\0").filter(Boolean);
  for (const rel of new Set(listed)) {
    const from = join(ROOT, rel), to = join(src, rel);
    const st = lstatSync(from, { throwIfNoEntry: false });
    if (!st || st.isDirectory()) continue; // deleted in the working tree, or a submodule
    mkdirSync(dirname(to), { recursive: true });
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else { copyFileSync(from, to); chmodSync(to, st.mode); }
  }
  assert.ok(!existsSync(join(src, "dist")) && !existsSync(join(src, "build")), "the checkout copy already holds build output");
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(src, "node_modules"));

  // 2. npm pack: its prepack builds wasm, tsc output and bundles.
  const t0 = performance.now();
  ok(sh("npm", ["pack", "--pack-destination", tmp], src), "npm pack (with its prepack build)");
  const packSeconds = (performance.now() - t0) / 1000;
  const tarballs = readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
  assert.equal(tarballs.length, 1, `expected one tarball, got ${tarballs}`);
  const tgz = join(tmp, tarballs[0]);

  // 3. A consumer folder: the package unpacked as npm installs it, its declared dependencies beside
  //    it (from this checkout's node_modules), its bins linked. Anything undeclared will not resolve.
  const app = join(tmp, "app"), pkgDir = join(app, "node_modules/percepnet-wasm");
  mkdirSync(pkgDir, { recursive: true });
  ok(sh("tar", ["-xzf", tgz, "-C", pkgDir, "--strip-components=1"], tmp), "tar -x");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const from = join(ROOT, "node_modules", dep);
    assert.ok(existsSync(from), `dependency ${dep} is not installed in ${ROOT}node_modules`);
    mkdirSync(dirname(join(app, "node_modules", dep)), { recursive: true });
    symlinkSync(realpathSync(from), join(app, "node_modules", dep));
  }
  mkdirSync(join(app, "node_modules/.bin"));
  for (const [name, rel] of Object.entries<string>(pkg.bin ?? {})) {
    symlinkSync(join("../percepnet-wasm", rel), join(app, "node_modules/.bin", name));
    chmodSync(join(pkgDir, rel), 0o755); // as npm's bin-links does on install
  }
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "pack-consumer", private: true, type: "module", dependencies: { [pkg.name]: `file:${tgz}` } }));

  const files = walk(pkgDir);
  const unpacked = [...files.values()].reduce((a, b) => a + b, 0);
  const summary = `tarball ${tarballs[0]}: ${statSync(tgz).size} bytes packed, ${unpacked} unpacked, ${files.size} files; npm pack with its prepack build took ${packSeconds.toFixed(1)} s`;
  t.diagnostic(summary);

  await t.test("the tarball holds what users run, and nothing of the lab", () => {
    const names = [...files.keys()];
    for (const need of ["package.json", "README.md", "bin/percepnet.js", "build/percepnet.wasm", "build/percepnet-relaxed.wasm", "weights/default.pnm", "weights/small.pnm",
      "dist/host/index.js", "dist/host/index.d.ts", "dist/host/cli.js", "dist/bundle/percepnet.js", "dist/bundle/percepnet-worklet.js",
      "dist/bundle/percepnet-node.js", "dist/bundle/percepnet.wasm", "dist/bundle/percepnet-relaxed.wasm"]) {
      assert.ok(files.has(need), `${need} is missing from the tarball`);
    }
    const allowedTop = new Set(["package.json", "README.md", "bin", "build", "dist", "weights", "docs"]);
    const lab = [/^dist\/(tests|bench|tools|lab)\//, /^dist\/bundle\/worker\//, /^dist\/host\/(nnet-ref|pnf|cli-dump)\./, /^dist\/host\/dataset\//, /\.tsbuildinfo$/,
      /^build\/(?!percepnet(-relaxed)?\.wasm$)/, /(^|\/)__tests__\//, /(?<!\.d)\.ts$/, /\.(pt|py|tsv|wat)$/];
    for (const n of names) {
      assert.ok(allowedTop.has(n.split("/")[0]), `${n} should not be in the tarball`);
      for (const re of lab) assert.doesNotMatch(n, re, `${n} should not be in the tarball`);
    }
  });

  await t.test("package.json's exports, main, types and bin point at shipped files", () => {
    const targets: string[] = [pkg.main, pkg.types, ...Object.values<string>(pkg.bin)];
    for (const [key, value] of Object.entries<any>(pkg.exports)) {
      const vals = typeof value === "string" ? [value] : Object.values<string>(value);
      assert.ok(vals.length > 0, `exports["${key}"] is empty`);
      targets.push(...vals);
    }
    for (const target of targets) assert.ok(files.has(posix.normalize(target)), `${target} is not in the tarball`);
  });

  await t.test("every relative import and import.meta.url file of the shipped code is shipped", () => {
    for (const [file] of files) {
      if (!/\.(js|mjs)$/.test(file)) continue;
      const text = readFileSync(join(pkgDir, file), "utf8");
      const refs = [
        ...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g),
        ...text.matchAll(/new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g),
      ].map((m) => m[1]);
      for (const ref of refs) {
        const target = posix.normalize(posix.join(posix.dirname(file), ref));
        // The worklet helper's default URLs name files a page serves beside it, not package files.
        if (file === "dist/bundle/percepnet-node.js" && target === "dist/bundle/default.pnm") continue;
        assert.ok(files.has(target), `${file} refers to ${ref} (${target}), which is not shipped`);
      }
    }
  });

  await t.test("imported by name: library, bundle, both models, wasm, worklet entries", () => {
    writeFileSync(join(app, "check.mjs"), CHECK);
    const out = ok(sh(process.execPath, ["check.mjs"], app, 120_000), "the consumer script");
    t.diagnostic(out.trim().replace(/\n/g, "; "));
  });

  await t.test("the CLI runs from the consumer folder: npx percepnet --help/--version, denoise, oracle; dump points to the lab", () => {
    assert.equal(ok(sh("npx", ["--no", "--offline", "percepnet", "--version"], app), "npx percepnet --version").trim(), pkg.version);
    assert.match(ok(sh("npx", ["--no", "--offline", "percepnet", "--help"], app), "npx percepnet --help"), /Usage: percepnet \[COMMAND\]/);
    const cli = (args: string[]) => ok(sh(process.execPath, ["node_modules/.bin/percepnet", ...args], app, 120_000), `percepnet ${args.join(" ")}`);
    cli(["noisy.wav", "-o", "denoised.wav", "--quiet"]);
    assert.equal(statSync(join(app, "denoised.wav")).size, statSync(join(app, "noisy.wav")).size);
    cli(["oracle", "--clean", "clean.wav", "--noisy", "noisy.wav", "-o", "oracle.wav"]);
    assert.equal(statSync(join(app, "oracle.wav")).size, statSync(join(app, "noisy.wav")).size);
    const dump = sh(process.execPath, ["node_modules/.bin/percepnet", "dump", "--clean", "clean.wav", "--noise", "noise.wav", "-o", "mix.pnf"], app);
    assert.equal(dump.status, 2);
    assert.match(dump.stderr, /training tool now: .*npm run dump --/);
  });

  await t.test("its type declarations compile in a strict TypeScript consumer", () => {
    writeFileSync(join(app, "consumer.ts"), CONSUMER_TS);
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
      // The package's own .d.ts are checked (a missing one is an error, not a silent any); the
      // standard library's are not (seconds of work). No @types/node: a browser app has none.
      compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true,
        skipLibCheck: false, skipDefaultLibCheck: true, lib: ["es2022", "dom"], types: [] },
      files: ["consumer.ts"],
    }));
    ok(sh(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app, 120_000), "tsc on a consumer of the package");
  });
});
