"""Gradual block-sparse magnitude pruning (issue 27), for model format v2.

The engine skips whole 4 x 16 blocks of a matrix as it stores it
(docs/FORMATS.md "Sparse matrices"), so pruning removes whole blocks of
that same matrix: a GRU's weight_ih / weight_hh as torch holds them
([3H, in], rows r, z, n: the file's layout), a conv weight [out, in, k]
seen as conv_to_matrix's [out, k*in], a linear layer's weight [out, in].

Blocks are ranked by the sum of their squared weights and the weakest are
zeroed; the kept fraction falls from 1 to its target along the cubic ramp
of gradual pruning (Zhu & Gupta 2017, as RNNoise/LPCNet train): fast at
first while the network has slack, slowly near the target so it can adapt.
Masks are recomputed every `every` steps during the ramp and then frozen,
and the masked weights are set back to zero after every optimizer step.
A GRU's recurrent matrix keeps the blocks on the diagonal of each gate's
[H, H] sub-matrix whatever their score: a unit's own past state is the
connection a recurrent unit leans on most.
"""
import json
import math
import os
import re

import torch
from torch import nn

from .pnm import SPARSE_COLS, SPARSE_ROWS

# Shorthands of --density; a file tensor name (gru1.w_hh) may be given too and wins.
GROUPS = {
    "gru": r"(gru\d+|gru_g|gru_r)\.w_(ih|hh)",
    "gru_ih": r"(gru\d+|gru_g|gru_r)\.w_ih",
    "gru_hh": r"(gru\d+|gru_g|gru_r)\.w_hh",
    "conv": r"conv\d+\.w",
    "dense": r"fc_(g|r|vad)\.w",
}


def parse_density(spec):
    """{group or file tensor name: target density} from "gru=0.3,conv=0.5", a JSON object, or a JSON file."""
    if not spec:
        return {}
    if os.path.exists(spec):
        with open(spec) as f:
            d = json.load(f)
    elif spec.lstrip().startswith("{"):
        d = json.loads(spec)
    else:
        d = {}
        for part in spec.split(","):
            key, eq, val = part.partition("=")
            if not eq:
                raise ValueError(f"--density: {part!r} is not NAME=DENSITY")
            d[key.strip()] = float(val)
    for k, v in d.items():
        if not 0 < float(v) <= 1:
            raise ValueError(f"--density: {k}={v} must be in (0, 1]")
    return {k: float(v) for k, v in d.items()}


def cubic_density(step, target, start, end):
    """Kept fraction at `step`: 1 until `start`, `target` from `end`, a cubic in between."""
    if step >= end:  # first, so that start == end prunes at once
        return target
    if step <= start:
        return 1.0
    t = (step - start) / (end - start)
    return target + (1.0 - target) * (1.0 - t) ** 3


