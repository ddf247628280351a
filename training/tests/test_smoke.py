"""Smoke tests of the training pipeline: formats, model, loss, train/resume, export.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import csv
import json
import os
import struct
import tempfile
import unittest
import zlib

import numpy as np
import torch

from training import export as export_cli
from training import infer as infer_cli
from training import average as average_cli
from training import train as train_cli
from training.percepnet.data import CropSampler, eval_batches
from training.percepnet.loss import percepnet_loss
from training.percepnet.model import PercepNet, make_config
from training.percepnet.pnf import PnfFile, pack_targets, write_pnf
from training.percepnet import topology
from training.percepnet.pnm import conv_to_matrix, dequantized_model, export_model, model_tensors, read_pnm

torch.set_num_threads(1)
TINY = {"dense": 16, "conv1": {"k": 5, "out": 16}, "conv2": {"k": 3, "out": 24},
        "gru": 16, "gruLayers": 2, "gruR": 8, "vad": True}


def synthetic(n_seq, seq_len, seed=0, lookahead=2):
    """Features with targets that are a learnable function of features `lookahead` frames back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n_seq, seq_len, 70)).astype(np.float32)
    past = np.roll(x, lookahead, axis=1)
    g = 1 / (1 + np.exp(-2 * past[..., :34]))
    r = 1 / (1 + np.exp(-2 * past[..., 34:68]))
    v = (past[..., 68] > 0).astype(np.float32)
    g[:, :lookahead], r[:, :lookahead], v[:, :lookahead] = 1, 0, 0
    return x, pack_targets(g, r, v)


class TmpDir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, *names):
        return os.path.join(self.dir, *names)


class PnfTest(TmpDir):
    def test_roundtrip_and_masks(self):
        x, t = synthetic(3, 50)
        write_pnf(self.path("a.pnf"), x, t, [34, 20, 0])
        f = PnfFile(self.path("a.pnf"))
        self.assertEqual((f.n_seq, f.seq_len, f.rec_len), (3, 50, 139))
        self.assertEqual(os.path.getsize(f.path), 32 + 4 + 3 * 50 * 139 * 4)
        feats, g, r, v = f.split(np.asarray(f.records))
        np.testing.assert_array_equal(feats, x)
        np.testing.assert_array_equal(g, t[..., :34])
        np.testing.assert_array_equal(v, t[..., 68])
        self.assertEqual(list(f.valid_bands), [34, 20, 0])
        b = next(eval_batches(f, batch=8))
        self.assertFalse(b["time_mask"][:, :2].any())
        self.assertTrue(b["time_mask"][:, 2:].all())
        self.assertEqual(b["band_mask"].sum(1).tolist(), [34, 20, 0])
        s = CropSampler([f], batch=4, crop=(10, 20), rng=np.random.default_rng(0)).sample()
        self.assertEqual(s["x"].shape[0], 4)
        self.assertTrue(10 <= s["x"].shape[1] <= 20)

    def test_sampler_survives_truncated_file(self):
        x, t = synthetic(2, 40)
        write_pnf(self.path("a.pnf"), x, t)
        write_pnf(self.path("b.pnf"), x, t)
        s = CropSampler([self.path("a.pnf"), self.path("b.pnf")], batch=8, crop=(20, 30),
                        rng=np.random.default_rng(0))
        with open(self.path("a.pnf"), "r+b") as fh:
            fh.truncate(100)  # as a builder restarting and rewriting the file does
        for _ in range(3):
            self.assertEqual(s.sample()["x"].shape[0], 8)
        self.assertEqual([os.path.basename(f.path) for f in s.files], ["b.pnf"])

    def test_sampler_reads_files_deleted_after_opening(self):
        # The builder's --keep rotation deletes old chunks while an epoch
        # still samples them; none of them may have been read before.
        x, t = synthetic(2, 40)
        paths = [self.path(f"{k}.pnf") for k in "ab"]
        for p in paths:
            write_pnf(p, x, t)
        s = CropSampler(paths, batch=8, crop=(20, 30), rng=np.random.default_rng(0))
        for p in paths:
            os.remove(p)
        for _ in range(3):
            self.assertEqual(s.sample()["x"].shape[0], 8)
        self.assertEqual(len(s.files), 2)

    def test_records_map_the_file_opened_at_construction(self):
        x, t = synthetic(2, 30)
        write_pnf(self.path("a.pnf"), x, t)
        f = PnfFile(self.path("a.pnf"))
        os.remove(f.path)
        np.testing.assert_array_equal(f.split(np.asarray(f.records))[0], x)

    def test_rejects_truncated(self):
        x, t = synthetic(1, 10)
        write_pnf(self.path("a.pnf"), x, t)
        with open(self.path("a.pnf"), "r+b") as fh:
            fh.truncate(os.path.getsize(self.path("a.pnf")) - 4)
        with self.assertRaises(ValueError):
            PnfFile(self.path("a.pnf"))


