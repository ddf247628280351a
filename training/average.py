"""Average the weights of several checkpoints of one run (checkpoint averaging).

    python3 -m training.average RUN/snapshots/epoch-00{41..45}.pt -o avg.pt
        [--val V.pnf --val-frames 60000]

Small-batch training ends on a noisy point of the loss surface; the mean of
the last few epochs' weights usually sits lower than any one of them. With
--val, prints the validation loss of every input and of the average (the
same loss as training, so the numbers compare with log.csv), and writes the
average only if it is the best of them unless --force.
"""
import argparse
import os
import sys

import torch

from .percepnet.data import eval_batches
from .percepnet.noise_floor import wants_noise_floor
from .percepnet.loss import add_loss_arguments, loss_weights
from .percepnet.model import PercepNet
from .percepnet.pnf import PnfFile
from .train import evaluate, save_atomic


def average_states(states):
    """Element-wise mean of state dicts with the same keys and shapes."""
    keys = states[0].keys()
    for s in states[1:]:
        if s.keys() != keys:
            raise ValueError("checkpoints have different parameters")
    return {k: sum(s[k].double() for s in states).div(len(states)).to(states[0][k].dtype) for k in keys}


def same_masks(cks):
    """The pruning state to carry into an average: only when every input was
    pruned with the same block masks (snapshots after the ramp), since the
    mean of weights that are zero in every input is zero in the same blocks.
    Inputs with other masks average into a denser model; they get none."""
    states = [c.get("prune") for c in cks]
    if states[0] is None:
        return None
    first = states[0]["masks"]
    for st in states[1:]:
        if st is None or st["masks"].keys() != first.keys() or \
                any(not torch.equal(st["masks"][k], first[k]) for k in first):
            print("warning: the inputs were pruned with different masks; the average carries none "
                  "(training.export writes it dense unless --sparse names matrices)", file=sys.stderr)
            return None
    return states[-1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ckpts", nargs="+")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--val", help=".pnf validation file")
    p.add_argument("--val-frames", type=int, default=60000)
    add_loss_arguments(p)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--force", action="store_true", help="write the average even if an input is better")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cks = [torch.load(c, map_location="cpu", weights_only=False) for c in args.ckpts]
    config = cks[0]["config"]
    if any(c["config"] != config for c in cks):
        raise SystemExit("checkpoints have different configs")
    avg = average_states([c["model"] for c in cks])
    out = {"model": avg, "config": config, "epoch": max(c.get("epoch", 0) for c in cks),
           "averaged": [os.path.basename(c) for c in args.ckpts]}
    prune = same_masks(cks)
    if prune is not None:
        out["prune"] = prune
    if args.val:
        val = PnfFile(args.val)
        weights = dict(loss_weights(args), lookahead=config["lookahead"])
        model = PercepNet(config)

        def loss(state):
            model.load_state_dict(state)
            return evaluate(model, eval_batches(val, 16, args.val_frames, config["lookahead"],
                                                         noise_floor=wants_noise_floor(config, val.n_feat)), weights)["total"]
        losses = [loss(c["model"]) for c in cks]
        for path, l in zip(args.ckpts, losses):
            print(f"{path}: val {l:.5f}")
        la = loss(avg)
        print(f"average of {len(cks)}: val {la:.5f}")
        out["val_loss"] = la
        if la > min(losses) and not args.force:
            print("the average is not better than the best input; not written (use --force)", file=sys.stderr)
            return 1
    save_atomic(out, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
