"""Widen a trained network without changing what it computes (Net2Net-style).

    python3 -m training.widen training/runs/x7/last.pt -o wide.pt --width 256 [--step 25000]
    python3 -m training.widen small.pt -o small-nf.pt --noise-floor [--step 64200]

A wider network trained from scratch on two CPU cores would need the ~12 h
the shipped width-192 model took. Widening keeps every trained weight and
adds units whose *outgoing* weights are zero: the new conv channels and GRU
units compute something (their incoming weights get a fresh random
initialisation, so they carry signal and receive gradients), but nothing
reads them yet, so the widened model's outputs equal the old one's exactly.
Training then starts from the old model's quality and can only put the new
capacity to use.

"Outgoing" means, for a new unit of a layer: the next layers' input columns
for it, and in a GRU also the recurrent columns of the old units for it.
The input normalisation, the dense input layer and gru_r's width (gruR)
stay as they are.

--noise-floor gives the network the 34 noise-floor inputs
(assembly/noise-floor.ts; config nFeatures 70 -> 104) with zero weights in
fc_in, so it computes what it did until training finds a use for them; their
normalisation is that of the band energies they follow.

The output checkpoint has no optimizer state (AdamW starts afresh: the
moments of the old shapes do not fit) and its step count is --step, which
sets where the trainer's 1/(1 + decay * step) learning-rate schedule
resumes: the new units need a larger rate than the end of a long run.
"""
import argparse
import sys

import torch

from .percepnet.model import PercepNet, make_config
from .train import save_atomic


def _gru_blocks(w, h):
    """Split a PyTorch GRU [3H, ...] tensor into its r, z, n gate blocks."""
    return [w[i * h:(i + 1) * h] for i in range(3)]


def widen_state(old_model, width, seed=0):
    """Return a PercepNet of `width` whose outputs equal `old_model`'s."""
    old_cfg = old_model.config
    h0 = old_cfg["gru"]
    c10, c20 = old_cfg["conv1"]["out"], old_cfg["conv2"]["out"]
    if not (c10 == c20 == h0):
        raise ValueError("widening expects conv1.out = conv2.out = gru (a --width model)")
    if width < h0:
        raise ValueError(f"--width {width} is narrower than the checkpoint's {h0}")
    cfg = make_config(old_cfg)  # a deep copy, checked like any config
    cfg["conv1"]["out"] = cfg["conv2"]["out"] = cfg["gru"] = width
    torch.manual_seed(seed)
    new = PercepNet(cfg)
    o = dict(old_model.state_dict())
    s = new.state_dict()
    h, n = width, cfg["gruLayers"]

    with torch.no_grad():
        s["feat_mean"].copy_(o["feat_mean"])
        s["feat_scale"].copy_(o["feat_scale"])
        for k in ("fc_in.weight", "fc_in.bias", "fc_r.weight", "fc_r.bias"):
            s[k].copy_(o[k])
        # conv1: old output channels copied; new ones keep their random rows.
        s["conv1.conv.weight"][:h0] = o["conv1.conv.weight"]
        s["conv1.conv.bias"][:h0] = o["conv1.conv.bias"]
        # conv2: reads conv1's new channels with zero weight.
        w = s["conv2.conv.weight"]
        w[:h0, :h0] = o["conv2.conv.weight"]
        w[:h0, h0:] = 0
        s["conv2.conv.bias"][:h0] = o["conv2.conv.bias"]

        def widen_gru(prefix, in_map, hid_old, hid_new):
            """in_map: list of (new_start, old_start, length) input spans copied from the old layer;
            every other input column of an old unit is zeroed."""
            wih, whh = s[f"{prefix}.weight_ih_l0"], s[f"{prefix}.weight_hh_l0"]
            oih, ohh = o[f"{prefix}.weight_ih_l0"], o[f"{prefix}.weight_hh_l0"]
            for nb, ob in zip(_gru_blocks(wih, hid_new), _gru_blocks(oih, hid_old)):
                nb[:hid_old] = 0
                for ns, os_, ln in in_map:
                    nb[:hid_old, ns:ns + ln] = ob[:, os_:os_ + ln]
            for nb, ob in zip(_gru_blocks(whh, hid_new), _gru_blocks(ohh, hid_old)):
                nb[:hid_old] = 0
                nb[:hid_old, :hid_old] = ob
            for kind in ("ih", "hh"):
                nbias = _gru_blocks(s[f"{prefix}.bias_{kind}_l0"], hid_new)
                obias = _gru_blocks(o[f"{prefix}.bias_{kind}_l0"], hid_old)
                for nb, ob in zip(nbias, obias):
                    nb[:hid_old] = ob

        # Each trunk GRU reads the previous layer's h (conv2's for the first).
        for i in range(n):
            widen_gru(f"grus.{i}", [(0, 0, h0)], h0, h)
        widen_gru("gru_g", [(0, 0, h0)], h0, h)
        hr = cfg["gruR"]
        # gru_r reads [c2, h_last]: two spans move apart; its own width is unchanged.
        widen_gru("gru_r", [(0, 0, h0), (h, h0, h0)], hr, hr)
        # fc_g reads [c2, trunk 1..n, hg]: n + 2 spans of h0 old columns each.
        w = s["fc_g.weight"]
        w.zero_()
        for j in range(n + 2):
            w[:, j * h:j * h + h0] = o["fc_g.weight"][:, j * h0:(j + 1) * h0]
        s["fc_g.bias"].copy_(o["fc_g.bias"])
        if "fc_vad.weight" in s:
            s["fc_vad.weight"].zero_()
            s["fc_vad.weight"][:, :h0] = o["fc_vad.weight"]
            s["fc_vad.bias"].copy_(o["fc_vad.bias"])
    new.load_state_dict(s)
    return new


