"""training.device: the float16 parts rebuild a checkpoint that computes what
the original did; a partly arrived extra folder is trimmed and restored.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import os
import subprocess
import tempfile
import unittest

import torch

from training.device import manifest, pack, parts
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


class ResumePartsTest(unittest.TestCase):
    def test_a_run_split_for_resume_goes_on_where_it_stopped(self):
        import json
        from training import train as train_cli
        from training.percepnet.pnf import write_pnf
        from training.tests.test_smoke import synthetic
        with tempfile.TemporaryDirectory() as tmp:
            x, t = synthetic(4, 60, seed=1)
            write_pnf(os.path.join(tmp, "a.pnf"), x, t)

            def run(out, epochs):
                train_cli.main(["--train", os.path.join(tmp, "a.pnf"), "--out", out, "--config", json.dumps(SMALL),
                                "--batch", "4", "--crop", "30", "50", "--steps-per-epoch", "3", "--threads", "1",
                                "--print-every", "1000", "--density", "gru=0.4", "--prune-start", "1",
                                "--prune-end", "7", "--prune-every", "2", "--epochs", str(epochs)])
            first, moved = os.path.join(tmp, "first"), os.path.join(tmp, "moved")
            run(first, 1)
            a = torch.load(os.path.join(first, "last.pt"), weights_only=False)
            paths = parts.split_resume(os.path.join(first, "last.pt"), os.path.join(tmp, "r"), part_bytes=3000)
            self.assertGreater(len(paths), 2)
            with self.assertRaises(SystemExit):  # a lost part is an error
                parts.join(paths[1:], os.path.join(tmp, "bad.pt"))
            with self.assertRaises(SystemExit):  # a weights split does not resume
                parts.split_resume(os.path.join(tmp, "a.pnf"), os.path.join(tmp, "x"))
            os.makedirs(moved)
            b = parts.join(list(reversed(paths)), os.path.join(moved, "last.pt"))
            # what must be exact is exact; what was rounded is float32 again and close
            self.assertEqual((b["epoch"], b["step"]), (a["epoch"], a["step"]))
            self.assertTrue(torch.equal(b["rng"]["torch"], a["rng"]["torch"]))
            self.assertEqual((b["rng"]["numpy"], b["rng"]["python"]), (a["rng"]["numpy"], a["rng"]["python"]))
            for k, m in a["prune"]["masks"].items():
                self.assertTrue(torch.equal(b["prune"]["masks"][k], m), k)
            for k, v in a["model"].items():
                self.assertEqual(b["model"][k].dtype, v.dtype, k)
                self.assertLessEqual(float((b["model"][k] - v).abs().max()), float(v.abs().max()) * 2**-10 + 1e-7, k)
            for i, st in a["optimizer"]["state"].items():
                for k, v in st.items():
                    w = b["optimizer"]["state"][i][k]
                    self.assertEqual(w.dtype, v.dtype, k)
                    if v.numel() <= 1:
                        self.assertTrue(torch.equal(w, v), k)  # AdamW's step count
                    else:
                        self.assertLessEqual(float((w - v).abs().max()), float(v.abs().max()) * 2**-7, k)
            # the moved run resumes (epoch 2 onwards) and ends where the unbroken one does, up to rounding
            run(moved, 3)
            run(first, 3)
            c = torch.load(os.path.join(first, "last.pt"), weights_only=False)
            d = torch.load(os.path.join(moved, "last.pt"), weights_only=False)
            self.assertEqual(d["step"], 9)
            for k, m in c["prune"]["masks"].items():
                self.assertTrue(torch.equal(d["prune"]["masks"][k], m), k)
            for k, v in c["model"].items():
                self.assertLess(float((d["model"][k] - v).abs().max()), 0.05 * float(v.abs().max()) + 1e-4, k)


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

    def test_refuses_resume_parts_that_are_not_one_whole_call(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("resume-0.pt", "resume-2.pt"):
                open(os.path.join(tmp, name), "wb").close()
            r = subprocess.run(["python3", "-m", "training.device.pack", "--out", os.path.join(tmp, "o"), "--init",
                                "training/checkpoints/small.pt", "--limit-mib", "20", "--resume",
                                os.path.join(tmp, "resume-0.pt"), os.path.join(tmp, "resume-2.pt")],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("resume-0.pt .. resume-N.pt", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "o")))

    def test_default_pack_size_leaves_room_for_the_checkout(self):
        with tempfile.TemporaryDirectory() as tmp:
            git = lambda *a: subprocess.run(["git", "-C", tmp, *a], check=True, capture_output=True)
            git("init", "-q")
            open(os.path.join(tmp, "big.bin"), "wb").write(b"\0" * (5 * 2**20))  # untracked, not ignored: travels
            open(os.path.join(tmp, ".gitignore"), "w").write("out/\n")
            os.makedirs(os.path.join(tmp, "out"))
            open(os.path.join(tmp, "out", "huge.bin"), "wb").write(b"\0" * (9 * 2**20))  # ignored: stays
            self.assertAlmostEqual(pack.default_limit_mib(tmp), 58, delta=0.01)
            open(os.path.join(tmp, "more.bin"), "wb").write(b"\0" * (52 * 2**20))
            with self.assertRaises(SystemExit):  # 57 MiB travel: no room left for a pack
                pack.default_limit_mib(tmp)


if __name__ == "__main__":
    unittest.main()
