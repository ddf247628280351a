"""Rebuild a local folder of extra training recordings from its list, or make a new list.

    python3 -m training.fetch_extra training/extra-noise.tsv /work/extra-noise
        [--cache DIR] [--jobs N] [--only PKG[,PKG]] [--mirror DIR ...]
    python3 -m training.fetch_extra training/extra-NEW.tsv /work/extra-new --from-candidates CANDIDATES.tsv ...

The extra recordings of training/DATA.md are not committed (no audio is);
each training/extra-*.tsv lists every file with its licence and its
`source`: a Debian package, its version, and where the recording sits in
it, or a file of a public GitHub repository at a commit. This tool does
what DATA.md describes by hand, so a fresh machine can rebuild the folders
that `build-dataset --extra-noise/--extra-speech` read:

1. `apt-get download PKG=VERSION` into the cache (needs `apt-get update`
   once; packages already in the cache are not downloaded again) and
   `dpkg-deb -x` (nothing is installed); for `github:OWNER/NAME@COMMIT:path`
   rows, `git show` from a snapshot under a --mirror folder
   (OWNER+NAME/repo) or from a bare clone of github.com made in the cache;
2. the recording is taken out of the package: a plain file, a member of a
   zip archive (`.pk3`, `.zip`), a file inside a Qt resource bundle
   (`X.rcc!/path`) or an entry of OpenTTD's sound catalogue (`X.cat entry
   NN`) or an OpenClonk group (`(inside c4group G)`: a copy of G is
   exploded by the `c4group` tool of Debian's `openclonk` package of the
   same version, downloaded and unpacked like the data); where the list has
   a `sha256` column, the recording's bytes must match it;
3. ffmpeg decodes it (`.g722` as raw G.722), averages the channels, resamples
   to 48 kHz, keeps the first 120 s and writes 16-bit FLAC at the row's
   `file` path under OUT (through a temporary name, so an interrupted run
   never leaves a partial file under the real one);
4. the decoded duration is checked against the list's `seconds`, and
   OUT/MANIFEST.tsv is written with the rows that were rebuilt.

With --from-candidates, a candidate list (kind, file, label, license,
source[, noise_kind, note]) is turned into a new list: each recording is
extracted, converted and checked (training/audio_check.py); the kept ones
are written to LIST with their measures, sha256 and split (`split_of`), the
rejected ones to rejected/LIST beside it with the reason.

A file already present under OUT is kept (so a rebuild resumes). Exit status 0
when every row was rebuilt, 1 when some were not (they are listed), 2 on
bad arguments. The FLAC files are equal in content, not necessarily bit for
bit, to those of the original runs: another ffmpeg may resample slightly
differently.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_SECONDS = 120
# the Debian package whose `c4group` tool explodes OpenClonk groups (same version as the data)
C4GROUP_PACKAGE = "openclonk"
# the list rounds durations to 0.01 s; a resampler may add or drop a few samples
DURATION_TOLERANCE = 0.05


@dataclass(frozen=True)
class Source:
    """Where one recording sits in a Debian package."""
    package: str
    version: str
    kind: str  # file | zip | rcc | cat | c4group | github (package = OWNER/NAME, version = commit)
    path: str  # absolute path inside the package
    member: str = ""  # path inside the archive (zip, rcc, c4group) or entry number (cat)

    @property
    def name(self) -> str:
        """The recording's own file name (its extension tells ffmpeg the format)."""
        return self.member if self.kind in ("zip", "rcc") else self.path


_GITHUB = re.compile(r"^github:(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)@(?P<commit>[0-9a-f]{40}):(?P<path>[^:]+)$")
_C4 = re.compile(r"^(?P<path>/\S+) \(inside c4group (?P<group>[^)]+)\)$")
_CAT = re.compile(r"^(?P<path>/\S+\.cat) entry (?P<entry>\d+)$")
_ZIP = re.compile(r"^(?P<path>/[^:]+\.(?:pk3|zip)):(?P<member>[^:]+)$", re.IGNORECASE)


