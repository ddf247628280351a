"""Keep only what a checkpoint needs to be exported and fine-tuned from.

    python3 -m training.slim CKPT -o OUT [--step S] [--half] [--check MODEL.pnm]

A run's last.pt carries AdamW's two moments (twice the weights again) and
the rng state, so that an interrupted run resumes bit-identically. A
checkpoint kept in the repository only has to be exported, averaged,
widened and used as `training.train --init`, so OUT keeps the weights, the
config and the small metadata (epoch, step, val_loss, averaged, ...) and
drops the optimizer and rng state. A fine-tuning run from it starts AdamW
afresh; --step records where its learning-rate schedule goes on.

Weights are written as float32, or with --half as float16 (for a
checkpoint that came back as float16 anyway: widening it to float32 would
double its size and add nothing). --check exports OUT to int8 and compares
it with a shipped model file byte for byte (exported with that file's
JSON meta, which records the export's date and source path, so the
whole file, CRC included, must match; a difference is listed per tensor).
Exit status 0 when they are identical, 3 when not (OUT is
written either way).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch

from .infer import load_model
from .percepnet.pnm import export_model, read_pnm
from .train import save_atomic

# Only an interrupted run reads these (train.py's resume path).
RESUME_ONLY = ("optimizer", "rng", "bad_epochs")


def slim(ck, step=None, half=False):
    """A copy of checkpoint dict `ck` without resume-only state, weights as float32 (float16 with half)."""
    if not isinstance(ck, dict) or not isinstance(ck.get("model"), dict) or "config" not in ck:
        raise ValueError("not a training checkpoint (no 'model' weights and 'config')")
    dtype = torch.float16 if half else torch.float32
    out = {k: v for k, v in ck.items() if k not in RESUME_ONLY}
    out["model"] = {k: v.detach().to(dtype) if v.is_floating_point() else v for k, v in ck["model"].items()}
    if step is not None:
        out["step"] = int(step)
    return out


def compare_pnm(a_path, b_path):
    """Differences between two model files, ignoring their JSON meta; [] when identical."""
    ca, _, ta = read_pnm(a_path)
    cb, _, tb = read_pnm(b_path)
    if ca != cb:
        return [f"config differs: {ca} vs {cb}"]
    if list(ta) != list(tb) or any(ta[k].shape != tb[k].shape for k in ta):
        return ["tensor tables differ"]
    out, q_diff, q_all = [], 0, 0
    for k in ta:
        x, y = ta[k], tb[k]
        q_all += x.size if x.dtype == np.int8 else 0
        if x.tobytes() == y.tobytes():
            continue
        n = int(np.count_nonzero(x != y))
        if x.dtype == np.int8:
            q_diff += n
            step = int(np.abs(x.astype(np.int16) - y.astype(np.int16)).max())
            out.append(f"{k}: {n} of {x.size} int8 weights differ (by at most {step})")
        else:
            rel = float((np.abs(x - y) / np.maximum(np.abs(y), 1e-30)).max())
            out.append(f"{k}: {n} of {x.size} floats differ (relative {rel:.1e})")
    if q_diff:
        out.append(f"in all {q_diff} of {q_all} int8 weights ({100 * q_diff / q_all:.2f} %) differ")
    return out


def check_export(ckpt_path, pnm_path):
    """Export `ckpt_path` with `pnm_path`'s meta and compare the two files; [] when identical."""
    model, _ = load_model(ckpt_path)
    _, meta, _ = read_pnm(pnm_path)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "check.pnm")
        # The shipped meta (export date, source path) makes the whole file, CRC included, comparable.
        export_model(model, out, meta)
        with open(out, "rb") as f, open(pnm_path, "rb") as g:
            if f.read() == g.read():
                return []
        return compare_pnm(out, pnm_path) or ["the files differ outside the tensors"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ckpt")
    p.add_argument("-o", "--out", required=True, help="slim checkpoint (may be CKPT itself)")
    p.add_argument("--step", type=int, help="optimizer step to record (where --init's lr schedule goes on)")
    p.add_argument("--half", action="store_true", help="store the weights as float16")
    p.add_argument("--check", metavar="PNM", help="model file that exporting OUT must reproduce")
    a = p.parse_args(argv)
    if a.step is not None and a.step < 0:
        sys.exit(f"error: --step must be >= 0, got {a.step}")
    try:
        ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)
        out = slim(ck, a.step, a.half)
    except Exception as e:  # missing, truncated or foreign files all end here
        sys.exit(f"error: cannot read a PercepNet checkpoint from {a.ckpt}: {e}")
    save_atomic(out, a.out)
    dropped = [k for k in RESUME_ONLY if k in ck]
    n = sum(v.numel() for v in out["model"].values())
    print(f"wrote {a.out}: {os.path.getsize(a.out)} bytes, {n} values as {'float16' if a.half else 'float32'}, "
          f"step {out.get('step', 'not recorded')}; dropped {', '.join(dropped) or 'nothing'}")
    if a.check:
        diffs = check_export(a.out, a.check)
        if diffs:
            print(f"exporting {a.out} does not reproduce {a.check}:\n  " + "\n  ".join(diffs))
            return 3
        print(f"exporting {a.out} reproduces {a.check} byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
