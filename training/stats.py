"""What the training data holds: totals per source and kind, speakers, bandwidth; tables and a plot.

    python3 -m training.stats [--corpus ../shared/data/train] [--lists training/extra-*.tsv]
        [--svg docs/data-stats.svg] [--markdown]

Counts come from the committed lists and the shared corpus's MANIFEST.tsv
(not from the audio on this machine), so they say what a rebuild holds.
A row's `split` column (newer lists) is counted as train, val or test; rows
without one are training rows. Speakers are distinct `label`s of speech
rows; a label the shared corpus also has counts once. Noise kinds are the
lists' `noise_kind` column; the shared corpus and the older lists have none,
so their rows get a kind from keywords of their label (`KIND_KEYWORDS`,
first match; `other` when none), marked "by label" in the tables. The plot is a plain SVG written here (no plotting
library): hours per source, noise minutes per kind, and the bandwidth
histogram of speech minutes.
"""
from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

from training.fetch_extra import write_atomically

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "train"
FULL_BAND_KHZ = 15.0  # the "full band": bandwidth of at least 15 kHz
BW_BINS = [0, 4, 6, 8, 10, 12, 15, 18, 20, 25]
# the call-noise kinds of issue 26, told from a label's words where a list has no noise_kind (first match wins)
KIND_KEYWORDS = [
    ("keyboard_mouse", r"keyboard|typing|mouse.?click"),
    ("office_hvac", r"\boffice|air.?cond|hvac|ventilat|printer|copier|copy.?machine"),
    ("kitchen", r"kitchen|dish|kettle|cutlery|faucet|fridge|microwave|frying|running water tap"),
    ("fan", r"\bfans?\b|hair.?dryer"),
    ("vehicle", r"train|engine|\bbus\b|plane|aircraft|vehicle|boat|\btram\b|subway|motor|\bcar\b|helicopter"),
    ("street_traffic", r"traffic|street|\bcity\b|urban|construction"),
    ("cafe_babble", r"cafe|restaurant|babble|crowd|murmur|market|party|applause|\bpub\b|cheer"),
    ("children", r"child|\bkids?\b|baby|school|playground"),
    ("tv_music", r"music|\btv\b|television|radio|song"),
    ("wind", r"wind"),
]


def kind_of(r: dict[str, str]) -> str:
    if r.get("noise_kind"):
        return r["noise_kind"]
    for kind, pattern in KIND_KEYWORDS:
        if re.search(pattern, r.get("label", ""), re.IGNORECASE):
            return kind + " (by label)"
    return "other (by label)"


def read_rows(path: Path, source_name: str) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        if line.strip():
            r = dict(zip(head, line.split("\t")))
            r["_list"] = source_name
            rows.append(r)
    return rows


def source_of(r: dict[str, str]) -> str:
    """The package or repository a row comes from."""
    s = r.get("source", "")
    if s.startswith("github:"):
        return s.split("@", 1)[0][len("github:"):]
    return s.split(" ", 1)[0] if " " in s else s.split(":", 1)[0] or r["_list"]


def summarise(rows: list[dict[str, str]]) -> dict:
    speech = [r for r in rows if r["kind"] == "speech"]
    noise = [r for r in rows if r["kind"] == "noise"]
    sec = lambda rs: sum(float(r["seconds"]) for r in rs)
    by_split = collections.defaultdict(list)
    for r in speech + noise:
        by_split[(r["kind"], r.get("split") or "train")].append(r)
    per_source = collections.defaultdict(lambda: [0, 0.0, set()])
    for r in speech + noise:
        k = (r["kind"], r["_list"], source_of(r))
        per_source[k][0] += 1
        per_source[k][1] += float(r["seconds"])
        if r["kind"] == "speech":
            per_source[k][2].add(r["label"])
    kinds = collections.Counter()
    for r in noise:
        kinds[kind_of(r)] += float(r["seconds"])
    bw = collections.Counter()
    for r in speech:
        b = float(r["bandwidth_khz"])
        i = max(j for j, edge in enumerate(BW_BINS) if b >= edge or j == 0)
        bw[i] += float(r["seconds"])
    return {
        "speech_min": sec(speech) / 60,
        "speakers": len({r["label"] for r in speech}),
        "fullband_min": sec([r for r in speech if float(r["bandwidth_khz"]) >= FULL_BAND_KHZ]) / 60,
        "noise_min": sec(noise) / 60,
        "by_split": {k: (len(v), sec(v) / 60, len({r['label'] for r in v}) if k[0] == "speech" else len(v)) for k, v in by_split.items()},
        "per_source": per_source,
        "noise_kinds": kinds,
        "bandwidth": bw,
    }


def call_minutes(s: dict) -> float:
    """Minutes of noise of the call kinds (every kind but other), labelled or by label."""
    return sum(v for k, v in s["noise_kinds"].items() if not k.startswith("other")) / 60


