"""Move a checkpoint through a channel that takes files of at most 16 MiB
(the device tool's limit on what comes back): `split` writes the weights as
float16 in parts under 15 MiB, `join` rebuilds a float32 checkpoint that
training.average, training.export and --init read.

    python3 -m training.device.parts split CKPT PREFIX    # PREFIX-0.pt, PREFIX-1.pt, ...
    python3 -m training.device.parts join PREFIX-*.pt -o CKPT

float16 keeps 11 significant bits, far finer than the int8 rows the engine
runs; the optimizer state is dropped (a joined checkpoint fine-tunes with
--init, it does not resume).

    python3 -m training.device.parts split --resume RUN/last.pt PREFIX

keeps the whole run instead (optimizer moments, rng, pruning masks, epoch
and step), so that `join` rebuilds a last.pt that training.train resumes
from: a run's GPU minutes add up over calls, machines and sessions. Weights
travel as float16 and the moments as bfloat16 (the squared-gradient moment
can be far below float16's range); scalars, masks and integer tensors travel
exactly. For the paper-size model that is about 48 MB, 4 parts.
"""
import argparse
import sys

import torch

PART_BYTES = 15 * 2**20


def load(path, what):
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a file torch cannot read: say which, not a pickle traceback
        raise SystemExit(f"{what}: cannot read {path} as a torch file ({type(e).__name__})")


class Ref:
    """Where a tensor of a resume checkpoint went: the skeleton keeps these."""

    def __init__(self, i):
        self.i = i


def _travel(t, top):
    # Moments can be ~1e-12 (bfloat16 has float32's range); AdamW's step count
    # and other scalars stay exact, as do masks and integer tensors.
    if not t.is_floating_point() or t.numel() <= 1:
        return t
    return t.to(torch.bfloat16) if top == "optimizer" else t.half()


def _walk(obj, leaf, top=""):
    """Copy the nested dicts, lists and tuples of a checkpoint, replacing each
    tensor or Ref by leaf(it, top): top is the checkpoint key it sits under."""
    if isinstance(obj, (torch.Tensor, Ref)):
        return leaf(obj, top)
    if isinstance(obj, dict):
        return {k: _walk(v, leaf, top or k) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        out = [_walk(v, leaf, top) for v in obj]
        return out if isinstance(obj, list) else tuple(out)
    return obj


def _write(groups, prefix, extra):
    paths = []
    for i, g in enumerate(groups):
        path = f"{prefix}-{i}.pt"
        torch.save({"part": i, "parts": len(groups), **g, **(extra if i == 0 else {})}, path)
        paths.append(path)
    return paths


def _pack(items, part_bytes):
    groups, cur, size = [], {}, 0
    for k, v in items:
        n = v.numel() * v.element_size()
        if cur and size + n > part_bytes:
            groups.append(cur)
            cur, size = {}, 0
        cur[k] = v
        size += n
    groups.append(cur)
    return groups


def split_resume(ckpt, prefix, part_bytes=PART_BYTES):
    ck = load(ckpt, "split")
    if not isinstance(ck, dict) or not all(k in ck for k in ("model", "optimizer", "rng")):
        raise SystemExit(f"split --resume: {ckpt} is not a run's last.pt (it needs model, optimizer and rng)")
    sink = []

    def keep(t, top):
        sink.append(_travel(t, top))
        return Ref(len(sink) - 1)
    skeleton = _walk(ck, keep)
    groups = _pack(list(enumerate(sink)), part_bytes)
    return _write([{"tensors": g} for g in groups], prefix, {"skeleton": skeleton, "count": len(sink)})


def split(ckpt, prefix, part_bytes=PART_BYTES):
    ck = load(ckpt, "split")
    if not isinstance(ck, dict) or not isinstance(ck.get("model"), dict):
        raise SystemExit(f"split: {ckpt} is not a training checkpoint (no 'model' weights)")
    items = [(k, v.half() if v.is_floating_point() else v) for k, v in ck["model"].items()]
    meta = {k: v for k, v in ck.items() if k not in ("model", "optimizer", "rng")}
    return _write([{"model": g} for g in _pack(items, part_bytes)], prefix, {"meta": meta})


def join(paths, out):
    loaded = [load(p, "join") for p in paths]
    for p, ck in zip(paths, loaded):
        if not isinstance(ck, dict) or "part" not in ck:
            raise SystemExit(f"join: {p} is not a part written by split")
    parts = sorted(loaded, key=lambda p: p["part"])
    want = parts[0]["parts"] if parts else 0
    if not parts or [p["part"] for p in parts] != list(range(want)):
        raise SystemExit(f"join: need parts 0..{max(want - 1, 0)}, got {[p['part'] for p in parts]}")
    if ("skeleton" in parts[0]) != all("tensors" in p for p in parts):
        raise SystemExit("join: the parts mix a resume split with a weights split")
    # Training runs in float32: every tensor that travelled reduced goes back to it.
    restore = lambda t: t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
    if "skeleton" in parts[0]:
        tensors = {i: t for p in parts for i, t in p["tensors"].items()}
        if sorted(tensors) != list(range(parts[0]["count"])):
            raise SystemExit(f"join: the resume parts hold {len(tensors)} of {parts[0]['count']} tensors")
        ck = _walk(parts[0]["skeleton"], lambda ref, _top: restore(tensors[ref.i]))
    else:
        ck = dict(parts[0]["meta"])
        ck["model"] = {k: restore(v) for p in parts for k, v in p["model"].items()}
    torch.save(ck, out)
    return ck


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("ckpt")
    s.add_argument("prefix")
    s.add_argument("--resume", action="store_true", help="keep the whole run (optimizer, rng, masks), not only the weights")
    j = sub.add_parser("join")
    j.add_argument("parts", nargs="+")
    j.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    if a.cmd == "split":
        print(" ".join((split_resume if a.resume else split)(a.ckpt, a.prefix)))
    else:
        ck = join(a.parts, a.out)
        print(f"wrote {a.out}: {len(ck['model'])} tensors, epoch {ck.get('epoch')}", file=sys.stderr)


if __name__ == "__main__":
    main()
