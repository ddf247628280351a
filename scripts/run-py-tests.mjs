#!/usr/bin/env node
// npm run test:py: the Python trainer's tests (training/tests) with the first Python that has
// PyTorch. Where none has it, the torch-free modules still run and the rest are named as skipped
// (exit 0), so the README's `npm test` passes on a machine without PyTorch; CI sets
// PERCEPNET_REQUIRE_TORCH=1 so that a skip there is a failure.
// Usage: node scripts/run-py-tests.mjs [START [TOP]]   (default: training/tests .)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [start = "training/tests", top = "."] = process.argv.slice(2);
const RUNNER = fileURLToPath(new URL("py_tests.py", import.meta.url));
const required = process.env.PERCEPNET_REQUIRE_TORCH === "1";

/** 0: has torch, 1: runs but lacks torch, null: cannot be run. */
function probe(python) {
  const r = spawnSync(python, ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 1)"], { stdio: "ignore" });
  return r.error || (r.status !== 0 && r.status !== 1) ? null : r.status;
}

// An explicit PYTHON is the only one tried. Otherwise python3 on PATH, then Debian's
// /usr/bin/python3 (where apt's python3-torch goes when python3 is another install, e.g. pyenv).
const candidates = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "/usr/bin/python3"];
const found = candidates.map((py) => ({ py, state: probe(py) }));
const python = (found.find((c) => c.state === 0) ?? found.find((c) => c.state === 1))?.py;

if (!python) {
  const msg = `test:py: SKIPPED all of ${start}: no Python found (tried ${candidates.join(", ")}; set PYTHON to choose one).`;
  if (required) {
    console.error(`${msg}\ntest:py: FAILED: PERCEPNET_REQUIRE_TORCH=1 requires them to run.`);
    process.exit(3);
  }
  console.error(msg);
  process.exit(0);
}
const r = spawnSync(python, [RUNNER, start, top], { stdio: "inherit" });
if (r.error) {
  console.error(`test:py: could not run ${python}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
