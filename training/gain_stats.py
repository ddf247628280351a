"""Over-attenuation, measured: how far a network's gains fall below the ideal
gains of a .pnf file, and how much noise it lets through.

    python3 -m training.gain_stats MODEL [MODEL ...] --pnf VAL.pnf [--frames 60000] [--json OUT]

MODEL is a checkpoint (.pt) or a model file (.pnm, dequantised). Cells are
the valid (frame, band) pairs of the file (after the lookahead frames, below
each clip's bandwidth), grouped by their ideal gain g (the unsmoothed target):
  speech  g >= 0.9   mean predicted gain, share of cells under 0.5 (speech the
                     network removes), mean attenuation in dB (20 log10 gh/g)
  mixed   0.3 <= g < 0.9   mean gh / g
  noise   g <= 0.1   mean predicted gain (noise let through) and its level in
                     dB (gh floored at -60 dB)
Issue 28 names the first one: gains of 0.3-0.4 where the ideal is ~0.95.
"""
import argparse
import json
import sys

import numpy as np
import torch

from .infer import load_model
from .percepnet.data import eval_batches
from .percepnet.noise_floor import wants_noise_floor
from .percepnet.pnf import PnfFile

GROUPS = ("speech", "mixed", "noise")


def gain_stats(g, gh, mask):
    """Statistics of predicted gains `gh` against ideal gains `g` over the
    cells where `mask` is true (arrays of one shape). Returns a dict of floats
    (NaN where a group has no cells) and the cell count of each group."""
    g = np.asarray(g, np.float64)[mask]
    gh = np.asarray(gh, np.float64)[mask]
    out = {}
    sp = g >= 0.9
    out["speech_cells"] = int(sp.sum())
    out["speech_mean_gain"] = float(gh[sp].mean()) if sp.any() else float("nan")
    out["speech_share_below_half"] = float((gh[sp] < 0.5).mean()) if sp.any() else float("nan")
    out["speech_atten_db"] = (float(np.mean(20 * np.log10(np.maximum(gh[sp], 1e-3) / g[sp])))
                              if sp.any() else float("nan"))
    mx = (g >= 0.3) & (g < 0.9)
    out["mixed_cells"] = int(mx.sum())
    out["mixed_ratio"] = float(np.mean(gh[mx] / g[mx])) if mx.any() else float("nan")
    nz = g <= 0.1
    out["noise_cells"] = int(nz.sum())
    out["noise_mean_gain"] = float(gh[nz].mean()) if nz.any() else float("nan")
    out["noise_level_db"] = (float(np.mean(20 * np.log10(np.maximum(gh[nz], 1e-3))))
                             if nz.any() else float("nan"))
    return out


def model_stats(model, pnf, frames, lookahead):
    """Collect gains over up to `frames` frames of `pnf` and return gain_stats."""
    gs, ghs, ms = [], [], []
    with torch.no_grad():
        for b in eval_batches(pnf, 16, frames, lookahead, noise_floor=wants_noise_floor(model.config, pnf.n_feat)):
            gh, _, _ = model(b["x"])
            cell = b["time_mask"][:, :, None] & b["band_mask"][:, None, :]
            gs.append(b["g"].numpy().ravel())
            ghs.append(gh.numpy().ravel())
            ms.append(cell.numpy().ravel())
    return gain_stats(np.concatenate(gs), np.concatenate(ghs), np.concatenate(ms))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--pnf", required=True, help=".pnf file with targets (a validation file)")
    p.add_argument("--frames", type=int, default=60000, help="cap on frames read")
    p.add_argument("--json", help="also write the numbers to this file")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    if a.frames < 1:
        raise SystemExit(f"--frames must be >= 1, got {a.frames}")
    torch.set_num_threads(a.threads)
    pnf = PnfFile(a.pnf)
    rows = {}
    for path in a.models:
        model, _ = load_model(path)
        rows[path] = model_stats(model, pnf, a.frames, model.config["lookahead"])
    cols = ("speech_mean_gain", "speech_share_below_half", "speech_atten_db", "mixed_ratio",
            "noise_mean_gain", "noise_level_db")
    print("| model | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for path, r in rows.items():
        print(f"| {path} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    first = next(iter(rows.values()))
    print(f"cells: speech {first['speech_cells']}, mixed {first['mixed_cells']}, noise {first['noise_cells']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
