"""Runs the unittest modules of START (top-level dir TOP) in one process; a module that cannot be
imported because PyTorch (or numpy, which comes with it) is missing is skipped and named, never
silently: the trainer's tests need them, the rest (e.g. archive parsing) do not.

Usage: python3 scripts/py_tests.py START TOP   (called by scripts/run-py-tests.mjs)
Exit: 0 all ran tests passed (with or without skips), 1 a test failed or a module failed to import,
      3 modules were skipped and PERCEPNET_REQUIRE_TORCH=1 forbids that.
"""
import importlib
import os
import sys
import unittest
from pathlib import Path

# Only these are optional: any other missing module is a real error and fails the run.
OPTIONAL = {"torch", "numpy"}


def main(start: str, top: str) -> int:
    top_path = Path(top).resolve()
    sys.path.insert(0, str(top_path))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    skipped: list[tuple[str, str]] = []
    for path in sorted(Path(start).resolve().glob("test*.py")):
        name = ".".join(path.relative_to(top_path).with_suffix("").parts)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if (e.name or "").split(".")[0] not in OPTIONAL:
                raise
            skipped.append((os.path.relpath(path), e.name))
            continue
        suite.addTests(loader.loadTestsFromModule(module))

    result = unittest.TextTestRunner().run(suite) if suite.countTestCases() else None
    # After the run, so that it is the last thing on the screen.
    if skipped:
        missing = sorted({m for _, m in skipped})
        files = ", ".join(p for p, _ in skipped)
        print(f"test:py: SKIPPED {len(skipped)} module(s) ({files}): {sys.executable} lacks "
              f"{' and '.join(missing)}, which the trainer's tests need. Install PyTorch (pip install "
              f"torch, or Debian's python3-torch) to run them; PYTHON chooses the interpreter.",
              file=sys.stderr)
    if skipped and os.environ.get("PERCEPNET_REQUIRE_TORCH") == "1":
        print("test:py: FAILED: PERCEPNET_REQUIRE_TORCH=1 requires every module to run.", file=sys.stderr)
        return 3
    return 0 if result is None or result.wasSuccessful() else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: py_tests.py START TOP")
    sys.exit(main(sys.argv[1], sys.argv[2]))