def parse_source(text: str) -> Source:
    """Parses a list's `source` column: 'PKG VERSION:/path[...]'.

    The version may hold an epoch ('2:1.1-3'), so it ends at the first ':/'.
    """
    text = text.strip()
    m = _GITHUB.match(text)
    if m:
        # a file of a public GitHub repository at a commit: package = OWNER/NAME, version = commit
        return Source(m["repo"], m["commit"], "github", m["path"])
    if text.startswith("github:"):
        raise ValueError(f"source {text!r}: expected 'github:OWNER/NAME@COMMIT40:path'")
    if " " not in text:
        raise ValueError(f"source {text!r}: expected 'PACKAGE VERSION:/path'")
    package, rest = text.split(" ", 1)
    cut = rest.find(":/")
    if cut <= 0:
        raise ValueError(f"source {text!r}: no ':/path' after the version")
    version, where = rest[:cut], rest[cut + 1:]
    m = _C4.match(where)
    if m:
        return Source(package, version, "c4group", m["path"], m["group"])
    m = _CAT.match(where)
    if m:
        return Source(package, version, "cat", m["path"], m["entry"])
    if ".rcc!" in where:
        outer, inner = where.split(".rcc!", 1)
        return Source(package, version, "rcc", outer + ".rcc", inner)
    m = _ZIP.match(where)
    if m:
        return Source(package, version, "zip", m["path"], m["member"])
    if ":" in where or " " in where:
        raise ValueError(f"source {text!r}: unknown form of path {where!r}")
    return Source(package, version, "file", where)


def cat_entry(data: bytes, index: int) -> bytes:
    """Entry `index` of an OpenTTD sound catalogue (.cat): the RIFF WAV bytes.

    Layout: a table of (offset, size) little-endian u32 pairs whose first
    offset is also the table's length; each entry is a length-prefixed name
    followed by a RIFF file. OpenSFX sets the offsets' top bit (a format
    flag, not part of the offset).
    """
    if len(data) < 8:
        raise ValueError("catalogue too short")
    count = (struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF) // 8
    if count <= 0 or 8 * count > len(data):
        raise ValueError("catalogue table is corrupt")
    if not 0 <= index < count:
        raise ValueError(f"catalogue has {count} entries, no entry {index}")
    offset, size = struct.unpack_from("<II", data, 8 * index)
    offset &= 0x7FFFFFFF
    if offset + size > len(data) or size < 1:
        raise ValueError(f"catalogue entry {index} runs past the end")
    name_len = data[offset]
    wav = data[offset + 1 + name_len: offset + size]
    if wav[:4] != b"RIFF":
        raise ValueError(f"catalogue entry {index} is not a RIFF file")
    return wav


def rcc_member(data: bytes, member: str) -> bytes:
    """A file of a compiled Qt resource bundle (.rcc, format 1-3), by path.

    Big-endian header 'qres', version, tree/data/names offsets (version 3
    adds a flags word). Tree nodes are 14 bytes (22 from version 2: a
    modification time follows); names are u16 length, u32 hash, UTF-16BE.
    Data is u32 size + bytes; flag 1 = zlib with Qt's 4-byte size prefix.
    """
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource bundle (no 'qres' magic)")
    version, tree, payload, names = struct.unpack_from(">IIII", data, 4)
    if version not in (1, 2, 3):
        raise ValueError(f"Qt resource format {version} is not read here")
    node_size = 14 if version == 1 else 22

    def name_at(off: int) -> str:
        (n,) = struct.unpack_from(">H", data, names + off)
        return data[names + off + 6: names + off + 6 + 2 * n].decode("utf-16-be")

    def node(i: int):
        base = tree + i * node_size
        name_off, flags = struct.unpack_from(">IH", data, base)
        return base, name_off, flags

    parts = [p for p in member.split("/") if p]
    if not parts:
        raise ValueError("empty path inside the bundle")
    i = 0  # the root
    for depth, part in enumerate(parts):
        base, _, flags = node(i)
        if not flags & 2:
            raise ValueError(f"{'/'.join(parts[:depth])} is not a folder in the bundle")
        count, first = struct.unpack_from(">II", data, base + 6)
        for c in range(first, first + count):
            if name_at(node(c)[1]) == part:
                i = c
                break
        else:
            raise ValueError(f"{member}: no {part!r} in the bundle")
    base, _, flags = node(i)
    if flags & 2:
        raise ValueError(f"{member} is a folder in the bundle")
    (data_off,) = struct.unpack_from(">I", data, base + 10)
    (size,) = struct.unpack_from(">I", data, payload + data_off)
    blob = data[payload + data_off + 4: payload + data_off + 4 + size]
    if flags & 4:
        raise ValueError(f"{member} is zstd-compressed, not read here")
    if flags & 1:
        return zlib.decompress(blob[4:])
    return blob