class Matrix:
    """A prunable parameter seen as the engine's [rows, cols] matrix."""

    def __init__(self, name, param, kind, hidden=None):
        self.name, self.param, self.kind, self.hidden = name, param, kind, hidden
        m = self.matrix()
        self.rows, self.cols = m.shape
        self.nbr, self.ncb = -(-self.rows // SPARSE_ROWS), -(-self.cols // SPARSE_COLS)

    def matrix(self):
        w = self.param.detach()
        if self.kind == "conv":  # [out, in, k] -> [out, k*in], column j*in + i (pnm.conv_to_matrix)
            o, i, k = w.shape
            return w.permute(0, 2, 1).reshape(o, k * i)
        return w

    def to_param(self, mat):
        """Inverse of matrix() for an element mask [rows, cols]."""
        if self.kind == "conv":
            o, i, k = self.param.shape
            return mat.reshape(o, k, i).permute(0, 2, 1)
        return mat

    def block_scores(self):
        m = self.matrix().float()
        pad = torch.zeros(self.nbr * SPARSE_ROWS, self.ncb * SPARSE_COLS, device=m.device)
        pad[:self.rows, :self.cols] = m
        return (pad.reshape(self.nbr, SPARSE_ROWS, self.ncb, SPARSE_COLS) ** 2).sum(dim=(1, 3))

    def forced(self):
        """Block mask of the blocks that are always kept: each gate's diagonal in a recurrent matrix."""
        f = torch.zeros(self.nbr, self.ncb, dtype=torch.bool)
        if self.kind == "gru_hh":
            h = self.hidden
            for g in range(3):
                i = torch.arange(h)
                f[(g * h + i) // SPARSE_ROWS, i // SPARSE_COLS] = True
        return f

    def element_mask(self, blocks):
        """Block mask [nbr, ncb] -> mask of the parameter's shape (float, on its device)."""
        e = blocks.repeat_interleave(SPARSE_ROWS, 0).repeat_interleave(SPARSE_COLS, 1)[:self.rows, :self.cols]
        return self.to_param(e.to(self.param.device, self.param.dtype))


def prunable_matrices(model):
    """{file tensor name: Matrix} of every matrix a v2 file may store sparse (all but fc_in.w)."""
    out = {}
    for name, mod in model.layers():
        if isinstance(mod, nn.GRU):
            out[f"{name}.w_ih"] = Matrix(f"{name}.w_ih", mod.weight_ih_l0, "gru_ih")
            out[f"{name}.w_hh"] = Matrix(f"{name}.w_hh", mod.weight_hh_l0, "gru_hh", mod.hidden_size)
        elif name != "fc_in":
            out[f"{name}.w"] = Matrix(f"{name}.w", mod.weight, "conv" if isinstance(mod, nn.Conv1d) else "dense")
    return out


def resolve_targets(model, density):
    """{file tensor name: target} from group/name densities; exact names win over groups."""
    mats = prunable_matrices(model)
    out = {}
    for key, d in density.items():
        if key in GROUPS:
            hit = [n for n in mats if re.fullmatch(GROUPS[key], n)]
        elif key in mats:
            continue
        else:
            raise ValueError(f"--density: {key!r} is neither a group ({', '.join(GROUPS)}) "
                             f"nor a prunable matrix ({', '.join(mats)})")
        for n in hit:
            out[n] = d
    out.update({k: d for k, d in density.items() if k in mats})
    return out


def select_blocks(mat, density):
    """Block mask keeping round(density x blocks) of the strongest blocks (forced ones first)."""
    scores = mat.block_scores().cpu().flatten()
    forced = mat.forced().flatten()
    n_keep = max(int(forced.sum()), int(round(density * scores.numel())))
    scores = torch.where(forced, torch.full_like(scores, math.inf), scores)
    order = torch.argsort(scores, descending=True, stable=True)
    keep = torch.zeros_like(forced)
    keep[order[:n_keep]] = True
    return keep.reshape(mat.nbr, mat.ncb)


class Pruner:
    """Masks for the matrices with a target density, on the cubic schedule.

    Steps count from `origin` (the run's first step), so that fine-tuning
    a checkpoint that has run many steps uses the same --prune-start/-end.
    """

    def __init__(self, model, targets, start, end, every=100, origin=0, masks=None, frozen=False):
        if not targets:
            raise ValueError("Pruner: no matrix to prune")
        if end < start or every < 1:
            raise ValueError("Pruner: needs prune-start <= prune-end and prune-every >= 1")
        self.mats = prunable_matrices(model)
        self.targets, self.start, self.end, self.every = dict(targets), start, end, every
        self.origin, self.frozen = origin, frozen
        self.masks = {k: v.clone() for k, v in (masks or {}).items()}
        self._elem = {}

    @classmethod
    def from_state(cls, model, st, frozen=None):
        p = cls(model, st["targets"], st["start"], st["end"], st["every"], st["origin"], st["masks"],
                st.get("frozen", False) if frozen is None else frozen)
        p.apply()
        return p

    def state_dict(self):
        return {"targets": self.targets, "start": self.start, "end": self.end, "every": self.every,
                "origin": self.origin, "frozen": self.frozen,
                "masks": {k: v.clone() for k, v in self.masks.items()}}

    def density_at(self, step, name):
        return cubic_density(step - self.origin, self.targets[name], self.start, self.end)

    def at_target(self, step):
        """Whether the masks have reached their targets (epochs before do not compete for best)."""
        return self.frozen or step - self.origin >= self.end

    def update(self, step):
        """Call after each optimizer step with the global step: recompute masks when due, then zero."""
        s = step - self.origin
        if not self.frozen and self.start <= s <= self.end and ((s - self.start) % self.every == 0 or s == self.end):
            for name, target in self.targets.items():
                self.masks[name] = select_blocks(self.mats[name], self.density_at(step, name))
                self._elem.pop(name, None)
        self.apply()

    def apply(self):
        """Zero every masked weight (after an optimizer step, and after loading)."""
        with torch.no_grad():
            for name, blocks in self.masks.items():
                if name not in self._elem:
                    self._elem[name] = self.mats[name].element_mask(blocks)
                self.mats[name].param.mul_(self._elem[name])

    def densities(self):
        """{name: kept fraction of blocks} of the current masks."""
        return {k: float(v.float().mean()) for k, v in self.masks.items()}


def main(argv=None):
    """One-shot pruning of a checkpoint (no training): for sparse-engine
    tests and speed measurements. A model meant for use is pruned gradually
    by training.train --density, which lets the network adapt."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("ckpt")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--density", required=True, help="as training.train --density")
    a = p.parse_args(argv)
    ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)
    from .model import PercepNet
    model = PercepNet(ck["config"])
    model.load_state_dict(ck["model"])
    pruner = Pruner(model, resolve_targets(model, parse_density(a.density)), 0, 0, frozen=False)
    pruner.update(0)
    pruner.frozen = True
    out = {k: v for k, v in ck.items() if k not in ("optimizer", "rng")}
    out.update({"model": model.state_dict(), "prune": pruner.state_dict()})
    torch.save(out, a.out)
    print(f"wrote {a.out}: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(pruner.densities().items())))


if __name__ == "__main__":
    main()
