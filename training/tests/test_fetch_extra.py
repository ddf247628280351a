"""training.fetch_extra: the parts that need no network (source parsing, archive readers)."""
import contextlib
import io
import struct
import tempfile
import unittest
import zipfile
import zlib
from pathlib import Path

from training.fetch_extra import Source, cat_entry, extract, main, parse_source, rcc_member, read_list

RIFF = b"RIFF\x04\x00\x00\x00WAVE"


def make_cat(entries: list[tuple[str, bytes]], flag: int = 0) -> bytes:
    table = 8 * len(entries)
    body, offsets = b"", []
    for name, wav in entries:
        blob = bytes([len(name)]) + name.encode() + wav
        offsets.append((table + len(body), len(blob)))
        body += blob
    return b"".join(struct.pack("<II", o | flag, s) for o, s in offsets) + body


def make_rcc(name_dir: str, name_file: str, payload: bytes, compressed: bool) -> bytes:
    """A format-1 bundle holding /name_dir/name_file."""
    def name(s: str) -> bytes:
        return struct.pack(">HI", len(s), 0) + s.encode("utf-16-be")
    names = name(name_dir) + name(name_file)
    file_name_off = len(name(name_dir))
    blob = struct.pack(">I", len(payload)) + zlib.compress(payload) if compressed else payload
    data = struct.pack(">I", len(blob)) + blob
    tree = (struct.pack(">IHII", 0, 2, 1, 1)            # root: one child, node 1
            + struct.pack(">IHII", 0, 2, 1, 2)          # name_dir: one child, node 2
            + struct.pack(">IHHHI", file_name_off, 1 if compressed else 0, 0, 0, 0))  # the file, data at 0
    head = 20
    tree_off, data_off = head, head + len(tree)
    names_off = data_off + len(data)
    return b"qres" + struct.pack(">IIII", 1, tree_off, data_off, names_off) + tree + data + names