def add_noise_floor_inputs(old_model):
    """Return a PercepNet that also takes the noise floor, equal in output to `old_model`."""
    cfg = make_config(old_model.config)
    nf, nb = cfg["nFeatures"], cfg["nBands"]
    if nf != 70:
        raise ValueError(f"--noise-floor expects a model of 70 features, this one takes {nf}")
    cfg["nFeatures"] = nf + nb
    new = PercepNet(cfg)
    o, s = old_model.state_dict(), new.state_dict()
    with torch.no_grad():
        for k, v in o.items():
            if k not in ("feat_mean", "feat_scale", "fc_in.weight"):
                s[k].copy_(v)
        s["feat_mean"].copy_(torch.cat([o["feat_mean"], o["feat_mean"][:nb]]))
        s["feat_scale"].copy_(torch.cat([o["feat_scale"], o["feat_scale"][:nb]]))
        s["fc_in.weight"].zero_()
        s["fc_in.weight"][:, :nf] = o["fc_in.weight"]
    new.load_state_dict(s)
    return new


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ckpt", help="checkpoint of a --width model (last.pt, a snapshot or an average)")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--width", type=int, help="the new width of conv1, conv2 and the GRUs")
    p.add_argument("--noise-floor", action="store_true", help="add the 34 noise-floor inputs")
    p.add_argument("--step", type=int, default=0,
                   help="step count written to the checkpoint (where the lr schedule resumes)")
    p.add_argument("--seed", type=int, default=0, help="seed of the new units' random weights")
    args = p.parse_args(argv)
    if args.step < 0:
        sys.exit(f"error: --step must be >= 0, got {args.step}")
    try:
        src = torch.load(args.ckpt, map_location="cpu", weights_only=False)
        old = PercepNet(src["config"])
        old.load_state_dict(src["model"])
    except Exception as e:  # missing, truncated or foreign files all end here
        sys.exit(f"error: cannot read a PercepNet checkpoint from {args.ckpt}: {e}")
    if args.width is None and not args.noise_floor:
        sys.exit("error: give --width, --noise-floor or both")
    try:
        new = widen_state(old, args.width, args.seed) if args.width is not None else old
        if args.noise_floor:
            new = add_noise_floor_inputs(new)
    except ValueError as e:
        sys.exit(f"error: {e}")
    nf, nb = old.config["nFeatures"], old.config["nBands"]
    x = torch.randn(2, 200, nf)
    # The new inputs get plausible values (the band energies' own): with zero
    # weights any value must leave the outputs as they were.
    xn = torch.cat([x, x[..., :nb] - 0.5], -1) if args.noise_floor else x
    with torch.no_grad():
        a, b = old(x, logits=True), new(xn, logits=True)
    err = max((u - v).abs().max().item() for u, v in zip(a, b) if u is not None)
    what = []
    if args.width is not None:
        what.append(f"widened {old.config['gru']} -> {args.width}")
    if args.noise_floor:
        what.append(f"inputs {nf} -> {new.config['nFeatures']}")
    print(f"{', '.join(what)}: "
          f"{sum(t.numel() for t in old.parameters())} -> {sum(t.numel() for t in new.parameters())} weights, "
          f"max logit change {err:.2e}")
    save_atomic({"model": new.state_dict(), "config": new.config, "epoch": 0, "step": args.step,
                 "widened_from": args.ckpt}, args.out)


if __name__ == "__main__":
    main()
