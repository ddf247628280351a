// The relaxed-SIMD build: which build a runtime gets (host/wasm-select.ts),
// and relaxed == plain bit for bit (tests/relaxed-checks.ts) in every
// runtime here that runs relaxed SIMD: this Node if it does (22+, though
// only 24+ gets the relaxed build by default), Node 20
// with --experimental-wasm-relaxed-simd --no-liftoff in a child process,
// any Node binaries listed in PERCEPNET_NODES (colon-separated paths), and
// headless Chromium (tests/browser.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  RELAXED_MIN_NODE, RELAXED_SIMD_PROBE, WASM_FILES, chooseWasmBuild, pickWasmModule, relaxedSimdSupported,
} from "../host/wasm-select.js";
import { defaultWasmModule, shippedWasmModule } from "../host/wasm.js";
import { registerRelaxedChecks } from "./relaxed-checks.js";
import { ROOT } from "./util.js";

const CHECKS = fileURLToPath(new URL("./relaxed-checks.js", import.meta.url));
const nodeMajor = Number(process.versions.node.split(".")[0]);
const runsHere = relaxedSimdSupported() && nodeMajor >= 22;

test("chooseWasmBuild: relaxed exactly when validate accepts the probe and Node (if any) is 24+", () => {
  const yes = () => true, no = () => false, boom = () => { throw new Error("no wasm"); };
  const seen: Uint8Array[] = [];
  const spy = (b: Uint8Array) => { seen.push(b); return true; };
  assert.equal(chooseWasmBuild({ validate: spy, nodeVersion: undefined }), "relaxed");
  assert.equal(seen[0], RELAXED_SIMD_PROBE, "validate sees the probe module");
  assert.equal(chooseWasmBuild({ validate: no, nodeVersion: undefined }), "simd");
  assert.equal(chooseWasmBuild({ validate: boom, nodeVersion: undefined }), "simd", "a throwing validate means no");
  assert.equal(RELAXED_MIN_NODE, 24);
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "22.23.5" }), "simd", "Node 22 runs relaxed SIMD right but slower (V8 12.4)");
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "23.11.0" }), "simd");
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "24.0.0" }), "relaxed");
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "26.1.0" }), "relaxed");
  assert.equal(chooseWasmBuild({ validate: no, nodeVersion: "24.1.0" }), "simd");
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "20.20.2" }), "simd", "Node 20 with the flag stays on plain SIMD");
  assert.equal(chooseWasmBuild({ validate: yes, nodeVersion: "21.7.0" }), "simd");
  const a = {} as WebAssembly.Module, b = {} as WebAssembly.Module;
  assert.equal(pickWasmModule(a, b, { validate: yes, nodeVersion: undefined }), b);
  assert.equal(pickWasmModule(a, b, { validate: no, nodeVersion: undefined }), a);
  assert.deepEqual({ ...WASM_FILES }, { relaxed: "percepnet-relaxed.wasm", simd: "percepnet.wasm" });
  for (const f of Object.values(WASM_FILES)) assert.ok(existsSync(`${ROOT}build/${f}`), f);
});

test("the probe is a module exactly where relaxed SIMD is: WebAssembly.validate agrees with compiling the relaxed build", () => {
  let compiles = true;
  try { new WebAssembly.Module(new Uint8Array(0)); } catch { /* expected */ }
  try { new WebAssembly.Module(RELAXED_SIMD_PROBE); } catch { compiles = false; }
  assert.equal(relaxedSimdSupported(), compiles);
  // This process: Node 20 validates it only with --experimental-wasm-relaxed-simd.
  if (nodeMajor < 22 && !process.execArgv.some((a) => a.includes("relaxed-simd"))) assert.equal(relaxedSimdSupported(), false);
});

test("defaultWasmModule() is the build chooseWasmBuild() names for this process", async () => {
  const expected = await shippedWasmModule(chooseWasmBuild());
  assert.equal(await defaultWasmModule(), expected);
  assert.equal(chooseWasmBuild(), runsHere && nodeMajor >= RELAXED_MIN_NODE ? "relaxed" : "simd");
  assert.throws(() => shippedWasmModule("fast" as never), /takes "relaxed" or "simd"/);
});

if (runsHere) {
  registerRelaxedChecks();
} else {
  test("relaxed == plain in this process", {
    skip: `Node ${process.version} runs relaxed SIMD only behind --experimental-wasm-relaxed-simd: checked in a child process below instead`,
  }, () => {});
}

/** Run relaxed-checks.js under `node` with `args`; assert it passed tests and failed none. */
function runChecks(node: string, args: string[]): void {
  // Without NODE_TEST_CONTEXT (set for this file by the runner) the child reports in TAP, which is read here.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(node, [...args, "--test-reporter=tap", CHECKS], { encoding: "utf8", timeout: 240_000, cwd: ROOT, env });
  const out = `${r.stdout}\n${r.stderr}`;
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)`, "m").exec(out)?.[1] ?? NaN);
  assert.equal(r.status, 0, `${node} ${args.join(" ")} failed:\n${out.slice(-6000)}`);
  assert.equal(count("fail"), 0, out.slice(-3000));
  assert.ok(count("pass") >= 8, `expected the 8 checks to pass, got:\n${out.slice(-3000)}`);
}

test("relaxed == plain in Node 20 with --experimental-wasm-relaxed-simd --no-liftoff (child process)", {
  skip: nodeMajor >= 22 ? `this Node (${process.version}) runs the checks itself, without flags` : false,
  timeout: 300_000,
}, () => {
  runChecks(process.execPath, ["--experimental-wasm-relaxed-simd", "--no-liftoff"]);
});

const extraNodes = (process.env.PERCEPNET_NODES ?? "").split(":").filter(Boolean);
test("relaxed == plain in the Node binaries of PERCEPNET_NODES", {
  skip: extraNodes.length === 0 ? "PERCEPNET_NODES is not set (e.g. PERCEPNET_NODES=/path/to/node22/bin/node:/path/to/node24/bin/node)" : false,
  timeout: 600_000,
}, () => {
  for (const node of extraNodes) {
    const v = spawnSync(node, ["-p", "process.versions.node"], { encoding: "utf8" });
    assert.equal(v.status, 0, `${node} does not run`);
    assert.ok(Number(v.stdout.split(".")[0]) >= 22, `${node} is Node ${v.stdout.trim()}; PERCEPNET_NODES is for Node 22+ (no flags)`);
    runChecks(node, []);
  }
});
