"""training.device: the float16 parts rebuild a checkpoint that computes what
the original did; a partly arrived extra folder is trimmed and restored.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import os
import subprocess
import tempfile
import unittest

import torch

from training.device import manifest, parts
from training.percepnet.model import PercepNet

torch.set_num_threads(1)
SMALL = {"dense": 16, "conv1": {"k": 5, "out": 12}, "conv2": {"k": 3, "out": 12},
         "gru": 12, "gruLayers": 3, "gruR": 8, "vad": True}


class PartsTest(unittest.TestCase):
    def test_split_join_round_trip(self):
        torch.manual_seed(1)
        m = PercepNet(SMALL)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "a.pt")
            torch.save({"model": m.state_dict(), "config": m.config, "epoch": 7,
                        "optimizer": {"big": torch.zeros(10)}}, src)
            paths = parts.split(src, os.path.join(tmp, "p"), part_bytes=4000)
            self.assertGreater(len(paths), 1)  # the limit forces several parts
            for p in paths:
                self.assertLess(os.path.getsize(p), 4000 + 20000)
            with self.assertRaises(SystemExit):  # a missing part is an error, not a smaller model
                parts.join(paths[:-1], os.path.join(tmp, "bad.pt"))
            ck = parts.join(list(reversed(paths)), os.path.join(tmp, "b.pt"))
            self.assertEqual(ck["epoch"], 7)
            self.assertNotIn("optimizer", ck)
            back = PercepNet(ck["config"])
            back.load_state_dict(torch.load(os.path.join(tmp, "b.pt"), weights_only=False)["model"])
            x = torch.randn(1, 40, 70)
            with torch.no_grad():
                for a, b in zip(m(x, logits=True), back(x, logits=True)):
                    self.assertLess(float((a - b).abs().max()), 2e-2)
            for k, v in m.state_dict().items():
                if v.is_floating_point():
                    err = float((back.state_dict()[k] - v).abs().max())
                    self.assertLessEqual(err, float(v.abs().max()) * 2**-10 + 1e-7, k)


class ManifestTest(unittest.TestCase):
    def write(self, d, files):
        os.makedirs(os.path.join(d, "noise"), exist_ok=True)
        with open(os.path.join(d, "MANIFEST.tsv"), "w") as f:
            f.write("kind\tfile\tseconds\tsource\n")
            for name in files:
                f.write(f"noise\tnoise/{name}\t1.0\tpkg 1:{name}\n")

    def test_partial_folder_trimmed_then_restored(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "x-noise")
            self.write(d, ["a.flac", "b.flac", "c.flac"])
            for name in ("a.flac", "c.flac"):
                open(os.path.join(d, "noise", name), "wb").close()
            out = subprocess.run(["python3", "-m", "training.device.manifest", d],
                                 capture_output=True, text=True, check=True)
            self.assertEqual(out.stdout.split(), ["--extra-noise", d])
            rows = open(os.path.join(d, "MANIFEST.tsv")).read().split("\n")
            self.assertEqual([r.split("\t")[1] for r in rows[1:] if r], ["noise/a.flac", "noise/c.flac"])
            self.assertNotEqual(subprocess.run(["python3", "-m", "training.device.manifest", "--check", d],
                                               capture_output=True).returncode, 0)
            open(os.path.join(d, "noise", "b.flac"), "wb").close()  # the rest arrives
            manifest.main([d])
            rows = open(os.path.join(d, "MANIFEST.tsv")).read().split("\n")
            self.assertEqual(len([r for r in rows[1:] if r]), 3)
            manifest.main(["--check", d])

    def test_speech_folder_and_empty_folder(self):
        with tempfile.TemporaryDirectory() as tmp:
            s, e = os.path.join(tmp, "x-speech2"), os.path.join(tmp, "x-noise9")
            self.write(s, ["a.flac"])
            open(os.path.join(s, "noise", "a.flac"), "wb").close()
            self.write(e, ["z.flac"])  # nothing arrived: no flag
            out = subprocess.run(["python3", "-m", "training.device.manifest", s, e],
                                 capture_output=True, text=True, check=True)
            self.assertEqual(out.stdout.split(), ["--extra-speech", s])


class PackTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists("dist/tools/build-dataset.js") and os.path.exists("build/percepnet.wasm"),
                         "needs npm run build")
    def test_refuses_to_replace_a_folder_that_is_not_a_pack(self):
        with tempfile.TemporaryDirectory() as tmp:
            keep = os.path.join(tmp, "notes.txt")
            open(keep, "w").write("mine")
            r = subprocess.run(["python3", "-m", "training.device.pack", "--out", tmp, "--init",
                                "training/checkpoints/small.pt"], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("not a pack folder", r.stderr)
            self.assertEqual(open(keep).read(), "mine")


if __name__ == "__main__":
    unittest.main()