class ModelTest(unittest.TestCase):
    def test_streaming_equals_sequence(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        x = torch.randn(2, 30, 70)
        with torch.no_grad():
            g, r, v = m(x)
            st = m.initial_state(2)
            for t in range(30):
                (gs, rs, vs), st = m.step(x[:, t], st)
                torch.testing.assert_close(gs, g[:, t], atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(rs, r[:, t], atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(vs, v[:, t], atol=1e-5, rtol=1e-5)

    def test_causal(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        x = torch.randn(1, 20, 70)
        y = x.clone()
        y[:, 12:] += 5
        with torch.no_grad():
            a, b = m(x)[0], m(y)[0]
        torch.testing.assert_close(a[:, :12], b[:, :12])
        self.assertGreater(float((a[:, 12] - b[:, 12]).abs().max()), 1e-4)

    def test_config_layers(self):
        m = PercepNet(dict(TINY, gruLayers=3, vad=False))
        names = [n for n, _ in m.layers()]
        self.assertEqual(names, ["fc_in", "conv1", "conv2", "gru1", "gru2", "gru3", "gru_g",
                                 "fc_g", "gru_r", "fc_r"])
        self.assertEqual(m.fc_g.in_features, 24 + 4 * 16)
        self.assertEqual(m.gru_r.input_size, 24 + 16)
        with self.assertRaises(ValueError):
            make_config({"grue": 3})

    def test_layers_follow_the_hosts_description(self):
        # layers.json is host/model-file.ts's layer list (tools/layers-json.ts): the
        # export must write exactly its tensors, and no parameter may lie outside them.
        with open(os.path.join(os.path.dirname(topology.__file__), "layers.json")) as f:
            cases = json.load(f)["configs"]
        dtypes = {np.dtype(np.int8): "i8", np.dtype(np.float32): "f32"}
        for case in cases:
            with self.subTest(config=case["name"]):
                m = PercepNet(case["config"])
                got = {n: (dtypes[a.dtype], list(a.shape)) for n, a in model_tensors(m)}
                self.assertEqual(got, {t["name"]: (t["dtype"], t["shape"]) for t in case["tensors"]})
                covered = {id(p) for _, mod in m.layers() for p in mod.parameters()}
                self.assertEqual(covered, {id(p) for p in m.parameters()})
                with torch.no_grad():
                    g, r, v = m(torch.zeros(1, 3, 70))
                self.assertEqual(g.shape, (1, 3, 34))
                self.assertEqual(v is None, not case["config"]["vad"])


class LossTest(unittest.TestCase):
    def test_finite_at_extremes(self):
        tgt = torch.tensor([0.0, 1.0, 0.0, 1.0])
        z = torch.tensor([-200.0, 200.0, 200.0, -200.0], requires_grad=True)
        zr = torch.tensor([200.0, -200.0, 0.0, 30.0], requires_grad=True)
        zv = torch.tensor([[-200.0, 200.0]], requires_grad=True)
        batch = {"g": tgt.view(1, 1, 4).expand(1, 2, 4), "r": tgt.flip(0).view(1, 1, 4).expand(1, 2, 4),
                 "v": torch.tensor([[0.0, 1.0]]), "time_mask": torch.ones(1, 2, dtype=torch.bool),
                 "band_mask": torch.ones(1, 4, dtype=torch.bool)}
        loss, parts = percepnet_loss(z.view(1, 1, 4).expand(1, 2, 4), zr.view(1, 1, 4).expand(1, 2, 4),
                                     zv, batch)
        loss.backward()
        self.assertTrue(torch.isfinite(loss))
        for p in (z, zr, zv):
            self.assertTrue(torch.isfinite(p.grad).all())
        # Half the gain cells are maximally wrong: (1^2 + 10 * 1^4) / 2.
        self.assertAlmostEqual(float(parts["gain"]), 5.5, places=4)

    def test_masks(self):
        torch.manual_seed(0)
        zg, zr, zv = torch.randn(2, 5, 34), torch.randn(2, 5, 34), torch.randn(2, 5)
        b = {"g": torch.rand(2, 5, 34), "r": torch.rand(2, 5, 34), "v": torch.ones(2, 5),
             "time_mask": torch.arange(5).expand(2, 5) >= 2,
             "band_mask": torch.arange(34).expand(2, 34) < torch.tensor([[34], [10]])}
        base = float(percepnet_loss(zg, zr, zv, b)[0])
        b2 = dict(b, g=b["g"].clone(), r=b["r"].clone())
        b2["g"][1, :, 10:] = 0.5
        b2["r"][:, :2] = 0.9
        self.assertAlmostEqual(float(percepnet_loss(zg, zr, zv, b2)[0]), base, places=6)
        b2["g"][0, 3, 5] = 1 - b["g"][0, 3, 5]
        self.assertNotAlmostEqual(float(percepnet_loss(zg, zr, zv, b2)[0]), base, places=4)

    def test_distortion_weight(self):
        # Only cells whose predicted gain is below the target are re-weighted:
        # all-above predictions score the same at any weight, all-below ones
        # score exactly `distortion` times the symmetric loss.
        g = torch.full((1, 4, 34), 0.5)
        b = {"g": g, "r": torch.zeros(1, 4, 34), "v": torch.ones(1, 4),
             "time_mask": torch.ones(1, 4, dtype=torch.bool),
             "band_mask": torch.ones(1, 34, dtype=torch.bool)}
        w0 = {"vad": 0.0, "strength": 0.0}
        zr = torch.zeros(1, 4, 34)
        for z, factor in ((torch.full_like(g, 2.0), 1.0), (torch.full_like(g, -2.0), 3.0)):
            base = float(percepnet_loss(z, zr, None, b, w0)[1]["gain"])
            heavy = float(percepnet_loss(z, zr, None, b, dict(w0, distortion=3.0))[1]["gain"])
            self.assertGreater(base, 0.0)
            self.assertAlmostEqual(heavy, factor * base, places=6)

    def test_gain_smoothing(self):
        # Targets up to tau are untouched, targets above move toward 1 (1 stays
        # 1), monotonically; the loss then rewards a prediction of the
        # smoothed target, not the raw one.
        from training.percepnet.loss import smooth_gain_target
        g = torch.linspace(0, 1, 101)
        s = smooth_gain_target(g, 0.8)
        self.assertTrue(torch.equal(s[:81], g[:81]))
        self.assertTrue(bool((s[81:] > g[81:] - 1e-7).all()) and bool((s[81:100] > g[81:100]).all()))
        self.assertAlmostEqual(float(s[-1]), 1.0, places=6)
        self.assertAlmostEqual(float(smooth_gain_target(torch.tensor(0.9), 0.8)), 0.95, places=6)
        self.assertTrue(bool((s[1:] >= s[:-1]).all()))
        tgt = torch.full((1, 4, 34), 0.9)
        b = {"g": tgt, "r": torch.zeros(1, 4, 34), "v": torch.ones(1, 4),
             "time_mask": torch.ones(1, 4, dtype=torch.bool),
             "band_mask": torch.ones(1, 34, dtype=torch.bool)}
        w0 = {"vad": 0.0, "strength": 0.0}
        logit = lambda p: torch.full_like(tgt, float(np.log(p / (1 - p))))
        self.assertLess(float(percepnet_loss(logit(0.9), b["r"], None, b, w0)[1]["gain"]), 1e-10)
        smooth = dict(w0, gain_smoothing=0.8)
        self.assertLess(float(percepnet_loss(logit(0.95), b["r"], None, b, smooth)[1]["gain"]), 1e-10)
        self.assertGreater(float(percepnet_loss(logit(0.9), b["r"], None, b, smooth)[1]["gain"]), 1e-5)

    def test_band_energy_loss(self):
        # Zero when predicted gains equal the targets; row t's targets meet
        # row t - lookahead's energies; an error in a loud band costs more
        # than the same gain error in a band far under the floor.
        from training.percepnet.loss import band_energy_loss
        L = 2
        x = torch.full((1, 6, 70), -2.0)           # E_y = 0 everywhere ...
        x[0, 1, 5] = 8.0                          # ... but band 5 of frame 1: loud
        g = torch.full((1, 6, 34), 0.5)
        cell = torch.ones(1, 6, 34, dtype=torch.bool)
        self.assertAlmostEqual(float(band_energy_loss(g, g, x, cell, L)), 0.0, places=9)
        gh = g.clone()
        gh[0, 1 + L, 5] = 0.25                    # the loud cell, at its target row
        loud = float(band_energy_loss(gh, g, x, cell, L))
        self.assertGreater(loud, 1e-3)
        gh2 = g.clone()
        gh2[0, 1, 5] = 0.25                       # same gain error, misaligned row: no energy
        self.assertLess(float(band_energy_loss(gh2, g, x, cell, L)), 1e-9)
        gh3 = g.clone()
        gh3[0, 4, 7] = 0.25                       # a silent band: under the floor
        self.assertLess(float(band_energy_loss(gh3, g, x, cell, L)), loud * 1e-3)
        b = {"g": g, "r": torch.zeros(1, 6, 34), "v": torch.ones(1, 6), "x": x,
             "time_mask": torch.ones(1, 6, dtype=torch.bool),
             "band_mask": torch.ones(1, 34, dtype=torch.bool)}
        zg = torch.log(gh / (1 - gh))
        w0 = {"vad": 0.0, "strength": 0.0, "lookahead": L}
        off = percepnet_loss(zg, b["r"], None, b, w0)[1]
        on = percepnet_loss(zg, b["r"], None, b, dict(w0, energy=2.0))[1]
        self.assertNotIn("energy", off)
        self.assertAlmostEqual(float(on["energy"]), loud, places=5)
        self.assertAlmostEqual(float(on["total"]), float(off["total"]) + 2.0 * loud, places=5)

    def test_gain_stats(self):
        # Known cells: two speech cells (one kept, one cut to 0.25), one mixed,
        # two noise cells, one masked cell that must not count.
        from training.gain_stats import gain_stats
        g = np.array([1.0, 1.0, 0.5, 0.0, 0.05, 1.0])
        gh = np.array([1.0, 0.25, 0.25, 0.1, 0.01, 0.0])
        m = np.array([True, True, True, True, True, False])
        r = gain_stats(g, gh, m)
        self.assertEqual((r["speech_cells"], r["mixed_cells"], r["noise_cells"]), (2, 1, 2))
        self.assertAlmostEqual(r["speech_mean_gain"], 0.625)
        self.assertAlmostEqual(r["speech_share_below_half"], 0.5)
        self.assertAlmostEqual(r["speech_atten_db"], 0.5 * 20 * np.log10(0.25))
        self.assertAlmostEqual(r["mixed_ratio"], 0.5)
        self.assertAlmostEqual(r["noise_mean_gain"], 0.055)
        self.assertAlmostEqual(r["noise_level_db"], 0.5 * (-20 - 40))
        self.assertTrue(np.isnan(gain_stats(g, gh, np.zeros(6, bool))["speech_mean_gain"]))

    def test_above_band_weight(self):
        # Bands above a clip's bandwidth count for the gain only when asked,
        # with the given weight, and never for the strengths.
        torch.manual_seed(0)
        zg, zr = torch.randn(2, 5, 34), torch.randn(2, 5, 34)
        b = {"g": torch.rand(2, 5, 34), "r": torch.rand(2, 5, 34), "v": torch.ones(2, 5),
             "time_mask": torch.ones(2, 5, dtype=torch.bool),
             "band_mask": torch.arange(34).expand(2, 34) < torch.tensor([[34], [10]])}
        w0 = {"vad": 0.0}
        base = percepnet_loss(zg, zr, None, b, w0)[1]
        same = percepnet_loss(zg, zr, None, b, dict(w0, above_band=0.0))[1]
        self.assertAlmostEqual(float(same["total"]), float(base["total"]), places=6)
        half = percepnet_loss(zg, zr, None, b, dict(w0, above_band=0.5))[1]
        self.assertNotAlmostEqual(float(half["gain"]), float(base["gain"]), places=4)
        self.assertAlmostEqual(float(half["strength"]), float(base["strength"]), places=6)
        # Weight 1 equals a full band mask.
        full = percepnet_loss(zg, zr, None, b, dict(w0, above_band=1.0))[1]
        ref = percepnet_loss(zg, zr, None, dict(b, band_mask=torch.ones(2, 34, dtype=torch.bool)), w0)[1]
        self.assertAlmostEqual(float(full["gain"]), float(ref["gain"]), places=5)


class TrainExportTest(TmpDir):
    def test_loss_decreases(self):
        torch.manual_seed(0)
        x, t = synthetic(4, 60)
        write_pnf(self.path("a.pnf"), x, t)
        s = CropSampler([self.path("a.pnf")], batch=4, crop=(40, 60), rng=np.random.default_rng(0))
        m = PercepNet(TINY)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
        fixed = next(eval_batches(PnfFile(self.path("a.pnf")), batch=4))
        first = float(percepnet_loss(*m(fixed["x"], logits=True), fixed)[0])
        for _ in range(40):
            b = s.sample()
            loss, _ = percepnet_loss(*m(b["x"], logits=True), b)
            opt.zero_grad()
            loss.backward()
            opt.step()
        last = float(percepnet_loss(*m(fixed["x"], logits=True), fixed)[0])
        self.assertLess(last, 0.8 * first)

    def _train(self, out, epochs):
        return train_cli.main([
            "--train", self.path("a.pnf"), "--val", self.path("v.pnf"), "--out", out,
            "--config", json.dumps(TINY), "--epochs", str(epochs), "--batch", "4",
            "--crop", "30", "50", "--steps-per-epoch", "5", "--threads", "1",
            "--print-every", "1000"])

    def test_train_resume_export(self):
        x, t = synthetic(4, 60, seed=1)
        write_pnf(self.path("a.pnf"), x, t)
        x, t = synthetic(2, 60, seed=2)
        write_pnf(self.path("v.pnf"), x, t, [34, 16])
        straight, split = self.path("straight"), self.path("split")
        self._train(straight, 2)
        self._train(split, 1)
        self._train(split, 2)  # resumes from last.pt
        with open(os.path.join(split, "log.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["epoch"] for r in rows], ["1", "2"])
        self.assertTrue(all(np.isfinite(float(r["val_loss"])) for r in rows))
        a = torch.load(os.path.join(straight, "last.pt"), weights_only=False)
        b = torch.load(os.path.join(split, "last.pt"), weights_only=False)
        self.assertEqual(b["epoch"], 2)
        for k in a["model"]:
            torch.testing.assert_close(a["model"][k], b["model"][k], msg=k)

        pnm, ref = self.path("m.pnm"), self.path("ref.npz")
        export_cli.main([os.path.join(split, "best.pt"), "-o", pnm, "--float-ref", ref,
                         "--ref-frames", "40"])
        self._check_pnm(pnm)
        r = np.load(ref)
        self.assertEqual(r["gains"].shape, (40, 34))
        self.assertLess(np.abs(r["gains"] - r["q_gains"]).max(), 0.05)
        self.assertGreater(np.abs(r["gains"] - r["q_gains"]).max(), 0)

        raw = self.path("out.f32")
        infer_cli.main([pnm, self.path("v.pnf"), "-o", raw, "--threads", "1"])
        self.assertEqual(os.path.getsize(raw), 2 * 60 * 69 * 4)
        infer_cli.main([pnm, self.path("v.pnf"), "-o", self.path("s.npz"), "--stream", "--threads", "1"])
        out = np.fromfile(raw, "<f4").reshape(2, 60, 69)
        np.testing.assert_allclose(np.load(self.path("s.npz"))["gains"], out[..., :34], atol=1e-5)

    def test_device_choice(self):
        self.assertEqual(train_cli.pick_device("cpu").type, "cpu")
        if not torch.cuda.is_available():
            self.assertEqual(train_cli.pick_device("auto").type, "cpu")
            with self.assertRaisesRegex(SystemExit, "no CUDA device"):
                train_cli.pick_device("cuda")
        with self.assertRaisesRegex(SystemExit, "only cpu and cuda"):
            train_cli.pick_device("meta")
        with self.assertRaisesRegex(SystemExit, "not a device"):
            train_cli.pick_device("gpu")
        # Checkpoints are written with CPU tensors whatever the device, nested ones too.
        obj = {"a": torch.ones(2), "b": [torch.zeros(1), (torch.ones(1), 3)], "c": "x"}
        out = train_cli.on_cpu(obj)
        self.assertEqual(out["b"][1][1], 3)
        self.assertIsInstance(out["b"][1], tuple)
        self.assertTrue(all(t.device.type == "cpu" for t in (out["a"], out["b"][0], out["b"][1][0])))

    def test_init_fine_tunes_from_checkpoint(self):
        x, t = synthetic(4, 60, seed=1)
        write_pnf(self.path("a.pnf"), x, t)
        write_pnf(self.path("v.pnf"), *synthetic(2, 60, seed=2), [34, 16])
        base, tuned = self.path("base"), self.path("tuned")
        self._train(base, 1)
        train_cli.main(["--train", self.path("a.pnf"), "--val", self.path("v.pnf"), "--out", tuned,
                        "--init", os.path.join(base, "last.pt"), "--above-band-weight", "0.5",
                        "--epochs", "1", "--batch", "4", "--crop", "30", "50",
                        "--steps-per-epoch", "5", "--threads", "1", "--print-every", "1000"])
        a = torch.load(os.path.join(base, "last.pt"), weights_only=False)
        b = torch.load(os.path.join(tuned, "last.pt"), weights_only=False)
        # A new run (epoch 1 of its own) whose lr schedule went on from the checkpoint's step.
        self.assertEqual(b["epoch"], 1)
        self.assertEqual(b["step"], a["step"] + 5)
        self.assertEqual(b["config"], a["config"])
        torch.testing.assert_close(a["model"]["feat_mean"], b["model"]["feat_mean"])
        self.assertFalse(torch.equal(a["model"]["fc_g.weight"], b["model"]["fc_g.weight"]))

    def test_snapshots_and_average(self):
        x, t = synthetic(4, 60, seed=1)
        write_pnf(self.path("a.pnf"), x, t)
        write_pnf(self.path("v.pnf"), *synthetic(2, 60, seed=2), [34, 16])
        out = self.path("run")
        train_cli.main(["--train", self.path("a.pnf"), "--val", self.path("v.pnf"), "--out", out,
                        "--config", json.dumps(TINY), "--epochs", "3", "--batch", "4", "--crop", "30", "50", "--snapshots", "2",
                        "--steps-per-epoch", "3", "--threads", "1", "--print-every", "1000"])
        snaps = sorted(os.listdir(os.path.join(out, "snapshots")))
        self.assertEqual(snaps, ["epoch-0002.pt", "epoch-0003.pt"])
        paths = [os.path.join(out, "snapshots", f) for f in snaps]
        avg = self.path("avg.pt")
        self.assertEqual(average_cli.main(paths + ["-o", avg, "--force", "--val", self.path("v.pnf")]), 0)
        a, b, m = (torch.load(p, weights_only=False)["model"] for p in paths + [avg])
        for k in a:
            torch.testing.assert_close(m[k], (a[k] + b[k]) / 2, msg=k)
        self.assertTrue(np.isfinite(torch.load(avg, weights_only=False)["val_loss"]))
        self._check_pnm_from(avg)

    def _check_pnm_from(self, ckpt):
        pnm = self.path("avg.pnm")
        export_cli.main([ckpt, "-o", pnm])
        self._check_pnm(pnm)

    def test_train_glob_picks_up_new_files(self):
        data = self.path("data")
        os.makedirs(data)
        x, t = synthetic(2, 60, seed=1)
        write_pnf(os.path.join(data, "a.pnf"), x, t)
        with open(os.path.join(data, "partial.pnf"), "wb") as fh:
            fh.write(b"PNF1")  # a file the builder is still writing
        args = ["--train-glob", data, "--out", self.path("run"), "--config", json.dumps(TINY),
                "--batch", "2", "--crop", "30", "50", "--steps-per-epoch", "2",
                "--threads", "1", "--print-every", "1000"]
        train_cli.main(args + ["--epochs", "1"])
        write_pnf(os.path.join(data, "b.pnf"), x, t)
        train_cli.main(args + ["--epochs", "2"])
        with open(os.path.join(self.path("run"), "log.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r["files"], r["data_frames"]) for r in rows], [("1", "120"), ("2", "240")])

    def _check_pnm(self, pnm):
        with open(pnm, "rb") as fh:
            buf = fh.read()
        magic, ver, jlen, dlen = struct.unpack_from("<4s3I", buf)
        self.assertEqual((magic, ver), (b"PNM1", 1))
        data_at = (16 + jlen + 15) // 16 * 16
        self.assertEqual(len(buf), data_at + dlen + 4)
        self.assertEqual(zlib.crc32(buf[:-4]), struct.unpack_from("<I", buf, len(buf) - 4)[0])
        cfg, meta, tens = read_pnm(pnm)
        self.assertEqual(cfg, make_config(TINY))
        self.assertEqual(tens["conv1.w"].shape, (16, 5 * 16))
        self.assertEqual(tens["conv2.w"].dtype, np.int8)
        self.assertEqual(tens["gru2.w_ih"].shape, (48, 16))
        self.assertEqual(tens["gru_r.w_ih"].shape, (24, 24 + 16))
        self.assertEqual(tens["fc_g.w"].shape, (34, 24 + 3 * 16))
        self.assertEqual(tens["fc_vad.w_scale"].shape, (1,))
        self.assertEqual(np.abs(tens["fc_in.w"]).max(axis=1).tolist(), [127] * 16)
        bad = bytearray(buf)
        bad[data_at + 3] ^= 1
        with open(pnm + ".bad", "wb") as fh:
            fh.write(bytes(bad))
        with self.assertRaises(ValueError):
            read_pnm(pnm + ".bad")

    def test_conv_matrix_layout(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        w = m.conv1.conv.weight.detach().numpy()
        mat = conv_to_matrix(w)
        hist = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)  # oldest first
        expect = m.conv1(torch.from_numpy(hist)[None])[0, -1].detach().numpy()
        got = mat @ hist.reshape(-1) + m.conv1.conv.bias.detach().numpy()
        np.testing.assert_allclose(got, expect, atol=1e-5)
        self.assertEqual(mat[3, 2 * 16 + 7], w[3, 7, 2])

    def test_dequantized_close(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        export_model(m, os.path.join(self.dir, "t.pnm"))
        q, _ = dequantized_model(os.path.join(self.dir, "t.pnm"))
        for (n, a), (_, b) in zip(m.named_parameters(), q.named_parameters()):
            err = float((a - b).abs().max())
            self.assertLessEqual(err, float(a.abs().max()) / 254 + 1e-7, n)

    def test_normalization_folded_on_export(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        rng = np.random.default_rng(1)
        mean, std = rng.normal(2, 1, 70), rng.uniform(0.2, 2, 70)
        m.set_normalization(mean, std)
        x = torch.from_numpy((mean + std * rng.normal(size=(1, 50, 70))).astype(np.float32))
        export_model(m, os.path.join(self.dir, "n.pnm"))
        q, _ = dequantized_model(os.path.join(self.dir, "n.pnm"))
        self.assertEqual(float(q.feat_mean.abs().max()), 0.0)
        with torch.no_grad():
            a, b = m(x)[0], q(x)[0]
        self.assertLess(float((a - b).abs().max()), 0.02)


if __name__ == "__main__":
    unittest.main()
