"""training.widen: a widened network computes what the narrow one did, and then learns.

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import os
import tempfile
import unittest

import torch

from training import widen as widen_cli
from training.percepnet.model import PercepNet, make_config

torch.set_num_threads(1)
NARROW = {"dense": 16, "conv1": {"k": 5, "out": 12}, "conv2": {"k": 3, "out": 12},
          "gru": 12, "gruLayers": 3, "gruR": 8, "vad": True}


def narrow_model(seed=3):
    torch.manual_seed(seed)
    m = PercepNet(NARROW)
    with torch.no_grad():
        # Non-trivial normalisation and biases, as a trained model has.
        m.feat_mean.normal_()
        m.feat_scale.uniform_(0.5, 2.0)
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m


class WidenTest(unittest.TestCase):
    def test_same_outputs_sequence_and_streaming(self):
        old = narrow_model()
        new = widen_cli.widen_state(old, 20, seed=1)
        self.assertEqual(new.config["gru"], 20)
        self.assertEqual(new.config["conv1"]["out"], 20)
        self.assertEqual(new.config["gruR"], 8)
        x = torch.randn(2, 50, 70)
        with torch.no_grad():
            for a, b in zip(old(x, logits=True), new(x, logits=True)):
                torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
            so, sn = old.initial_state(2), new.initial_state(2)
            for t in range(5):
                (ao, so), (an, sn) = old.step(x[:, t], so, logits=True), new.step(x[:, t], sn, logits=True)
                for a, b in zip(ao, an):
                    torch.testing.assert_close(b, a, atol=1e-5, rtol=0)

    def test_new_units_are_live(self):
        # The new units must carry signal (else their outgoing weights get no gradient).
        old = narrow_model()
        new = widen_cli.widen_state(old, 20, seed=1)
        x = torch.randn(1, 30, 70)
        loss = sum(o.square().mean() for o in new(x, logits=True) if o is not None)
        loss.backward()
        g = new.fc_g.weight.grad
        self.assertGreater(g[:, 12:20].abs().sum().item(), 0)  # new c2 channels
        self.assertGreater(new.grus[1].weight_ih_l0.grad[:12, 12:].abs().sum().item(), 0)

    def test_a_wrong_widening_is_caught(self):
        # The check that the test above relies on can fail: perturb one zeroed weight.
        old = narrow_model()
        new = widen_cli.widen_state(old, 20, seed=1)
        with torch.no_grad():
            new.grus[0].weight_hh_l0[0, 15] = 0.5
        x = torch.randn(1, 40, 70)
        with torch.no_grad():
            diff = (old(x, logits=True)[0] - new(x, logits=True)[0]).abs().max().item()
        self.assertGreater(diff, 1e-4)

    def test_refuses_narrower_and_mixed_widths(self):
        with self.assertRaises(ValueError):
            widen_cli.widen_state(narrow_model(), 8)
        mixed = PercepNet(dict(NARROW, conv1={"k": 5, "out": 16}))
        with self.assertRaises(ValueError):
            widen_cli.widen_state(mixed, 20)

    def test_cli_writes_a_checkpoint_the_trainer_reads(self):
        old = narrow_model()
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "old.pt"), os.path.join(d, "wide.pt")
            torch.save({"model": old.state_dict(), "config": old.config, "epoch": 3}, src)
            widen_cli.main([src, "-o", dst, "--width", "16", "--step", "123"])
            ck = torch.load(dst, map_location="cpu", weights_only=False)
            self.assertEqual(ck["step"], 123)
            self.assertNotIn("optimizer", ck)
            self.assertEqual(ck["config"], make_config(dict(NARROW, conv1={"k": 5, "out": 16},
                                                          conv2={"k": 3, "out": 16}, gru=16)))
            m = PercepNet(ck["config"])
            m.load_state_dict(ck["model"])

    def test_cli_refuses_bad_files_and_writes_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            bad, dst = os.path.join(d, "bad.pt"), os.path.join(d, "wide.pt")
            with open(bad, "wb") as f:
                f.write(b"PK\x03\x04 not a checkpoint")
            for src in (bad, os.path.join(d, "missing.pt")):
                with self.assertRaises(SystemExit) as cm:
                    widen_cli.main([src, "-o", dst, "--width", "16"])
                self.assertIn("cannot read a PercepNet checkpoint", str(cm.exception.code))
            self.assertFalse(os.path.exists(dst))


if __name__ == "__main__":
    unittest.main()