_c4_lock = threading.Lock()


def exploded_group(src: Source, root: Path) -> Path:
    """A copy of the OpenClonk group that holds src.path, exploded once under the package's tree."""
    parts = src.path.lstrip("/").split("/")
    if src.member not in parts:
        raise ValueError(f"{src.path}: no {src.member} on the path")
    cut = parts.index(src.member) + 1
    group = root.joinpath(*parts[:cut])
    done = root / ".c4x" / ".".join(parts[:cut]).replace("/", "_")
    with _c4_lock:
        if not (done / ".complete").exists():
            tool = package_dir(root.parent, C4GROUP_PACKAGE, src.version) / "usr" / "bin" / "c4group"
            if not tool.is_file():
                raise FileNotFoundError(f"c4group tool not unpacked at {tool}")
            if not group.is_file():
                raise FileNotFoundError(f"{group} is not a packed group")
            if done.exists():
                shutil.rmtree(done)
            done.mkdir(parents=True)
            shutil.copy(group, done / src.member)
            run([str(tool), str(done / src.member), "-x"])
            (done / ".complete").write_text("")
    return done.joinpath(src.member, *parts[cut:])


def extract(src: Source, root: Path) -> bytes:
    """The recording's bytes from a package unpacked under `root` (for GitHub: a git dir)."""
    if src.kind == "github":
        try:
            return subprocess.run(["git", "--git-dir", str(root), "show", f"{src.version}:{src.path}"], check=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
        except subprocess.CalledProcessError as e:
            raise FileNotFoundError(f"{src.path} is not in {src.package}@{src.version[:12]} "
                                    f"({(e.stderr or b'').decode(errors='replace').strip().splitlines()[-1:]})") from None
    if src.kind == "c4group":
        inner = exploded_group(src, root)
        if not inner.is_file():
            raise FileNotFoundError(f"{src.path} is not in {src.member}")
        return inner.read_bytes()
    outer = root / src.path.lstrip("/")
    if not outer.is_file():
        raise FileNotFoundError(f"{src.path} is not in {src.package} {src.version}")
    if src.kind == "file":
        return outer.read_bytes()
    if src.kind == "zip":
        with zipfile.ZipFile(outer) as z:
            try:
                return z.read(src.member)
            except KeyError:
                raise FileNotFoundError(f"{src.member} is not in {src.path}") from None
    if src.kind == "rcc":
        return rcc_member(outer.read_bytes(), src.member)
    if src.kind == "cat":
        return cat_entry(outer.read_bytes(), int(src.member))
    raise NotImplementedError(f"{src.kind} archives are not read by this tool")


def read_tsv(path: Path, required: tuple[str, ...]) -> tuple[str, list[tuple[int, str, dict[str, str]]]]:
    """A list's header line and its rows as (line number, line, row); blank lines skipped, shapes checked."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"{path}: empty list")
    header = lines[0].split("\t")
    for col in required:
        if col not in header:
            raise ValueError(f"{path}: no column {col!r} in the header")
    rows = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise ValueError(f"{path}:{n}: {len(cells)} cells, the header has {len(header)}")
        rows.append((n, line, dict(zip(header, cells))))
    return lines[0], rows


def read_list(path: Path) -> tuple[str, list[dict[str, str]]]:
    header, rows = read_tsv(path, ("file", "seconds", "source"))
    return header, [row | {"_line": line} for _, line, row in rows]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def last_line(e: subprocess.CalledProcessError) -> str:
    """The last line a failed command wrote to stderr (its error message, as a rule)."""
    lines = (e.stderr or "").strip().splitlines()
    return lines[-1] if lines else f"{e.cmd[0]} exited with status {e.returncode}"


def package_dir(cache: Path, package: str, version: str) -> Path:
    """Where PKG=VERSION is unpacked in the cache."""
    return cache / f"{package}_{version.replace(':', '%3a')}"


def unpack_package(package: str, version: str, cache: Path) -> Path:
    """Downloads (once) and unpacks (once) PKG=VERSION; returns the tree's root."""
    root = package_dir(cache, package, version)
    if (root / ".complete").exists():
        return root

    def debs_in_cache() -> list[Path]:
        # apt-get names the file with the epoch's ':' escaped as %3a; other tools drop the epoch
        names = {f"{package}_{version.replace(':', '%3a')}_", f"{package}_{version.split(':', 1)[-1]}_"}
        return sorted(p for p in cache.glob(f"{package}_*.deb") if any(p.name.startswith(n) for n in names))

    debs = debs_in_cache()
    if not debs:
        try:
            run(["apt-get", "download", f"{package}={version}"], cwd=cache)
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"apt-get download {package}={version} failed ({last_line(e)}); "
                               "run `apt-get update` first, or check that this Debian release still carries that version") from None
        debs = debs_in_cache()
        if not debs:
            raise RuntimeError(f"apt-get download {package}={version} left no .deb in {cache}")
    if root.exists():
        shutil.rmtree(root)
    run(["dpkg-deb", "-x", str(debs[0]), str(root)])
    (root / ".complete").write_text("")
    return root


