"""Cut what a GPU machine with no network needs for training.device/run.sh
into packs that each fit one call of the device tool (64 MiB with the
checkout the call sends).

    python3 -m training.device.pack --out .dev --init training/checkpoints/default.pt \\
        [--data ../shared/data/train] [--extra x-noise=DIR ...] [--extra x-speech=DIR ...] [--val VAL.pnf]
        [--resume OUT/resume-*.pt] [--limit-mib MIB]

Writes OUT/p1, OUT/p2, ...: p1 holds the app (dist/, build/percepnet.wasm,
package.json and the node_modules the dataset builder imports), the local
Node binary xz-compressed (the device image has no Node) and the --init
checkpoint (and --resume: the resume parts an earlier training call
returned, so that run.sh goes on with that run on a fresh machine); then the
corpus, then each --extra folder in the order given, every folder's
MANIFEST.tsv first. Files are hard links where the file system allows.
Run `npm run build` first. Every device call also sends the checkout it is
made from (tracked and untracked-not-ignored files), and the 64 MiB limit
is on both together, so by default a pack gets what is left of 63 MiB
after this checkout (about 24 MiB from a full checkout). An earlier pack
folder at OUT is replaced; any other existing OUT is refused.
"""
import argparse
import json
import lzma
import os
import re
import shutil
import subprocess
import sys

# What dist/tools/build-dataset.js imports from node_modules; their own
# dependencies are followed through each package.json.
ROOTS = ["@wasm-audio-decoders/flac", "cli-progress"]


def node_closure(nm, roots=ROOTS):
    seen, todo = [], list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        pj = os.path.join(nm, name, "package.json")
        if not os.path.exists(pj):
            raise SystemExit(f"pack: {pj} missing: run npm ci first")
        seen.append(name)
        todo += list(json.load(open(pj)).get("dependencies", {}))
    return sorted(seen)


def tree(src, rel):
    out = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            out.append((p, os.path.join(rel, os.path.relpath(p, src))))
    return out


def folder(src, rel):
    man = os.path.join(src, "MANIFEST.tsv")
    if not os.path.exists(man):
        raise SystemExit(f"pack: {man} missing")
    return [(man, os.path.join(rel, "MANIFEST.tsv"))] + [
        it for it in tree(src, rel) if it[1] != os.path.join(rel, "MANIFEST.tsv")]


def travelling_mib(root="."):
    """MiB of the files a device call sends with a pack: the checkout's
    tracked and untracked-not-ignored files (and shared/ inside it)."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z"],
                             check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("pack: cannot list this checkout's files with git; give --limit-mib")
    total = 0
    for rel in out.decode().split("\0"):
        p = os.path.join(root, rel)
        if rel and os.path.isfile(p):
            total += os.path.getsize(p)
    shared = os.path.join(root, "shared")
    if os.path.isdir(shared):
        total += sum(os.path.getsize(s) for s, _ in tree(shared, ""))
    return total / 2**20


def default_limit_mib(root="."):
    left = 63 - travelling_mib(root)
    if left < 8:
        raise SystemExit(f"pack: this checkout sends {63 - left:.1f} MiB with every device call, which leaves "
                         f"{max(left, 0):.1f} MiB of the 64 for a pack; slim it or give --limit-mib")
    return left


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy(src, dst)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--init", required=True, help="checkpoint to widen and fine-tune")
    p.add_argument("--data", default="../shared/data/train")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=DIR",
                   help="extra folder; NAME x-speech* is speech, any other x-* noise")
    p.add_argument("--val", help="validation .pnf for the trainer's log (its own pack or packs' room)")
    p.add_argument("--resume", nargs="+", default=[], metavar="PART",
                   help="the resume-N.pt parts of an earlier run.sh train call (all of them)")
    p.add_argument("--node", default=shutil.which("node") or "/usr/bin/node")
    p.add_argument("--limit-mib", type=float, help="MiB a pack (default: 63 less what this checkout sends)")
    a = p.parse_args(argv)
    limit_mib = a.limit_mib if a.limit_mib is not None else default_limit_mib()
    if not 1 <= limit_mib <= 63:
        raise SystemExit(f"pack: --limit-mib {limit_mib} is outside 1-63")
    print(f"packs of at most {limit_mib:.1f} MiB")
    limit = int(limit_mib * 2**20)
    for need in ("dist/tools/build-dataset.js", "build/percepnet.wasm"):
        if not os.path.exists(need):
            raise SystemExit(f"pack: {need} missing: run npm run build in the repository root")
    names = sorted(os.path.basename(r) for r in a.resume)
    if a.resume and names != [f"resume-{i}.pt" for i in range(len(names))]:
        raise SystemExit(f"pack: --resume wants the parts resume-0.pt .. resume-N.pt of one call, got {names}")
    for need in [a.init, a.node, a.data] + ([a.val] if a.val else []) + a.resume:
        if not os.path.exists(need):
            raise SystemExit(f"pack: {need} not found")
    # Every input is listed (and so checked) before the slow compression of Node below.
    data = folder(a.data, "corpus")
    for spec in a.extra:
        name, _, d = spec.partition("=")
        if not name.startswith("x-") or not d:
            raise SystemExit(f"pack: --extra {spec}: want x-NAME=DIR")
        data += folder(d, name)
    if os.path.exists(a.out):
        # Replace only an earlier pack folder, never a folder of anything else.
        if not os.path.isdir(a.out) or any(not re.fullmatch(r"p\d+|stage", n) for n in os.listdir(a.out)):
            raise SystemExit(f"pack: {a.out} exists and is not a pack folder; name a new or earlier --out")
        shutil.rmtree(a.out)
    stage = os.path.join(a.out, "stage")
    os.makedirs(stage)
    node_xz = os.path.join(stage, "node.xz")
    with open(os.path.realpath(a.node), "rb") as f, lzma.open(node_xz, "wb", preset=6) as g:
        shutil.copyfileobj(f, g)
    items = tree("dist", "app/dist") + [("build/percepnet.wasm", "app/build/percepnet.wasm"),
                                         ("package.json", "app/package.json")]
    for name in node_closure("node_modules"):
        items += tree(os.path.join("node_modules", name), os.path.join("app/node_modules", name))
    items += [(node_xz, "node.xz"), (a.init, "default.pt")]
    items += [(r, os.path.join("resume", os.path.basename(r))) for r in a.resume]
    if a.val:
        items.append((a.val, "val.pnf"))
    items += data
    k, size = 1, 0
    for src, rel in items:
        n = os.path.getsize(src)
        if n > limit:
            raise SystemExit(f"pack: {src} ({n} bytes) is larger than a pack")
        if size + n > limit:
            k, size = k + 1, 0
        size += n
        place(src, os.path.join(a.out, f"p{k}", rel))
    shutil.rmtree(stage)
    for i in range(1, k + 1):
        d = os.path.join(a.out, f"p{i}")
        tot = sum(os.path.getsize(s) for s, _ in tree(d, ""))
        print(f"{d}: {tot / 2**20:.1f} MiB, {', '.join(sorted(os.listdir(d)))}")


if __name__ == "__main__":
    main()
