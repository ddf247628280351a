"""training.slim: a checkpoint without optimizer state exports the same model and fine-tunes with --init.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import json
import os
import shutil
import tempfile
import unittest

import torch

from training import export as export_cli
from training import slim as slim_cli
from training import train as train_cli
from training.percepnet.pnf import write_pnf
from training.tests.test_smoke import TINY, synthetic

torch.set_num_threads(1)


class SlimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One tiny trained run (with optimizer and rng state) shared by the tests.
        cls._tmp = tempfile.TemporaryDirectory()
        cls.dir = cls._tmp.name
        write_pnf(cls.p("a.pnf"), *synthetic(4, 60, seed=1))
        write_pnf(cls.p("v.pnf"), *synthetic(2, 60, seed=2), [34, 16])
        cls.run_dir = cls.p("base")
        train_cli.main(cls.args(cls.run_dir) + ["--config", json.dumps(TINY), "--epochs", "1"])
        cls.last = os.path.join(cls.run_dir, "last.pt")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @classmethod
    def p(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def args(cls, out):
        return ["--train", cls.p("a.pnf"), "--val", cls.p("v.pnf"), "--out", out, "--batch", "4",
                "--crop", "30", "50", "--steps-per-epoch", "5", "--threads", "1", "--print-every", "1000"]

    def test_drops_resume_state_keeps_weights_and_metadata(self):
        ck = torch.load(self.last, weights_only=False)
        s = slim_cli.slim(ck)
        self.assertFalse(any(k in s for k in ("optimizer", "rng", "bad_epochs")))
        self.assertEqual((s["config"], s["epoch"], s["step"]), (ck["config"], ck["epoch"], ck["step"]))
        for k, v in ck["model"].items():
            self.assertTrue(torch.equal(s["model"][k], v), k)
        self.assertEqual(slim_cli.slim(ck, step=123)["step"], 123)
        h = slim_cli.slim(ck, half=True)
        self.assertTrue(all(v.dtype == torch.float16 for v in h["model"].values()))
        with self.assertRaises(ValueError):
            slim_cli.slim({"optimizer": {}})

    def test_export_of_slim_checkpoint_is_byte_identical(self):
        pnm, out = self.p("full.pnm"), self.p("slim.pt")
        export_cli.main([self.last, "-o", pnm])
        self.assertEqual(slim_cli.main([self.last, "-o", out, "--check", pnm]), 0)
        self.assertLess(os.path.getsize(out), os.path.getsize(self.last) / 2)
        self.assertEqual(slim_cli.check_export(out, pnm), [])
        # float16 weights round some int8 rows or scales differently, and the check says where.
        half = self.p("half.pt")
        self.assertEqual(slim_cli.main([self.last, "-o", half, "--half", "--check", pnm]), 3)
        self.assertTrue(any("differ" in d for d in slim_cli.check_export(half, pnm)))

    def test_init_from_slim_checkpoint_fine_tunes_with_a_fresh_optimizer(self):
        a = torch.load(self.last, weights_only=False)
        for name, extra in (("f32", []), ("f16", ["--half"])):
            src, out = self.p(f"init-{name}.pt"), self.p(f"tuned-{name}")
            self.assertEqual(slim_cli.main([self.last, "-o", src, "--step", "1000"] + extra), 0)
            train_cli.main(self.args(out) + ["--init", src, "--epochs", "1"])
            b = torch.load(os.path.join(out, "last.pt"), weights_only=False)
            self.assertEqual(b["epoch"], 1)
            self.assertEqual(b["step"], 1005, "the lr schedule goes on from the recorded step")
            self.assertEqual(b["config"], a["config"])
            self.assertEqual(b["model"]["fc_g.weight"].dtype, torch.float32)
            # The input normalisation comes from the checkpoint, not from new statistics.
            torch.testing.assert_close(b["model"]["feat_mean"], a["model"]["feat_mean"].float(),
                                       atol=1e-3 if extra else 0, rtol=0)
            self.assertFalse(torch.equal(a["model"]["fc_g.weight"], b["model"]["fc_g.weight"]))

    def test_a_slim_last_pt_does_not_resume(self):
        out = self.p("resume")
        os.makedirs(out)
        shutil.copy(self.last, os.path.join(out, "full.pt"))
        slim_cli.main([self.last, "-o", os.path.join(out, "last.pt")])
        with self.assertRaisesRegex(SystemExit, "--init"):
            train_cli.main(self.args(out) + ["--epochs", "2"])

    def test_bad_input(self):
        bad = self.p("bad.pt")
        with open(bad, "wb") as f:
            f.write(b"not a checkpoint")
        for src in (bad, self.p("missing.pt")):
            with self.assertRaisesRegex(SystemExit, "cannot read"):
                slim_cli.main([src, "-o", self.p("x.pt")])
        with self.assertRaisesRegex(SystemExit, "--step"):
            slim_cli.main([self.last, "-o", self.p("x.pt"), "--step", "-1"])


if __name__ == "__main__":
    unittest.main()