class ParseSource(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(parse_source("alsa-utils 1.2.8-1:/usr/share/sounds/alsa/Front_Left.wav"),
                         Source("alsa-utils", "1.2.8-1", "file", "/usr/share/sounds/alsa/Front_Left.wav"))
        # an epoch in the version
        s = parse_source("widelands-data 2:1.1-3:/usr/share/games/widelands/data/sound/hammering/hammering_02.ogg")
        self.assertEqual((s.version, s.kind, s.path), ("2:1.1-3", "file", "/usr/share/games/widelands/data/sound/hammering/hammering_02.ogg"))
        s = parse_source("ufoai-sound 2.5-2:/usr/share/games/ufoai/base/0snd.pk3:sound/ambience/steam.ogg")
        self.assertEqual((s.kind, s.path, s.member), ("zip", "/usr/share/games/ufoai/base/0snd.pk3", "sound/ambience/steam.ogg"))
        s = parse_source("gcompris-qt-data 3.1-2:/usr/share/gcompris-qt/rcc/memory-sound.rcc!/gcompris/src/x.ogg")
        self.assertEqual((s.kind, s.path, s.member), ("rcc", "/usr/share/gcompris-qt/rcc/memory-sound.rcc", "/gcompris/src/x.ogg"))
        s = parse_source("openttd-opensfx 1.0.3-2:/usr/share/games/openttd/baseset/opensfx/opensfx.cat entry 03")
        self.assertEqual((s.kind, s.member), ("cat", "03"))
        s = parse_source("openclonk-data 8.1-3:/usr/share/games/openclonk/Sound.ocg/Environment.ocg/BirdsLoop.ogg (inside c4group Sound.ocg)")
        self.assertEqual((s.kind, s.member), ("c4group", "Sound.ocg"))
        s = parse_source("0ad-data 0.0.26-1:/usr/share/games/0ad/mods/public/public.zip:audio/music/You_are_Victorious!.ogg")
        self.assertEqual((s.kind, s.path, s.member), ("zip", "/usr/share/games/0ad/mods/public/public.zip", "audio/music/You_are_Victorious!.ogg"))
        s = parse_source("github:smc/msc@" + "8fb543a5c794c2193cf1440c68ac3d3988c4b934" + ":story/01.wav")
        self.assertEqual((s.package, s.version, s.kind, s.path, s.name), ("smc/msc", "8fb543a5c794c2193cf1440c68ac3d3988c4b934", "github", "story/01.wav", "story/01.wav"))

    def test_bad(self):
        for bad in ("no-space", "pkg 1.0", "pkg 1.0:/a/b.ogg:c:d", "pkg 1.0:/a/b c.ogg",
                    "github:owner/name@abc:x.wav", "github:owner/name:x.wav"):
            with self.assertRaises(ValueError, msg=bad):
                parse_source(bad)

    def test_every_committed_list_parses(self):
        lists = sorted(Path(__file__).resolve().parents[1].glob("extra-*.tsv"))
        self.assertGreaterEqual(len(lists), 6)
        for path in lists:
            _, rows = read_list(path)
            kinds = {parse_source(r["source"]).kind for r in rows}
            self.assertTrue(kinds <= {"file", "zip", "rcc", "cat", "c4group", "github"}, path)


class Archives(unittest.TestCase):
    def test_cat_entry(self):
        cat = make_cat([("a.wav", RIFF + b"A"), ("bee.wav", RIFF + b"BB"), ("c", RIFF)])
        self.assertEqual(cat_entry(cat, 1), RIFF + b"BB")
        self.assertEqual(cat_entry(cat, 2), RIFF)
        # OpenSFX's catalogue sets the top bit of every offset
        self.assertEqual(cat_entry(make_cat([("a", RIFF + b"A"), ("b", RIFF + b"B")], 0x80000000), 1), RIFF + b"B")
        with self.assertRaises(ValueError):
            cat_entry(cat, 3)
        with self.assertRaises(ValueError):
            cat_entry(make_cat([("x", b"OggS....")]), 0)

    def test_rcc_member(self):
        for compressed in (False, True):
            rcc = make_rcc("snd", "b.ogg", b"OggS-payload", compressed)
            self.assertEqual(rcc_member(rcc, "/snd/b.ogg"), b"OggS-payload")
            with self.assertRaises(ValueError):
                rcc_member(rcc, "/snd/c.ogg")
            with self.assertRaises(ValueError):
                rcc_member(rcc, "/snd")
        with self.assertRaises(ValueError):
            rcc_member(b"nope" + bytes(20), "/a")

    def test_extract_from_unpacked_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "usr/share").mkdir(parents=True)
            (root / "usr/share/plain.ogg").write_bytes(b"plain")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("sound/x.wav", b"zipped")
            (root / "usr/share/pak0.pk3").write_bytes(buf.getvalue())
            self.assertEqual(extract(parse_source("p 1:/usr/share/plain.ogg"), root), b"plain")
            self.assertEqual(extract(parse_source("p 1:/usr/share/pak0.pk3:sound/x.wav"), root), b"zipped")
            with self.assertRaises(FileNotFoundError):
                extract(parse_source("p 1:/usr/share/pak0.pk3:sound/y.wav"), root)
            with self.assertRaises(FileNotFoundError):
                extract(parse_source("p 1:/usr/share/missing.ogg"), root)


class ReadList(unittest.TestCase):
    def test_errors_name_the_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "l.tsv"
            p.write_text("kind\tfile\tseconds\tsource\nnoise\ta.flac\t1.0\n")
            with self.assertRaisesRegex(ValueError, r"l.tsv:2: 3 cells"):
                read_list(p)
            p.write_text("kind\tfile\tsource\n")
            with self.assertRaisesRegex(ValueError, "no column 'seconds'"):
                read_list(p)


class CommandLine(unittest.TestCase):
    def run_main(self, argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse
                code = e.code
        return code, err.getvalue()

    def test_bad_arguments_exit_2_and_write_nothing(self):
        lists = Path(__file__).resolve().parents[1]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            code, err = self.run_main([str(lists / "no-such.tsv"), str(out)])
            self.assertEqual(code, 2)
            self.assertIn("no-such.tsv", err)
            code, err = self.run_main([str(lists / "extra-noise.tsv"), str(out), "--only", "not-a-package"])
            self.assertEqual(code, 2)
            self.assertIn("not-a-package", err)
            code, err = self.run_main([str(lists / "extra-noise.tsv"), str(out), "--jobs", "0"])
            self.assertEqual(code, 2)
            self.assertIn("--jobs", err)
            self.assertFalse(out.exists())

    def test_a_file_path_outside_the_output_folder_is_refused(self):
        from training.fetch_extra import rebuild_row
        with tempfile.TemporaryDirectory() as tmp:
            for bad in ("../escape.flac", "/tmp/escape.flac"):
                why = rebuild_row({"file": bad, "seconds": "1", "source": "p 1:/a.ogg"}, Path(tmp) / "out", {})
                self.assertIn("leaves the output folder", why)


if __name__ == "__main__":
    unittest.main()
