// The product (host/) stands on its own: it imports only itself, Node's
// built-ins and its declared runtime dependencies, never the lab (lab/,
// bench/, tools/, tests/). tsconfig.product.json enforces the same at build
// time; this names the offending import when someone adds one.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { ROOT } from "./util.js";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

const IMPORT = /(?:^|[^\w.])(?:import|export)\s*(?:[^"'();]*?\sfrom\s*)?\(?\s*["']([^"']+)["']/g;

test("host/ imports nothing from the lab, and only its declared runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const host = path.join(ROOT, "host");
  const bad: string[] = [];
  let seen = 0;
  for (const file of tsFiles(host)) {
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const spec = m[1];
      seen++;
      const where = `${path.relative(ROOT, file)}: ${spec}`;
      if (spec.startsWith("node:")) continue;
      if (spec.startsWith(".")) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(host + path.sep)) bad.push(`${where} (outside host/)`);
        continue;
      }
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (!deps.has(name)) bad.push(`${where} (not in package.json "dependencies")`);
    }
  }
  assert.ok(seen > 50, `only ${seen} imports found: the pattern is broken`);
  assert.deepEqual(bad, []);
});

test("the product's tsconfig takes host/ only; the lab's references it", () => {
  const strip = (s: string) => JSON.parse(s.replace(/^\s*\/\/.*$/gm, ""));
  const product = strip(readFileSync(path.join(ROOT, "tsconfig.product.json"), "utf8"));
  assert.deepEqual(product.include, ["host/**/*.ts"]);
  const lab = strip(readFileSync(path.join(ROOT, "tsconfig.lab.json"), "utf8"));
  assert.deepEqual(lab.references, [{ path: "./tsconfig.product.json" }]);
  for (const dir of ["lab", "bench", "tools", "tests"]) assert.ok(lab.include.includes(`${dir}/**/*.ts`), dir);
});