def github_git_dir(repo: str, commit: str, cache: Path, mirrors: list[Path]) -> Path:
    """A git dir holding `commit` of github.com/`repo`: a local snapshot, or a clone into the cache.

    Snapshots are looked for as MIRROR/OWNER+NAME/repo and MIRROR/OWNER+NAME
    (the layout of this project's fetch tool) and MIRROR/NAME.git; otherwise
    the repository is cloned bare (blobs fetched on demand) from github.com.
    """
    owner, name = repo.split("/", 1)
    candidates = [m / f"{owner}+{name}" / "repo" for m in mirrors] + [m / f"{owner}+{name}" for m in mirrors] \
        + [m / f"{name}.git" for m in mirrors] + [cache / f"github_{owner}+{name}.git"]
    for d in candidates:
        if d.is_dir() and subprocess.run(["git", "--git-dir", str(d), "cat-file", "-e", f"{commit}^{{commit}}"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return d
    dest = cache / f"github_{owner}+{name}.git"
    if dest.exists():
        shutil.rmtree(dest)
    try:
        run(["git", "clone", "--bare", "--filter=blob:none", f"https://github.com/{repo}.git", str(dest)])
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"no local snapshot of {repo} holds {commit[:12]} (looked in "
                           f"{', '.join(str(m) for m in mirrors) or 'no --mirror'}) and cloning it failed "
                           f"({last_line(e)}); pass --mirror DIR with a snapshot") from None
    return dest


def probe_seconds(path: Path) -> float:
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", str(path)]).stdout
    return float(out.strip())


def convert(raw: bytes, name_hint: str, out: Path) -> None:
    """ffmpeg: mono (channels averaged), 48 kHz, first 120 s, 16-bit FLAC, written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = Path(name_hint).suffix.lower() or ".bin"
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / f"in{suffix}"
        src.write_bytes(raw)
        dst = Path(tmp) / "out.flac"
        fmt = ["-f", "g722"] if suffix == ".g722" else []
        run(["ffmpeg", "-nostdin", "-v", "error", *fmt, "-i", str(src), "-ac", "1", "-ar", "48000",
             "-t", str(MAX_SECONDS), "-sample_fmt", "s16", "-c:a", "flac", str(dst)])
        os.replace(dst, out)


def rebuild_row(row: dict[str, str], out_root: Path, roots: dict[tuple[str, str], Path]) -> str | None:
    """Rebuilds one row; returns None, or why it could not be."""
    target = out_root / row["file"]
    if Path(row["file"]).is_absolute() or ".." in Path(row["file"]).parts:
        return "its file path leaves the output folder"
    try:
        src = parse_source(row["source"])
        if not target.exists():
            root = roots.get((src.package, src.version))
            if root is None:
                return f"package {src.package} {src.version} is not available"
            raw = extract(src, root)
            if row.get("sha256") and hashlib.sha256(raw).hexdigest() != row["sha256"]:
                return "the recording's sha256 differs from the list's (another version of the file?)"
            convert(raw, src.name, target)
        got, want = probe_seconds(target), float(row["seconds"])
        if abs(got - want) > DURATION_TOLERANCE:
            target.unlink()
            return f"decoded {got:.2f} s where the list says {want:.2f} s (removed)"
    except subprocess.CalledProcessError as e:
        return last_line(e)
    except (OSError, ValueError, NotImplementedError, zipfile.BadZipFile, zlib.error) as e:
        return str(e)
    return None


LIST_HEADER = ["kind", "file", "seconds", "sample_rate", "bandwidth_khz", "label", "license", "source",
               "original_sample_rate", "sha256", "noise_kind", "snr_db", "voiced_frac", "split"]
SPLIT_SALT = "percepnet-extra-split-v1"
# shares of the groups (speakers, noise recordings) held out of training, by a salted hash of the group
VAL_SHARE, TEST_SHARE = 0.05, 0.10


# Whole sources held out of training for the cross-source test set (kind, package or OWNER/NAME):
# chosen before any training on the new lists, among sources no training file comes from
CROSS_SOURCE = {("speech", "gcin-voice"), ("speech", "0ad-data"), ("noise", "flightgear-data-base"),
                ("noise", "torcs-data"), ("noise", "etw-data"), ("noise", "searchandrescue-data")}


def split_of(kind: str, label: str, source: str) -> str:
    """train, val, test or xsrc for a row of a new list: whole speakers (speech), whole recordings (noise).

    A source in CROSS_SOURCE is `xsrc` as a whole. Otherwise each group is
    placed by a hash of its own name, not by a shuffle of all groups, so a
    list that grows keeps every earlier group where it was.
    """
    if (kind, parse_source(source).package) in CROSS_SOURCE:
        return "xsrc"
    group = label if kind == "speech" else source
    u = int.from_bytes(hashlib.sha256(f"{SPLIT_SALT}:{kind}:{group}".encode()).digest()[:8], "big") / 2**64
    return "val" if u < VAL_SHARE else "test" if u < VAL_SHARE + TEST_SHARE else "train"
CANDIDATE_COLUMNS = ("kind", "file", "label", "license", "source")
# speech at least this wide goes to speech48/ (the builder treats it as full band: every band in the loss);
# narrower speech goes to speech16/, whose bands above bandwidth_khz the loss leaves out
FULL_BAND_KHZ = 19.5


def corpus_path(kind: str, file: str, bandwidth_khz: float) -> str:
    """The row's path in the folder: speech goes under speech48/ or speech16/ by its measured bandwidth."""
    parts = Path(file).parts
    if kind != "speech":
        return file
    head = "speech48" if bandwidth_khz >= FULL_BAND_KHZ else "speech16"
    rest = parts[1:] if parts and parts[0] in ("speech", "speech48", "speech16") else parts
    return str(Path(head, *rest))


def build_candidate(row: dict[str, str], out_root: Path, roots: dict[tuple[str, str], Path]) -> tuple[list[str] | None, str | None]:
    """Extracts, converts, measures and checks one candidate: (list row, None) or (None, why it was rejected)."""
    from training.audio_check import convert_and_measure, verdict
    if Path(row["file"]).is_absolute() or ".." in Path(row["file"]).parts or not row["file"].endswith(".flac"):
        return None, "its file path must be relative, inside the folder, and end in .flac"
    try:
        src = parse_source(row["source"])
        root = roots.get((src.package, src.version))
        if root is None:
            return None, f"source {src.package} {src.version} is not available"
        raw = extract(src, root)
        sha = hashlib.sha256(raw).hexdigest()
        with tempfile.TemporaryDirectory(dir=out_root) as tmp:
            src_file = Path(tmp) / f"in{Path(src.name).suffix.lower() or '.bin'}"
            src_file.write_bytes(raw)
            flac = Path(tmp) / "out.flac"
            m = convert_and_measure(str(src_file), str(flac), MAX_SECONDS)
            why = verdict(row["kind"], m)
            if why is not None:
                return None, why
            rel = corpus_path(row["kind"], row["file"], m.bandwidth_khz)
            target = out_root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(flac, target)
    except subprocess.CalledProcessError as e:
        return None, last_line(e)
    except (OSError, ValueError, NotImplementedError, zipfile.BadZipFile, zlib.error) as e:
        return None, str(e)
    return [row["kind"], rel, f"{m.seconds:.2f}", "48000", f"{m.bandwidth_khz:.2f}", row["label"], row["license"],
            row["source"], str(m.original_sample_rate), sha, row.get("noise_kind", ""), f"{m.snr_db:.1f}",
            f"{m.voiced_frac:.3f}", split_of(row["kind"], row["label"], row["source"])], None


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_candidates(path: Path) -> list[dict[str, str]]:
    """A candidate list (kind, file, label, license, source[, noise_kind, note]): what may enter, before checks."""
    _, numbered = read_tsv(path, CANDIDATE_COLUMNS)
    rows, seen = [], set()
    for n, _, row in numbered:
        if row["kind"] not in ("speech", "noise"):
            raise ValueError(f"{path}:{n}: kind {row['kind']!r} is neither speech nor noise")
        if row["file"] in seen:
            raise ValueError(f"{path}:{n}: file {row['file']} is listed twice")
        seen.add(row["file"])
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m training.fetch_extra", description=__doc__.split("\n\n")[0])
    ap.add_argument("list", type=Path, help="one of training/extra-*.tsv (with --from-candidates: the list to write)")
    ap.add_argument("out", type=Path, help="the folder to (re)build: OUT/<file> and OUT/MANIFEST.tsv")
    ap.add_argument("--cache", type=Path, default=None, help="downloaded and unpacked packages (default: OUT/.packages)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="ffmpeg processes at once")
    ap.add_argument("--only", default="", help="comma-separated packages to rebuild (the manifest then lists those rows only)")
    ap.add_argument("--mirror", type=Path, action="append", default=[],
                    help="a folder of GitHub snapshots (OWNER+NAME/repo git dirs) for github: sources; repeatable")
    ap.add_argument("--from-candidates", type=Path, default=None, metavar="CANDIDATES",
                    help="build a NEW list: check every candidate (training/audio_check.py), write the kept ones to LIST "
                         "and the rejected ones, with the reason, to rejected/LIST beside it")
    a = ap.parse_args(argv)
    if a.jobs < 1:
        ap.error("--jobs must be at least 1")
    making = a.from_candidates is not None
    try:
        if making:
            header, rows = "\t".join(LIST_HEADER), read_candidates(a.from_candidates)
            if a.list.exists() and a.list.resolve() == a.from_candidates.resolve():
                raise ValueError("the list to write is the candidate list itself")
        else:
            header, rows = read_list(a.list)
        sources = [parse_source(r["source"]) for r in rows]
    except (OSError, ValueError) as e:
        print(f"fetch_extra: error: {e}", file=sys.stderr)
        return 2
    only = {p for p in a.only.split(",") if p}
    if only:
        unknown = only - {s.package for s in sources}
        if unknown:
            print(f"fetch_extra: error: --only names packages not in the list: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        keep = [i for i, s in enumerate(sources) if s.package in only]
        rows, sources = [rows[i] for i in keep], [sources[i] for i in keep]
    tools_needed = ["ffmpeg", "ffprobe"]
    if any(s.kind != "github" for s in sources):
        tools_needed += ["apt-get", "dpkg-deb"]
    if any(s.kind == "github" for s in sources):
        tools_needed.append("git")
    for tool in tools_needed:
        if shutil.which(tool) is None:
            print(f"fetch_extra: error: {tool} not found (Debian: apt-get install ffmpeg git)", file=sys.stderr)
            return 2
    a.out.mkdir(parents=True, exist_ok=True)
    cache = a.cache or a.out / ".packages"
    cache.mkdir(parents=True, exist_ok=True)

    roots: dict[tuple[str, str], Path] = {}
    failed: list[tuple[str, str]] = []
    packages = sorted({(s.package, s.version) for s in sources})
    github = {(s.package, s.version) for s in sources if s.kind == "github"}
    # c4group rows need the engine package's c4group tool (same version)
    tools = sorted({(C4GROUP_PACKAGE, s.version) for s in sources if s.kind == "c4group"})
    for pkg, ver in tools:
        print(f"[tool] {pkg} {ver} (for c4group)", flush=True)
        try:
            unpack_package(pkg, ver, cache)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
            print(f"  not available: {e}", file=sys.stderr)
    for n, (pkg, ver) in enumerate(packages, 1):
        print(f"[{n}/{len(packages)}] {pkg} {ver}", flush=True)
        try:
            if (pkg, ver) in github:
                roots[(pkg, ver)] = github_git_dir(pkg, ver, cache, a.mirror)
            else:
                roots[(pkg, ver)] = unpack_package(pkg, ver, cache)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
            print(f"  not available: {e}", file=sys.stderr)

    work = (lambda r: build_candidate(r, a.out, roots)) if making else (lambda r: rebuild_row(r, a.out, roots))
    done = 0
    results: dict[int, object] = {}
    step = max(50, len(rows) // 20)
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {pool.submit(work, r): i for i, r in enumerate(rows)}
        for fut in cf.as_completed(futures):
            results[futures[fut]] = fut.result()
            done += 1
            if done % step == 0 or done == len(rows):
                print(f"  {done}/{len(rows)} files", flush=True)

    if making:
        kept_rows = [results[i][0] for i in range(len(rows)) if results[i][0] is not None]
        rejected = [(rows[i]["file"], rows[i]["source"], results[i][1]) for i in range(len(rows)) if results[i][0] is None]
        kept = ["\t".join(r) for r in kept_rows]
        write_atomically(a.list, "\n".join([header, *kept]) + "\n")
        rejected_path = a.list.parent / "rejected" / a.list.name
        rejected_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(rejected_path, "\n".join(["file\tsource\treason", *("\t".join(r) for r in rejected)]) + "\n")
        seconds = sum(float(r[2]) for r in kept_rows)
        print(f"{len(kept)}/{len(rows)} candidates kept, {seconds / 60:.2f} min, list {a.list}; "
              f"{len(rejected)} rejected with the reason in {rejected_path}")
    else:
        failed = [(r["file"], results[i]) for i, r in enumerate(rows) if results[i] is not None]
        kept = [r["_line"] for i, r in enumerate(rows) if results[i] is None]
        seconds = sum(float(r["seconds"]) for i, r in enumerate(rows) if results[i] is None)
    manifest = a.out / "MANIFEST.tsv"
    write_atomically(manifest, "\n".join([header, *kept]) + "\n")
    if not making:
        print(f"{len(kept)}/{len(rows)} files, {seconds / 60:.2f} min, in {a.out}; manifest {manifest}")
        if failed:
            print(f"{len(failed)} not rebuilt (the manifest leaves them out):", file=sys.stderr)
            for f, why in failed:
                print(f"  {f}: {why}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
