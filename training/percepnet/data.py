"""Batches of random crops from .pnf feature dumps, with loss masks."""
import glob
import os
import sys

import numpy as np
import torch

from .noise_floor import noise_floor as noise_floor_of
from .pnf import PnfFile


def expand_paths(paths=(), globs=()):
    """Files named in `paths` plus the current matches of each glob pattern
    (a directory means every *.pnf in it), sorted and de-duplicated."""
    out = list(paths)
    for g in globs:
        if os.path.isdir(g):
            g = os.path.join(g, "*.pnf")
        out += glob.glob(g)
    return sorted(set(os.path.abspath(p) for p in out))


def read_crop(f, s, st, length, noise_floor=False):
    """Rows st..st+length of sequence s of `f`; with `noise_floor`, the
    per-band noise floor (computed from the sequence's first frame, as the
    engine does from a stream's) inserted after the features. The floor of
    every sequence of a file is computed once, at its first use (a few MB per
    file; the recursion runs over all sequences at once)."""
    rows = f.read_rows(s, st, length)
    if not noise_floor:
        return rows
    floor = getattr(f, "_noise_floor", None)
    if floor is None:
        # By plain reads, not the memory map: a file truncated underneath must
        # raise (read_rows), not kill the process.
        energies = np.stack([f.read_rows(q, 0, f.seq_len)[:, :f.n_bands] for q in range(f.n_seq)])
        floor = f._noise_floor = noise_floor_of(energies)
    return np.concatenate([rows[:, :f.n_feat], floor[s, st:st + length], rows[:, f.n_feat:]], -1)


def make_batch(records, valid_bands, n_feat, n_bands, lookahead):
    """Build tensors from a list of record arrays [T, recLen] (all the same T).

    The first `lookahead` rows of every crop are masked out of the loss: at a
    sequence start their targets belong to frames before the start, and in a
    crop further in, their target frames were never shown to the network.
    """
    rec = torch.from_numpy(np.stack(records).astype(np.float32, copy=False))
    b, t, _ = rec.shape
    nf, nb = n_feat, n_bands
    time_mask = torch.arange(t)[None, :] >= lookahead
    time_mask = time_mask.expand(b, t).clone()
    vb = torch.as_tensor(np.asarray(valid_bands, np.int64))
    band_mask = torch.arange(nb)[None, :] < vb[:, None]
    return {
        "x": rec[..., :nf].contiguous(),
        "g": rec[..., nf:nf + nb].clamp(0, 1),
        "r": rec[..., nf + nb:nf + 2 * nb].clamp(0, 1),
        "v": rec[..., nf + 2 * nb].clamp(0, 1),
        "time_mask": time_mask,
        "band_mask": band_mask,
    }


class CropSampler:
    """Draws batches of random crops (lengths in `crop`) from several .pnf files.

    Files are drawn in proportion to their frame counts, so an epoch of
    `batches_per_epoch()` batches covers about as many frames as the data.
    """

    def __init__(self, files, batch=32, crop=(400, 1000), lookahead=2, rng=None, noise_floor=False):
        self.files = [f if isinstance(f, PnfFile) else PnfFile(f) for f in files]
        self.files = [f for f in self.files if f.frames > 0]
        if not self.files:
            raise ValueError("no training frames")
        nf = {(f.n_feat, f.n_bands) for f in self.files}
        if len(nf) != 1:
            raise ValueError(f"files disagree on nFeat/nBands: {nf}")
        self.n_feat, self.n_bands = nf.pop()
        self.batch, self.crop, self.lookahead = batch, crop, lookahead
        self.noise_floor = noise_floor
        self.rng = rng if rng is not None else np.random.default_rng()

    @property
    def frames(self):
        return sum(f.frames for f in self.files)

    def batches_per_epoch(self):
        mean_crop = (self.crop[0] + self.crop[1]) / 2
        return max(1, int(round(self.frames / (self.batch * mean_crop))))

    def sample(self):
        rng = self.rng
        length = int(rng.integers(self.crop[0], self.crop[1] + 1))
        length = min(length, max(f.seq_len for f in self.files))
        eligible = [f for f in self.files if f.seq_len >= length]
        w = np.array([f.frames for f in eligible], np.float64)
        picks = rng.choice(len(eligible), size=self.batch, p=w / w.sum())
        recs, vbs = [], []
        for i in picks:
            f = eligible[i]
            s = int(rng.integers(f.n_seq))
            st = int(rng.integers(f.seq_len - length + 1))
            try:
                recs.append(read_crop(f, s, st, length, self.noise_floor))
            except ValueError as e:
                # Rewritten underneath by the dataset builder: drop it for now.
                print(f"dropping {f.path}: {e}", file=sys.stderr)
                self.files.remove(f)
                if not self.files:
                    raise
                return self.sample()
            vbs.append(f.valid_bands[s])
        return make_batch(recs, vbs, self.n_feat + (self.n_bands if self.noise_floor else 0), self.n_bands,
                          self.lookahead)


def eval_batches(pnf, batch=16, max_frames=None, lookahead=2, max_len=2000, noise_floor=False):
    """Deterministic batches over whole sequences of `pnf` (chunks of at most
    `max_len` frames), stopping after about `max_frames` frames; with
    `noise_floor`, the features carry the floor (read_crop)."""
    f = pnf if isinstance(pnf, PnfFile) else PnfFile(pnf)
    items, used = [], 0
    for s in range(f.n_seq):
        for st in range(0, f.seq_len, max_len):
            if max_frames is not None and used >= max_frames:
                break
            ln = min(max_len, f.seq_len - st)
            items.append((s, st, ln))
            used += ln
    # Group equal lengths so a batch needs no padding.
    items.sort(key=lambda it: it[2])
    i = 0
    while i < len(items):
        ln = items[i][2]
        group = [it for it in items[i:i + batch] if it[2] == ln]
        i += len(group)
        recs = [read_crop(f, s, st, ln, noise_floor) for s, st, _ in group]
        yield make_batch(recs, [f.valid_bands[s] for s, _, _ in group],
                         f.n_feat + (f.n_bands if noise_floor else 0), f.n_bands, lookahead)


def feature_stats(files, max_frames=200000, rng=None):
    """Per-feature mean and std over up to `max_frames` frames of whole sequences."""
    rng = rng if rng is not None else np.random.default_rng(0)
    files = [f if isinstance(f, PnfFile) else PnfFile(f) for f in files]
    picks = [(f, s) for f in files for s in range(f.n_seq)]
    order = rng.permutation(len(picks))
    chunks, used = [], 0
    for i in order:
        f, s = picks[i]
        chunks.append(f.read_rows(s, 0, f.seq_len)[:, :f.n_feat].astype(np.float64))
        used += f.seq_len
        if used >= max_frames:
            break
    x = np.concatenate(chunks)
    return x.mean(0).astype(np.float32), x.std(0).astype(np.float32)
