/**
 * Which shipped build to run: build/percepnet-relaxed.wasm (relaxed SIMD's
 * int8 dot product, docs/ENGINE.md "Relaxed SIMD") where the runtime has
 * relaxed SIMD, else build/percepnet.wasm (plain SIMD). Both give the same
 * bits for every model; the relaxed one is faster on 7-bit models
 * (docs/FORMATS.md `weightBits`) and runs the plain kernels on 8-bit ones.
 *
 * No Node APIs: shared by the Node host, the AudioWorklet's main-thread
 * helper and Workers.
 */

/** The shipped builds a host chooses between. */
export type WasmBuild = "relaxed" | "simd";

/** File name of each shipped build (in build/, and beside the browser bundles). */
export const WASM_FILES: Readonly<Record<WasmBuild, string>> = Object.freeze({
  relaxed: "percepnet-relaxed.wasm",
  simd: "percepnet.wasm",
});

/**
 * The smallest module that uses relaxed SIMD's int8 dot product:
 * (func (param v128 v128 v128) (result v128)
 *   (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
 */
export const RELAXED_SIMD_PROBE: Uint8Array<ArrayBuffer> = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x93, 0x02, 0x0b, // body; 0xfd 0x113
]);

/** What {@link chooseWasmBuild} looks at (tests pass their own). */
export interface WasmBuildEnv {
  /** WebAssembly.validate, or a stand-in. */
  validate?: (bytes: Uint8Array<ArrayBuffer>) => boolean;
  /** Node's version string (process.versions.node); undefined outside Node. */
  nodeVersion?: string;
}

/** True when `validate` (default WebAssembly.validate) accepts the relaxed-SIMD probe; false if it throws. */
export function relaxedSimdSupported(validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => WebAssembly.validate(b)): boolean {
  try {
    return validate(RELAXED_SIMD_PROBE) === true;
  } catch {
    return false;
  }
}

function nodeVersionHere(): string | undefined {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string" ? p.versions.node : undefined;
}

/** Oldest Node whose V8 runs the relaxed build faster than the plain one (docs/ENGINE.md "Relaxed SIMD"). */
export const RELAXED_MIN_NODE = 24;

/**
 * "relaxed" where the runtime validates the relaxed-SIMD probe, else
 * "simd". Node before 24 gets "simd" even when validate says yes: Node 20
 * has relaxed SIMD only behind --experimental-wasm-relaxed-simd, and its
 * baseline compiler gets the dot product wrong; Node 22 (V8 12.4) computes
 * it right but measured at half the plain kernel's speed here, while Node
 * 24 (V8 13.6) and Chromium ran it 3x faster. Pass the module yourself to
 * choose otherwise (shippedWasmModule("relaxed")).
 */
export function chooseWasmBuild(env: WasmBuildEnv = {}): WasmBuild {
  const node = "nodeVersion" in env ? env.nodeVersion : nodeVersionHere();
  if (node !== undefined && Number(node.split(".")[0]) < RELAXED_MIN_NODE) return "simd";
  return relaxedSimdSupported(env.validate) ? "relaxed" : "simd";
}

/**
 * Of two precompiled modules (runtimes that forbid compiling, like
 * workerd, import both), the one {@link chooseWasmBuild} picks here.
 */
export function pickWasmModule(simd: WebAssembly.Module, relaxed: WebAssembly.Module, env: WasmBuildEnv = {}): WebAssembly.Module {
  return chooseWasmBuild(env) === "relaxed" ? relaxed : simd;
}