def markdown(s: dict) -> str:
    out = [f"Speech: **{s['speech_min'] / 60:.2f} h** from **{s['speakers']}** speaker labels, "
           f"{s['fullband_min']:.1f} min with bandwidth >= {FULL_BAND_KHZ:.0f} kHz. Noise: **{s['noise_min']:.1f} min**, "
           f"{call_minutes(s):.1f} of them of the call kinds.", "",
           "| kind | split | files | minutes | speakers (speech) |", "|---|---|---|---|---|"]
    for (kind, side), (n, m, spk) in sorted(s["by_split"].items()):
        out.append(f"| {kind} | {side} | {n} | {m:.1f} | {spk if kind == 'speech' else ''} |")
    out += ["", "| kind | list | source | files | minutes | speakers |", "|---|---|---|---|---|---|"]
    for (kind, lst, src), (n, secs, labels) in sorted(s["per_source"].items()):
        out.append(f"| {kind} | {lst} | {src} | {n} | {secs / 60:.1f} | {len(labels) if kind == 'speech' else ''} |")
    out += ["", "| noise kind | minutes |", "|---|---|"]
    for k, v in sorted(s["noise_kinds"].items(), key=lambda kv: -kv[1]):
        out.append(f"| {k} | {v / 60:.1f} |")
    out += ["", "| speech bandwidth (kHz) | minutes |", "|---|---|"]
    for i in range(len(BW_BINS)):
        hi = BW_BINS[i + 1] if i + 1 < len(BW_BINS) else None
        out.append(f"| {BW_BINS[i]}-{hi if hi else ''} | {s['bandwidth'].get(i, 0) / 60:.1f} |")
    return "\n".join(out) + "\n"


def _bars(x0: float, y0: float, w: float, title: str, items: list[tuple[str, float]], unit: str) -> tuple[str, float]:
    """A horizontal bar chart at (x0, y0), width w: the SVG and its height."""
    row, label_w = 16, 190
    top = max((v for _, v in items), default=1) or 1
    parts = [f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">{esc(title)}</text>']
    for i, (name, v) in enumerate(items):
        y = y0 + 24 + i * row
        bw = (w - label_w - 60) * v / top
        parts.append(f'<text x="{x0 + label_w - 6}" y="{y + 11}" text-anchor="end">{esc(name)}</text>'
                     f'<rect x="{x0 + label_w}" y="{y + 2}" width="{bw:.1f}" height="{row - 4}" fill="#4a7ab7"/>'
                     f'<text x="{x0 + label_w + bw + 4:.1f}" y="{y + 11}">{v:.1f} {unit}</text>')
    return "".join(parts), 24 + row * len(items) + 14


def esc(t: str) -> str:
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(s: dict) -> str:
    w = 760
    src_hours = collections.Counter()
    for (kind, _lst, src), (_n, secs, _l) in s["per_source"].items():
        if kind == "speech":
            src_hours[src] += secs / 3600
    src_spk = collections.Counter()
    for (kind, _lst, src), (_n, _secs, labels) in s["per_source"].items():
        if kind == "speech":
            src_spk[src] += len(labels)
    charts = [
        (f"Speech hours per source ({s['speech_min'] / 60:.2f} h)", sorted(src_hours.items(), key=lambda kv: -kv[1]), "h"),
        (f"Speaker labels per source ({s['speakers']} distinct)", sorted(src_spk.items(), key=lambda kv: -kv[1]), ""),
        (f"Noise minutes per kind ({s['noise_min']:.0f} min)", sorted(((k, v / 60) for k, v in s["noise_kinds"].items()), key=lambda kv: -kv[1]), "min"),
        ("Speech minutes per bandwidth (kHz)", [(f"{BW_BINS[i]}-{BW_BINS[i + 1] if i + 1 < len(BW_BINS) else ''}", s["bandwidth"].get(i, 0) / 60) for i in range(len(BW_BINS))], "min"),
    ]
    body, y = [], 10.0
    for title, items, unit in charts:
        part, h = _bars(10, y, w - 20, title, items, unit)
        body.append(part)
        y += h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{y:.0f}" font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(body)}</svg>\n')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m training.stats", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus (its MANIFEST.tsv)")
    ap.add_argument("--lists", type=Path, nargs="*", default=None, help="extra lists (default: training/extra-*.tsv)")
    ap.add_argument("--svg", type=Path, default=None, help="write the plot here")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables (default: a short summary)")
    a = ap.parse_args(argv)
    lists = a.lists if a.lists is not None else sorted((ROOT / "training").glob("extra-*.tsv"))
    manifest = a.corpus / "MANIFEST.tsv"
    if not manifest.is_file():
        print(f"stats: error: {manifest} not found (pass --corpus)", file=sys.stderr)
        return 2
    rows = [r for r in read_rows(manifest, "shared corpus") if r["kind"] in ("speech", "noise")]
    for p in lists:
        rows += read_rows(p, p.stem)
    s = summarise(rows)
    if a.markdown:
        print(markdown(s), end="")
    else:
        print(f"speech {s['speech_min'] / 60:.2f} h, {s['speakers']} speaker labels, {s['fullband_min']:.1f} min >= "
              f"{FULL_BAND_KHZ:.0f} kHz; noise {s['noise_min']:.1f} min "
              f"({call_minutes(s):.1f} min of the call kinds)")
    if a.svg:
        write_atomically(a.svg, svg(s))
        print(f"plot: {a.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
