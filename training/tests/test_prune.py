"""Gradual block-sparse pruning (training/percepnet/prune.py) and its export to format v2.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import os
import tempfile
import unittest

import numpy as np
import torch

from training import export as export_cli
from training import train as train_cli
from training.percepnet.model import PercepNet
from training.percepnet.pnf import write_pnf
from training.percepnet.pnm import conv_to_matrix, dense_tensors, read_pnm
from training.percepnet.prune import (Pruner, cubic_density, parse_density, prunable_matrices,
                                      resolve_targets, select_blocks)
from training.tests.test_smoke import TmpDir, synthetic

torch.set_num_threads(1)
# Widths chosen so that matrices have several blocks each way, and some a
# partial last block (gruR 20: 60 rows, 20 columns; conv2 in 5 x 24).
SMALL = {"dense": 24, "conv1": {"k": 5, "out": 32}, "conv2": {"k": 3, "out": 40},
         "gru": 32, "gruLayers": 2, "gruR": 20, "vad": True}


def blocks_of(mat):
    """[nbr, ncb] bool: which 4 x 16 blocks of a [rows, cols] array hold a nonzero."""
    rows, cols = mat.shape
    nbr, ncb = -(-rows // 4), -(-cols // 16)
    pad = np.zeros((nbr * 4, ncb * 16), bool)
    pad[:rows, :cols] = np.asarray(mat) != 0
    return pad.reshape(nbr, 4, ncb, 16).any(axis=(1, 3))


def engine_matrix(model, name):
    """A file matrix as the engine stores it, from the torch parameter."""
    m = prunable_matrices(model)[name]
    w = m.param.detach().numpy()
    return conv_to_matrix(w) if m.kind == "conv" else w


class ScheduleTest(unittest.TestCase):
    def test_cubic_ramp(self):
        self.assertEqual(cubic_density(0, 0.3, 100, 1100), 1.0)
        self.assertEqual(cubic_density(100, 0.3, 100, 1100), 1.0)
        self.assertAlmostEqual(cubic_density(600, 0.3, 100, 1100), 0.3 + 0.7 * 0.125)
        self.assertAlmostEqual(cubic_density(350, 0.3, 100, 1100), 0.3 + 0.7 * 0.75 ** 3)
        self.assertEqual(cubic_density(1100, 0.3, 100, 1100), 0.3)
        self.assertEqual(cubic_density(5000, 0.3, 100, 1100), 0.3)
        d = [cubic_density(s, 0.3, 100, 1100) for s in range(0, 1200, 10)]
        self.assertTrue(all(a >= b for a, b in zip(d, d[1:])))

    def test_pruner_counts_steps_from_its_origin(self):
        m = PercepNet(SMALL)
        p = Pruner(m, {"gru1.w_ih": 0.5}, 10, 20, origin=1000)
        self.assertEqual(p.density_at(1010, "gru1.w_ih"), 1.0)
        self.assertAlmostEqual(p.density_at(1015, "gru1.w_ih"), 0.5 + 0.5 * 0.125)
        self.assertFalse(p.at_target(1019))
        self.assertTrue(p.at_target(1020))

    def test_parse_density(self):
        self.assertEqual(parse_density("gru=0.3,conv=0.5"), {"gru": 0.3, "conv": 0.5})
        self.assertEqual(parse_density('{"gru1.w_hh": 0.2}'), {"gru1.w_hh": 0.2})
        for bad in ("gru", "gru=0", "gru=1.5"):
            with self.assertRaises(ValueError, msg=bad):
                parse_density(bad)
        m = PercepNet(SMALL)
        t = resolve_targets(m, {"gru": 0.3, "gru1.w_hh": 0.6, "conv": 0.5})
        self.assertEqual(t["gru1.w_hh"], 0.6)
        self.assertEqual(t["gru_r.w_ih"], 0.3)
        self.assertEqual(t["conv2.w"], 0.5)
        self.assertNotIn("fc_in.w", t)
        self.assertEqual(len(t), 2 + 2 * 4)
        for bad in ({"fc_in.w": 0.5}, {"grus": 0.5}):
            with self.assertRaises(ValueError):
                resolve_targets(m, bad)


class MaskTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.model = PercepNet(SMALL)

    def test_target_density_block_structure_and_strongest_kept(self):
        mats = prunable_matrices(self.model)
        for name in ("gru1.w_ih", "gru_r.w_ih", "conv1.w", "conv2.w", "fc_g.w"):
            mat = mats[name]
            scores = mat.block_scores()
            for d in (0.9, 0.5, 0.3, 0.1):
                keep = select_blocks(mat, d)
                n = keep.numel()
                self.assertEqual(keep.shape, (mat.nbr, mat.ncb))
                self.assertLessEqual(abs(int(keep.sum()) - d * n), 0.5 + 1e-9, f"{name} at {d}")
                if keep.all() or not keep.any():
                    continue
                self.assertGreaterEqual(float(scores[keep].min()), float(scores[~keep].max()), name)
        # Applying the masks zeroes whole blocks of the engine's matrix, conv included
        # (its torch weight [out, in, k] is laid out differently).
        p = Pruner(self.model, {"conv2.w": 0.3, "gru2.w_ih": 0.3, "gru_r.w_hh": 0.3}, 0, 0, origin=0)
        p.update(0)
        for name, keep in p.masks.items():
            got = blocks_of(engine_matrix(self.model, name))
            np.testing.assert_array_equal(got, keep.numpy(), name)
            self.assertLessEqual(abs(int(keep.sum()) - 0.3 * keep.numel()),
                                 max(0.5, int(prunable_matrices(self.model)[name].forced().sum())), name)

    def test_recurrent_diagonals_kept(self):
        for name, h in (("gru1.w_hh", 32), ("gru_r.w_hh", 20)):
            mat = prunable_matrices(self.model)[name]
            with torch.no_grad():  # make the diagonals the weakest weights there are
                w = mat.param
                for g in range(3):
                    w[g * h + torch.arange(h), torch.arange(h)] = 0
            keep = select_blocks(mat, 0.05)
            for g in range(3):
                for i in range(h):
                    self.assertTrue(keep[(g * h + i) // 4, i // 16], f"{name} gate {g} unit {i}")
            forced = int(mat.forced().sum())
            # gru1: 3 gates x 8 block rows x 1 diagonal block each (hidden 32 = 2 column blocks).
            if name == "gru1.w_hh":
                self.assertEqual(forced, 3 * 8)
            self.assertEqual(int(keep.sum()), max(forced, round(0.05 * keep.numel())))
        ih = select_blocks(prunable_matrices(self.model)["gru1.w_ih"], 0.05)
        self.assertLessEqual(int(ih.sum()), round(0.05 * ih.numel()))


class AverageTest(unittest.TestCase):
    def test_average_keeps_masks_only_when_all_inputs_share_them(self):
        from training import average as average_cli
        with tempfile.TemporaryDirectory() as d:
            torch.manual_seed(0)
            m = PercepNet(SMALL)
            p = Pruner(m, {"gru1.w_hh": 0.5, "conv1.w": 0.5}, 0, 0)
            p.update(0)
            paths = []
            for i in range(3):
                with torch.no_grad():
                    m.fc_g.bias.add_(0.1)
                st = p.state_dict()
                if i == 2:
                    st["masks"]["conv1.w"] = ~st["masks"]["conv1.w"]
                paths.append(os.path.join(d, f"{i}.pt"))
                torch.save({"model": m.state_dict(), "config": m.config, "epoch": i + 1, "prune": st}, paths[-1])
            average_cli.main(paths[:2] + ["-o", os.path.join(d, "same.pt")])
            avg = torch.load(os.path.join(d, "same.pt"), weights_only=False)
            self.assertTrue(torch.equal(avg["prune"]["masks"]["conv1.w"], p.masks["conv1.w"]))
            average_cli.main(paths + ["-o", os.path.join(d, "mixed.pt")])
            self.assertNotIn("prune", torch.load(os.path.join(d, "mixed.pt"), weights_only=False))


class TrainExportTest(TmpDir):

    def test_resumed_pruning_run_is_identical(self):
        import json
        x, t = synthetic(4, 60, seed=1)
        write_pnf(self.path("a.pnf"), x, t)

        def run(out, epochs):
            train_cli.main(["--train", self.path("a.pnf"), "--out", out, "--config", json.dumps(SMALL),
                            "--batch", "4", "--crop", "30", "50", "--steps-per-epoch", "3", "--threads", "1",
                            "--print-every", "1000", "--density", "gru=0.4", "--prune-start", "1",
                            "--prune-end", "7", "--prune-every", "2", "--epochs", str(epochs)])
        run(self.path("straight"), 3)
        run(self.path("split"), 1)
        run(self.path("split"), 3)
        a = torch.load(self.path("straight/last.pt"), weights_only=False)
        b = torch.load(self.path("split/last.pt"), weights_only=False)
        for k in a["model"]:
            self.assertTrue(torch.equal(a["model"][k], b["model"][k]), k)
        for k in a["prune"]["masks"]:
            self.assertTrue(torch.equal(a["prune"]["masks"][k], b["prune"]["masks"][k]), k)
        self.assertAlmostEqual(float(a["prune"]["masks"]["gru1.w_ih"].float().mean()), 0.4, delta=1 / 72)

    def test_train_prunes_keeps_zeros_and_exports_v2(self):
        import json
        x, t = synthetic(4, 60, seed=1)
        write_pnf(self.path("a.pnf"), x, t)
        x, t = synthetic(2, 60, seed=2)
        write_pnf(self.path("v.pnf"), x, t)
        out = self.path("run")
        args = ["--train", self.path("a.pnf"), "--val", self.path("v.pnf"), "--out", out,
                "--config", json.dumps(SMALL), "--batch", "4", "--crop", "30", "50",
                "--steps-per-epoch", "4", "--threads", "1", "--print-every", "1000",
                "--density", "gru=0.3,conv=0.5,fc_g.w=0.6", "--prune-start", "2", "--prune-end", "6",
                "--prune-every", "2"]
        # Epoch 1 (steps 1-4) is mid-ramp, epoch 2 ends at the target, epoch 3 trains with frozen masks.
        train_cli.main(args + ["--epochs", "1"])
        mid = torch.load(os.path.join(out, "last.pt"), weights_only=False)
        self.assertFalse(os.path.exists(os.path.join(out, "best.pt")), "a mid-ramp epoch must not be best")
        d_mid = {k: float(v.float().mean()) for k, v in mid["prune"]["masks"].items()}
        self.assertTrue(all(v < 1 for v in d_mid.values()), d_mid)
        train_cli.main(args + ["--epochs", "3"])  # resumes from last.pt
        ck = torch.load(os.path.join(out, "last.pt"), weights_only=False)
        self.assertEqual(ck["step"], 12)
        best = torch.load(os.path.join(out, "best.pt"), weights_only=False)
        self.assertIn("prune", best)
        model = PercepNet(ck["config"])
        model.load_state_dict(ck["model"])
        masks = ck["prune"]["masks"]
        self.assertEqual(len(masks), 2 * 4 + 2 + 1)
        mats = prunable_matrices(model)
        for name, keep in masks.items():
            target = ck["prune"]["targets"][name]
            forced = int(mats[name].forced().sum())
            self.assertLessEqual(int(keep.sum()), max(forced, round(target * keep.numel())), name)
            self.assertGreaterEqual(int(keep.sum()), round(target * keep.numel()) - 1, name)
            # Masked weights are exactly zero after the steps since the last mask update.
            w = engine_matrix(model, name)
            blocks = blocks_of(w)
            self.assertFalse((blocks & ~keep.numpy()).any(), f"{name}: a pruned block is not zero")
            np.testing.assert_array_equal(blocks, keep.numpy(), name)
            # Diagonals of recurrent matrices are kept.
            if name.endswith("w_hh"):
                self.assertTrue(bool(keep[mats[name].forced()].all()), name)
        # Masks were frozen once the ramp ended (step 6): epoch 3 did not change them.
        ep2 = torch.load(os.path.join(out, "best.pt"), weights_only=False)["prune"]["masks"]
        for name in masks:
            self.assertTrue(torch.equal(masks[name], ep2[name]), name)

        pnm = self.path("m.pnm")
        export_cli.main([os.path.join(out, "last.pt"), "-o", pnm])
        with open(pnm, "rb") as fh:
            self.assertEqual(fh.read(8)[4:], b"\x02\0\0\0")
        cfg, meta, tens = read_pnm(pnm)
        self.assertEqual(sorted(n[:-len(".blocks")] for n in tens if n.endswith(".blocks")), sorted(masks))
        dense = dense_tensors(cfg, tens)
        for name, keep in masks.items():
            np.testing.assert_array_equal(blocks_of(dense[name]), keep.numpy(), name)
            self.assertEqual(tens[name].shape, (int(keep.sum()), 4, 16), name)
        self.assertNotIn("fc_in.w.blocks", tens)
        self.assertAlmostEqual(meta["density"]["conv1.w"], float(masks["conv1.w"].float().mean()), places=3)
        # --sparse none: the same pruned weights, dense, version 1.
        export_cli.main([os.path.join(out, "last.pt"), "-o", self.path("d.pnm"), "--sparse", "none"])
        cfg1, _, t1 = read_pnm(self.path("d.pnm"))
        for n, a in t1.items():
            np.testing.assert_array_equal(dense[n], a, n)


if __name__ == "__main__":
    unittest.main()
