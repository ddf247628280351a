"""The noise-floor inputs (training/percepnet/noise_floor.py): the recursion
against a plain per-element reference, the data path (crops, evaluation,
inference) computing it from a sequence's first frame, the zero-weight
widening, and training, resuming and the SNR head end to end.

The bit-for-bit match with the engine is checked from the TypeScript side
(tests/noise-floor.test.ts against a float reference, tests/parity.test.ts
through training.infer).
"""
import os
import tempfile
import unittest

import numpy as np
import torch

from training import infer as infer_cli
from training import train as train_cli
from training import widen as widen_cli
from training.percepnet.data import CropSampler, eval_batches, read_crop
from training.percepnet.loss import frame_snr_db, snr_loss, snr_target
from training.percepnet.model import PercepNet, make_config
from training.percepnet.noise_floor import NOISE_BLOCK, noise_floor, wants_noise_floor, with_noise_floor
from training.percepnet.pnf import PnfFile, write_pnf
from training.tests.test_smoke import TINY, synthetic

torch.set_num_threads(1)


def reference(log_e):
    """One band, one frame at a time, in float32 scalars."""
    f32 = np.float32
    a, b1 = f32(0.7), f32(1) - f32(0.7)
    t_len, nb = log_e.shape
    out = np.zeros_like(log_e)
    for b in range(nb):
        s = cur = prev = f32(0)
        pos = 0
        for t in range(t_len):
            x = f32(log_e[t, b])
            if pos == 0:
                s = cur = prev = x
            else:
                s = f32(f32(a * s) + f32(b1 * x))
                if pos == NOISE_BLOCK:
                    prev, cur = cur, s
                else:
                    cur = min(cur, s)
            out[t, b] = min(cur, prev)
            pos = 1 if pos == NOISE_BLOCK else pos + 1
    return out


class NoiseFloorTest(unittest.TestCase):
    def test_matches_reference_across_blocks(self):
        rng = np.random.default_rng(3)
        x = (rng.normal(2, 1.5, (2, 3 * NOISE_BLOCK + 17, 5))).astype(np.float32)
        got = noise_floor(x)
        for i in range(2):
            np.testing.assert_array_equal(got[i], reference(x[i]))

    def test_tracks_steady_level_under_bursts(self):
        t = np.arange(600)
        # level 1 between bursts, 4 during them (bursts 40 of every 60 frames)
        x = np.where(t % 60 < 40, 4.0, 1.0).astype(np.float32)[:, None]
        n = noise_floor(x)
        self.assertTrue(np.all(np.abs(n[200:, 0] - 1.0) < 0.2), n[200:, 0].max())
        # a step up of the floor is followed within two blocks (plus smoothing)
        y = np.where(t < 200, 1.0, 3.0).astype(np.float32)[:, None]
        m = noise_floor(y)
        self.assertLess(m[200 + 2 * NOISE_BLOCK + 5, 0], 3.0 + 1e-6)
        self.assertGreater(m[200 + 2 * NOISE_BLOCK + 5, 0], 2.9)
        self.assertLess(m[210, 0], 1.01)

    def test_wants_noise_floor(self):
        cfg = make_config()
        self.assertFalse(wants_noise_floor(cfg, 70))
        self.assertTrue(wants_noise_floor(make_config({"nFeatures": 104}), 70))
        with self.assertRaisesRegex(ValueError, "takes 80 features but the data has 70"):
            wants_noise_floor(make_config({"nFeatures": 80}), 70)


class DataPathTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        x, t = synthetic(3, 200, seed=4)
        x[..., :34] = np.abs(x[..., :34]) * 3  # energies of some spread
        self.x = x
        self.pnf = os.path.join(self.dir, "a.pnf")
        write_pnf(self.pnf, x, t)
        write_pnf(os.path.join(self.dir, "v.pnf"), *synthetic(2, 120, seed=5), [34, 16])

    def tearDown(self):
        self._tmp.cleanup()

    def test_crop_carries_floor_from_sequence_start(self):
        f = PnfFile(self.pnf)
        full = noise_floor(self.x[1, :, :34])
        crop = read_crop(f, 1, 50, 100, noise_floor=True)
        self.assertEqual(crop.shape, (100, 139 + 34))
        np.testing.assert_array_equal(crop[:, :70], self.x[1, 50:150])
        np.testing.assert_array_equal(crop[:, 70:104], full[50:150])
        np.testing.assert_array_equal(crop[:, 104:], f.read_rows(1, 50, 100)[:, 70:])
        np.testing.assert_array_equal(with_noise_floor(f.read_rows(1, 0, 150), 70, 34, 50), crop)
        b = CropSampler([f], batch=4, crop=(30, 40), rng=np.random.default_rng(0), noise_floor=True).sample()
        self.assertEqual(b["x"].shape[-1], 104)
        self.assertEqual(b["g"].shape[-1], 34)
        e = next(eval_batches(f, batch=4, noise_floor=True))
        np.testing.assert_array_equal(e["x"][0, :, 70:].numpy(), noise_floor(self.x[0, :, :34]))
        np.testing.assert_array_equal(e["g"].numpy(), next(eval_batches(f, batch=4))["g"].numpy())

    def test_widen_keeps_outputs_then_training_uses_the_floor(self):
        torch.manual_seed(0)
        old = PercepNet(dict(TINY))
        with torch.no_grad():
            old.feat_mean.uniform_(-1, 1)
        new = widen_cli.add_noise_floor_inputs(old)
        self.assertEqual(new.config["nFeatures"], 104)
        x = torch.randn(2, 50, 70)
        xn = torch.cat([x, torch.randn(2, 50, 34) * 5], -1)
        with torch.no_grad():
            for a, b in zip(old(x, logits=True), new(xn, logits=True)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
        torch.testing.assert_close(new.feat_mean[70:], old.feat_mean[:34])
        with self.assertRaisesRegex(ValueError, "expects a model of 70 features"):
            widen_cli.add_noise_floor_inputs(new)

        ck = os.path.join(self.dir, "old.pt")
        torch.save({"model": old.state_dict(), "config": old.config, "step": 7}, ck)
        widen_cli.main([ck, "-o", os.path.join(self.dir, "nf.pt"), "--noise-floor", "--step", "7"])
        run = os.path.join(self.dir, "run")
        args = ["--train", self.pnf, "--val", os.path.join(self.dir, "v.pnf"), "--out", run,
                "--init", os.path.join(self.dir, "nf.pt"), "--batch", "4", "--crop", "30", "50",
                "--steps-per-epoch", "5", "--threads", "1", "--print-every", "1000", "--lr", "1e-2",
                "--snr-weight", "0.2"]
        train_cli.main(args + ["--epochs", "1"])
        train_cli.main(args + ["--epochs", "2"])  # resumes, SNR head included
        ck2 = torch.load(os.path.join(run, "last.pt"), weights_only=False)
        self.assertEqual((ck2["epoch"], ck2["step"]), (2, 17))
        self.assertIn("aux", ck2)
        self.assertNotIn("aux.weight", ck2["model"])
        self.assertGreater(ck2["model"]["fc_in.weight"][:, 70:].abs().max().item(), 0)
        with self.assertRaisesRegex(SystemExit, "same --snr-weight"):
            train_cli.main(args[:-2] + ["--epochs", "3"])
        # inference appends the floor itself, as the engine computes it
        out = os.path.join(self.dir, "o.npz")
        infer_cli.main([os.path.join(run, "last.pt"), self.pnf, "-o", out, "--threads", "1"])
        self.assertEqual(np.load(out)["gains"].shape, (3, 200, 34))


class SnrHeadTest(unittest.TestCase):
    def test_frame_snr_from_gains(self):
        # one frame, two valid bands of energy 100 and 100 (16-bit units): gains
        # sqrt(0.5) and 0 give speech 50, noise 150: -4.77 dB
        x = torch.zeros(1, 3, 70)
        x[0, 0, :34] = float(np.log10(100 + 1e-2))
        g = torch.zeros(1, 3, 34)
        g[0, 2, 0] = 0.5 ** 0.5
        band_mask = torch.zeros(1, 34, dtype=torch.bool)
        band_mask[0, :2] = True
        d = frame_snr_db(g, x, band_mask, 2)
        self.assertAlmostEqual(float(d[0, 2]), 10 * np.log10(50 / 150), places=3)
        self.assertAlmostEqual(float(d[0, 0]), 0.0, places=3)  # no energy: 0 dB
        t = snr_target(torch.tensor([-30.0, -10.0, 10.0, 30.0, 50.0]))
        torch.testing.assert_close(t, torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]))
        batch = {"g": g, "x": x, "band_mask": band_mask, "time_mask": torch.tensor([[False, False, True]])}
        good = snr_loss(torch.tensor([[9.0, 9.0, -9.0]]), batch, 2)
        bad = snr_loss(torch.tensor([[-9.0, -9.0, 9.0]]), batch, 2)
        self.assertLess(float(good), float(bad))


if __name__ == "__main__":
    unittest.main()
