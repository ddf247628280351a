/**
 * Loading percepnet's .wasm in any runtime.
 *
 * Two builds ship: build/percepnet-relaxed.wasm (relaxed SIMD) and
 * build/percepnet.wasm (plain SIMD); host/wasm-select.ts picks one by
 * WebAssembly.validate of a tiny relaxed-SIMD module. They give the same
 * bits. The module is compiled once and instantiated per denoiser: every
 * instance owns its linear memory, so instances never share mutable state.
 * Runtimes that forbid compiling wasm at run time (workerd) or lack fetch
 * (AudioWorkletGlobalScope) pass a precompiled WebAssembly.Module, and so
 * pick the build themselves (pickWasmModule).
 */

import { describe } from "./options.js";
import { chooseWasmBuild, WASM_FILES, type WasmBuild } from "./wasm-select.js";

/** Anything the host can turn into a compiled module. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string;

function abortImport(msgPtr: number, filePtr: number, line: number, col: number): never {
  throw new Error(`percepnet.wasm aborted at ${line}:${col} (internal assertion)`);
}

/** Imports the module expects: AssemblyScript's abort only. */
export const wasmImports: WebAssembly.Imports = {
  env: { abort: abortImport, seed: () => 0x2545f491 },
};

/** True for anything compileWasm() accepts. */
export function isWasmSource(w: unknown): w is WasmSource {
  return typeof w === "string" || (typeof URL === "function" && w instanceof URL) || w instanceof WebAssembly.Module
    || w instanceof ArrayBuffer || ArrayBuffer.isView(w);
}

const shipped: Partial<Record<WasmBuild, Promise<WebAssembly.Module>>> = {};

async function readBytes(src: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const url = typeof src === "string" ? src : src.href;
  const isFile = url.startsWith("file:") || (!/^[a-z]+:/i.test(url));
  if (isFile && typeof process !== "undefined" && process.versions?.node) {
    const fs = await import("node:fs/promises");
    const { fileURLToPath } = await import("node:url");
    return new Uint8Array(await fs.readFile(url.startsWith("file:") ? fileURLToPath(url) : url));
  }
  if (typeof fetch !== "function") throw new Error("percepnet: no fetch() in this runtime; pass the wasm bytes or a WebAssembly.Module");
  const res = await fetch(url);
  if (!res.ok) throw new Error(`percepnet: cannot fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Compile percepnet.wasm from bytes, a path or a URL (a compiled module passes through). */
export async function compileWasm(src: WasmSource): Promise<WebAssembly.Module> {
  if (src instanceof WebAssembly.Module) return src;
  if (!isWasmSource(src)) throw new TypeError(`percepnet: compileWasm() needs a WebAssembly.Module, bytes, a path or a URL, got ${describe(src)}`);
  let bytes: Uint8Array<ArrayBuffer>;
  if (src instanceof ArrayBuffer) bytes = new Uint8Array(src);
  else if (ArrayBuffer.isView(src)) bytes = new Uint8Array(src.buffer as ArrayBuffer, src.byteOffset, src.byteLength);
  else bytes = await readBytes(src);
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
    throw new Error("percepnet: the wasm bytes are not a valid module for this runtime (does it support SIMD? percepnet-relaxed.wasm also needs relaxed SIMD: use percepnet.wasm there)");
  }
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

/** One shipped build from build/, compiled once per process (Node only). */
export function shippedWasmModule(build: WasmBuild): Promise<WebAssembly.Module> {
  if (build !== "relaxed" && build !== "simd") throw new TypeError(`percepnet: shippedWasmModule() takes "relaxed" or "simd", got ${describe(build)}`);
  return (shipped[build] ??= compileWasm(new URL(`../../build/${WASM_FILES[build]}`, import.meta.url)));
}

/**
 * The shipped build this runtime should run (chooseWasmBuild: relaxed SIMD
 * where it validates, Node 22+ and browsers; else plain SIMD), compiled
 * once per process (Node only).
 */
export function defaultWasmModule(): Promise<WebAssembly.Module> {
  return shippedWasmModule(chooseWasmBuild());
}

/**
 * Instantiate synchronously from a compiled module (usable inside an
 * AudioWorklet). Untyped on purpose: host/engine.ts checks the ABI version
 * and is the only reader of these exports.
 */
export function instantiateSync(module: WebAssembly.Module): WebAssembly.Exports {
  return new WebAssembly.Instance(module, wasmImports).exports;
}
