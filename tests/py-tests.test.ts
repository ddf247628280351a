// scripts/run-py-tests.mjs (npm run test:py): a Python without PyTorch skips the torch modules by
// name and exits 0, unless PERCEPNET_REQUIRE_TORCH=1; real failures are never turned into skips.
// Runs on a throwaway test tree with a stand-in torch, so it needs any python3 but not PyTorch.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ROOT } from "./util.js";

const SCRIPT = join(ROOT, "scripts/run-py-tests.mjs");
const noPython = spawnSync("python3", ["-c", "pass"]).status === 0 ? false : "no python3 on PATH to run the runner with";

const tree = mkdtempSync(join(tmpdir(), "percepnet-pytests-"));
after(() => rmSync(tree, { recursive: true, force: true }));
const files: Record<string, string> = {
  "pkg/__init__.py": "",
  "pkg/tests/__init__.py": "",
  "pkg/tests/test_plain.py": [
    "import os, unittest",
    "if os.environ.get('PT_BROKEN'): import no_such_module_xyz",
    "class Plain(unittest.TestCase):",
    "    def test_plain(self): self.assertNotEqual(os.environ.get('PT_FAIL'), '1')",
  ].join("\n"),
  "pkg/tests/test_heavy.py": "import unittest, torch\nclass Heavy(unittest.TestCase):\n    def test_heavy(self): pass\n",
  // on PYTHONPATH ahead of site-packages: the real torch (if any) is hidden, or stood in for
  "hide/torch.py": "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n",
  "fake/torch.py": "",
};
for (const [name, text] of Object.entries(files)) {
  mkdirSync(join(tree, name, ".."), { recursive: true });
  writeFileSync(join(tree, name), text);
}

function run(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [SCRIPT, "pkg/tests", "."], {
    cwd: tree, encoding: "utf8", env: { ...process.env, PERCEPNET_REQUIRE_TORCH: "", PYTHON: "python3", ...env },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test("without torch: the torch module is skipped by name, the rest runs, exit 0", { skip: noPython }, () => {
  const r = run({ PYTHONPATH: join(tree, "hide") });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SKIPPED 1 module\(s\) \(.*test_heavy\.py\): .* lacks torch/);
  assert.match(r.out, /Ran 1 test\b/);
});

test("without torch and PERCEPNET_REQUIRE_TORCH=1: the skip is a failure", { skip: noPython }, () => {
  const r = run({ PYTHONPATH: join(tree, "hide"), PERCEPNET_REQUIRE_TORCH: "1" });
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /SKIPPED 1 module/);
  assert.match(r.out, /FAILED: PERCEPNET_REQUIRE_TORCH=1/);
});

test("with torch: every module runs, nothing is skipped", { skip: noPython }, () => {
  const r = run({ PYTHONPATH: join(tree, "fake"), PERCEPNET_REQUIRE_TORCH: "1" });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Ran 2 tests\b/);
  assert.doesNotMatch(r.out, /SKIPPED/);
});

test("a failing test fails the run even when torch modules are skipped", { skip: noPython }, () => {
  const r = run({ PYTHONPATH: join(tree, "hide"), PT_FAIL: "1" });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /FAILED \(failures=1\)/);
});

test("a missing module other than torch/numpy is an error, not a skip", { skip: noPython }, () => {
  const r = run({ PYTHONPATH: join(tree, "fake"), PT_BROKEN: "1" });
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /No module named 'no_such_module_xyz'/);
  assert.doesNotMatch(r.out, /SKIPPED/);
});

test("no Python at all: everything skipped with the reason, exit 0; required: exit non-zero", () => {
  const missing = join(tree, "no-such-python");
  const r = run({ PYTHON: missing });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`SKIPPED all of pkg/tests: no Python found \\(tried ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const req = run({ PYTHON: missing, PERCEPNET_REQUIRE_TORCH: "1" });
  assert.notEqual(req.code, 0, req.out);
  assert.match(req.out, /FAILED: PERCEPNET_REQUIRE_TORCH=1/);
});
