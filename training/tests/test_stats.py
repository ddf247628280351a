"""training.stats: totals, splits, kinds and the plot from lists (no audio)."""
import contextlib
import io
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from training.stats import kind_of, main

HEAD = "kind\tfile\tseconds\tsample_rate\tbandwidth_khz\tlabel\tlicense\tsource"


class Stats(unittest.TestCase):
    def test_counts_and_plot(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "corpus").mkdir()
            (tmp / "corpus" / "MANIFEST.tsv").write_text(
                HEAD + "\n"
                "speech\tspeech48/a.flac\t60\t48000\t20\tvctk p1\tCC\tx\n"
                "speech\tspeech16/b.flac\t120\t48000\t8\tlibri 2\tCC\tx\n"
                "noise\tnoise/c.flac\t30\t48000\t20\tkitchen/dishwashing\tCC\tx\n"
                "rir\trir/d.flac\t1\t48000\t20\troom\tCC\tx\n")
            lst = tmp / "extra-x.tsv"
            lst.write_text(HEAD + "\tnoise_kind\tsplit\n"
                           "speech\tspeech16/e.flac\t60\t48000\t7\tvctk p1\tCC\tpkg 1:/e.ogg\t\ttrain\n"
                           "speech\tspeech48/f.flac\t30\t48000\t21\tnew 3\tCC\tgithub:o/n@" + "0" * 40 + ":f.wav\t\ttest\n"
                           "noise\tnoise/g.flac\t90\t48000\t20\tbus\tCC\tpkg 1:/g.ogg\tvehicle\tval\n")
            svg = tmp / "plot.svg"
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(main(["--corpus", str(tmp / "corpus"), "--lists", str(lst), "--svg", str(svg), "--markdown"]), 0)
            text = out.getvalue()
            # 60 + 120 + 60 + 30 s of speech = 4.5 min; speakers vctk p1 (counted once), libri 2, new 3
            self.assertIn("**0.07 h** from **3** speaker labels, 1.5 min with bandwidth >= 15 kHz", text)
            self.assertIn("Noise: **2.0 min**, 2.0 of them of the call kinds", text)
            self.assertIn("| speech | test | 1 | 0.5 | 1 |", text)
            self.assertIn("| noise | val | 1 | 1.5 |", text)
            self.assertIn("| vehicle | 1.5 |", text)
            self.assertIn("| kitchen (by label) | 0.5 |", text)
            root = ET.parse(svg).getroot()
            self.assertTrue(root.tag.endswith("svg"))
            self.assertGreater(len(root.findall(".//{http://www.w3.org/2000/svg}rect")), 5)

    def test_kind_from_label(self):
        self.assertEqual(kind_of({"label": "office/keyboard typing"}), "keyboard_mouse (by label)")
        self.assertEqual(kind_of({"label": "forest night"}), "other (by label)")
        self.assertEqual(kind_of({"label": "x", "noise_kind": "fan"}), "fan")
        # "libreoffice" names the package, not an office room
        self.assertEqual(kind_of({"label": "libreoffice gallery/sounds/cow"}), "other (by label)")
        self.assertEqual(kind_of({"label": "open office ambience"}), "office_hvac (by label)")

    def test_missing_corpus(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(main(["--corpus", "/nonexistent", "--lists"]), 2)
        self.assertIn("not found", err.getvalue())


if __name__ == "__main__":
    unittest.main()
