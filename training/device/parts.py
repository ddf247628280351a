"""Move a checkpoint through a channel that takes files of at most 16 MiB
(the device tool's limit on what comes back): `split` writes the weights as
float16 in parts under 15 MiB, `join` rebuilds a float32 checkpoint that
training.average, training.export and --init read.

    python3 -m training.device.parts split CKPT PREFIX    # PREFIX-0.pt, PREFIX-1.pt, ...
    python3 -m training.device.parts join PREFIX-*.pt -o CKPT

float16 keeps 11 significant bits, far finer than the int8 rows the engine
runs; the optimizer state is dropped (a joined checkpoint fine-tunes with
--init, it does not resume).
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


def split(ckpt, prefix, part_bytes=PART_BYTES):
    ck = load(ckpt, "split")
    if not isinstance(ck, dict) or not isinstance(ck.get("model"), dict):
        raise SystemExit(f"split: {ckpt} is not a training checkpoint (no 'model' weights)")
    parts, cur, size = [], {}, 0
    for k, v in ck["model"].items():
        v = v.half() if v.is_floating_point() else v
        n = v.numel() * v.element_size()
        if cur and size + n > part_bytes:
            parts.append(cur)
            cur, size = {}, 0
        cur[k] = v
        size += n
    parts.append(cur)
    meta = {k: v for k, v in ck.items() if k not in ("model", "optimizer", "rng")}
    paths = []
    for i, p in enumerate(parts):
        path = f"{prefix}-{i}.pt"
        torch.save({"part": i, "parts": len(parts), "model": p, "meta": meta}, path)
        paths.append(path)
    return paths


def join(paths, out):
    loaded = [load(p, "join") for p in paths]
    for p, ck in zip(paths, loaded):
        if not isinstance(ck, dict) or "part" not in ck:
            raise SystemExit(f"join: {p} is not a part written by split")
    parts = sorted(loaded, key=lambda p: p["part"])
    want = parts[0]["parts"] if parts else 0
    if not parts or [p["part"] for p in parts] != list(range(want)):
        raise SystemExit(f"join: need parts 0..{max(want - 1, 0)}, got {[p['part'] for p in parts]}")
    ck = dict(parts[0]["meta"])
    ck["model"] = {k: (v.float() if v.is_floating_point() else v)
                   for p in parts for k, v in p["model"].items()}
    torch.save(ck, out)
    return ck


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("ckpt")
    s.add_argument("prefix")
    j = sub.add_parser("join")
    j.add_argument("parts", nargs="+")
    j.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    if a.cmd == "split":
        print(" ".join(split(a.ckpt, a.prefix)))
    else:
        ck = join(a.parts, a.out)
        print(f"wrote {a.out}: {len(ck['model'])} tensors, epoch {ck.get('epoch')}", file=sys.stderr)


if __name__ == "__main__":
    main()
