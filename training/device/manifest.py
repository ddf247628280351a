"""Builder flags for the extra folders that reached the device machine.

    python3 -m training.device.manifest DIR ...          # prints --extra-noise/--extra-speech flags
    python3 -m training.device.manifest --check CORPUS   # exit 1 unless every row's file is there

A folder whose name starts with x-speech is speech, any other noise. A
folder that arrived in part (its files span several packs, and the run went
ahead without the last ones) is trimmed to the rows whose file is present;
the full list stays beside it as MANIFEST.tsv.full until a later call
that brings the rest puts it back.
"""
import os
import sys
from pathlib import Path

from training.fetch_extra import read_list


def rows_present(d):
    """(header line, every row's line, the lines whose file is present)."""
    man = os.path.join(d, "MANIFEST.tsv")
    src = man + ".full" if os.path.exists(man + ".full") else man
    head, rows = read_list(Path(src))
    ok = [r["_line"] for r in rows if os.path.exists(os.path.join(d, r["file"]))]
    return head, [r["_line"] for r in rows], ok


def main(argv=None):
    try:
        run(sys.argv[1:] if argv is None else argv)
    except ValueError as e:  # a malformed manifest: read_list names the file and line
        sys.exit(f"manifest: {e}")


def run(argv):
    if argv and argv[0] == "--check":
        for d in argv[1:]:
            _, rows, ok = rows_present(d)
            if len(ok) != len(rows):
                sys.exit(f"{d}: {len(rows) - len(ok)} of {len(rows)} files missing")
            print(f"{d}: all {len(rows)} files", file=sys.stderr)
        return
    flags = []
    for d in argv:
        man = os.path.join(d, "MANIFEST.tsv")
        if not os.path.exists(man) and not os.path.exists(man + ".full"):
            continue
        head, rows, ok = rows_present(d)
        if not ok:
            continue
        if len(ok) != len(rows):
            if not os.path.exists(man + ".full"):
                os.replace(man, man + ".full")
            with open(man, "w", encoding="utf-8") as f:
                f.write("\n".join([head] + ok) + "\n")
        elif os.path.exists(man + ".full"):  # the rest arrived: the full list is right again
            os.replace(man + ".full", man)
        print(f"{d}: {len(ok)} of {len(rows)} files", file=sys.stderr)
        speech = os.path.basename(os.path.normpath(d)).startswith("x-speech")
        flags += ["--extra-speech" if speech else "--extra-noise", d]
    print(" ".join(flags))


if __name__ == "__main__":
    main()
