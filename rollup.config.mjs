// Bundles the tsc output (dist/) - no TypeScript plugin needed, tsc already
// emitted the .js and .d.ts. Run `npm run build:ts` first (npm run build does).
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Node built-ins stay imports: only reached from Node-only code paths (file reads). */
const nodeBuiltin = (id) => id.startsWith("node:");

/** Resolve the two bare names the bundles need, without a node-resolve plugin. */
const resolveBare = {
  name: "resolve-bare",
  resolveId(id, importer) {
    // wavefile's ESM sources import extensionless paths ("./parsers/binary").
    if (importer?.includes("node_modules/wavefile/") && id.startsWith(".")) {
      const base = resolve(dirname(importer), id);
      for (const f of [base, `${base}.js`, `${base}/index.js`]) if (existsSync(f) && statSync(f).isFile()) return f;
    }
    if (id === "wavefile") return "\0wavefile-default";
    if (id === "percepnet-wasm") return resolve("dist/host/index.js"); // the example imports the package by name
    return null;
  },
  load(id) {
    // host/wav.ts imports the CommonJS default; the ESM entry ("module") has named exports only.
    if (id === "\0wavefile-default") return `import { WaveFile } from ${JSON.stringify(resolve("node_modules/wavefile/index.js"))}; export default { WaveFile };`;
    return null;
  },
};

/** Ship both wasm builds beside the browser bundles, where PercepNetNode looks by default. */
const copyWasm = {
  name: "copy-wasm",
  generateBundle() {
    for (const f of ["percepnet.wasm", "percepnet-relaxed.wasm"]) this.emitFile({ type: "asset", fileName: f, source: readFileSync(`build/${f}`) });
  },
};

export default [
  {
    // (a) the ESM library in one file (wavefile inlined: runs in browsers and workerd too)
    input: "dist/host/index.js",
    external: nodeBuiltin,
    plugins: [resolveBare],
    output: { file: "dist/bundle/percepnet.js", format: "es", sourcemap: true },
  },
  {
    // (b) the worklet: one self-contained module script that registers "percepnet"
    input: "dist/host/worklet/processor.js",
    external: nodeBuiltin,
    output: { file: "dist/bundle/percepnet-worklet.js", format: "es", inlineDynamicImports: true },
  },
  {
    // main-thread helper (PercepNetNode) for pages, plus the wasm beside it
    input: "dist/host/worklet/node.js",
    plugins: [copyWasm],
    output: { dir: "dist/bundle", entryFileNames: "percepnet-node.js", format: "es" },
  },
  {
    // the example Cloudflare Worker, bundled as wrangler would: wasm and model stay module imports
    input: "examples/worker/worker.js",
    external: (id) => nodeBuiltin(id) || id.endsWith(".wasm") || id.endsWith(".pnm"),
    plugins: [resolveBare],
    output: { file: "dist/bundle/worker/worker.js", format: "es", inlineDynamicImports: true },
  },
];
