"""Train PercepNet on .pnf feature dumps.

    python3 -m training.train --train A.pnf [B.pnf ...] [--train-glob DIR_OR_GLOB]
        --val V.pnf --out training/runs/NAME --config '{"gru": 128}'
        --epochs 30 --batch 32 --lr 1e-3 --threads 2

Re-running the same command resumes from OUT/last.pt. See training/README.md.

Pruning (model format v2, block-sparse): --density gru=0.3,conv=0.5 prunes
those matrices in 4 x 16 blocks down to the given kept fraction, on a cubic
ramp from --prune-start to --prune-end (steps of this run); see
training/percepnet/prune.py. training.export then writes them sparse.
"""
import argparse
import csv
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

from .percepnet.data import CropSampler, eval_batches, expand_paths, feature_stats
from .percepnet.loss import add_loss_arguments, loss_weights, percepnet_loss, snr_loss
from .percepnet.model import PercepNet, count_macs, make_config
from .percepnet.noise_floor import wants_noise_floor
from .percepnet.pnf import PnfFile
from .percepnet.prune import Pruner, parse_density, resolve_targets

LOG_FIELDS = ["epoch", "train_loss", "val_loss", "seconds", "lr", "steps", "frames",
              "val_gain", "val_strength", "val_vad", "files", "data_frames"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", nargs="*", default=[], help=".pnf training files")
    p.add_argument("--train-glob", action="append", default=[],
                   help="directory or glob of .pnf files, re-read every epoch (repeatable)")
    p.add_argument("--val", help=".pnf validation file (default: rank by train loss)")
    p.add_argument("--out", required=True, help="run directory (checkpoints, log.csv)")
    p.add_argument("--config", default="{}", help="network config overrides as JSON")
    p.add_argument("--width", type=int, help="set conv1.out = conv2.out = gru at once")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--crop", type=int, nargs=2, default=[400, 1000], metavar=("MIN", "MAX"))
    p.add_argument("--steps-per-epoch", type=int, default=0,
                   help="batches per epoch (default: enough crops to cover the data once)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-decay", type=float, default=1e-3,
                   help="lr = lr0 / (1 + decay * step)")
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping")
    add_loss_arguments(p)
    p.add_argument("--init", help="start a new run from this checkpoint's weights and, if it has "
                   "them, optimizer moments (fine-tuning: epochs, best and the log start afresh; the lr "
                   "schedule goes on from its step, 0 if it records none)")
    p.add_argument("--snapshots", type=int, default=0,
                   help="keep the weights of the last K epochs in OUT/snapshots/ (for training.average)")
    p.add_argument("--patience", type=int, default=6, help="epochs without val improvement")
    p.add_argument("--val-frames", type=int, default=100000, help="cap on validation frames")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu",
                   help="torch device: cpu (default), cuda, cuda:N, or auto (cuda when available)")
    p.add_argument("--density", help="prune to these kept fractions of 4x16 blocks: groups gru, gru_ih, "
                   "gru_hh, conv, dense or file names (gru1.w_hh), e.g. gru=0.3,conv=0.5, or a JSON "
                   "object or file; fc_in.w is never pruned")
    p.add_argument("--prune-start", type=int, default=0, help="step of this run where the ramp starts")
    p.add_argument("--prune-end", type=int, default=20000, help="step of this run where the targets are reached")
    p.add_argument("--prune-every", type=int, default=100, help="steps between mask updates during the ramp")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--print-every", type=float, default=30.0, help="seconds between progress lines")
    return p.parse_args(argv)


def on_cpu(obj):
    """A copy of a (nested) checkpoint object with every tensor on the CPU, so
    a checkpoint written by a GPU run loads anywhere without map_location."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: on_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(on_cpu(v) for v in obj)
    return obj


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(on_cpu(obj), tmp)
    os.replace(tmp, path)


def pick_device(name):
    """The torch.device for --device; a clear error instead of a late CUDA crash."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise SystemExit(f"--device {name}: not a device; use cpu, cuda, cuda:N or auto") from None
    if dev.type not in ("cpu", "cuda"):
        raise SystemExit(f"--device {name}: only cpu and cuda are supported")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: this torch build or machine has no CUDA device")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise SystemExit(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
    return dev


def to_device(batch, dev):
    return batch if dev.type == "cpu" else {k: v.to(dev, non_blocking=True) for k, v in batch.items()}


def rng_state(np_rng):
    return {"torch": torch.get_rng_state(), "numpy": np_rng.bit_generator.state,
            "python": random.getstate()}


def set_rng_state(state, np_rng):
    torch.set_rng_state(state["torch"])
    np_rng.bit_generator.state = state["numpy"]
    random.setstate(state["python"])


def open_training_files(paths):
    """Open every readable .pnf; a file still being written by the dataset
    builder fails the size check and is skipped until a later epoch."""
    files = []
    for p in paths:
        try:
            files.append(PnfFile(p))
        except (ValueError, OSError) as e:
            print(f"skipping {p}: {e}", file=sys.stderr)
    return files


def evaluate(model, batches, weights, dev=torch.device("cpu")):
    """Mean loss (and parts) over batches, weighted by valid frames."""
    model.eval()
    sums, n = {}, 0.0
    with torch.no_grad():
        for b in batches:
            b = to_device(b, dev)
            _, parts = percepnet_loss(*model(b["x"], logits=True), b, weights)
            w = float(b["time_mask"].sum())
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v) * w
            n += w
    model.train()
    return {k: v / max(n, 1.0) for k, v in sums.items()}


def train(args):
    weights = loss_weights(args)
    dev = pick_device(args.device)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    last_path, best_path = os.path.join(args.out, "last.pt"), os.path.join(args.out, "best.pt")
    log_path = os.path.join(args.out, "log.csv")
    np_rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    state = torch.load(last_path, map_location="cpu", weights_only=False) if os.path.exists(last_path) else None
    if state is not None and not all(k in state for k in ("optimizer", "rng", "bad_epochs")):
        # A slim checkpoint (training.slim, training.average) cannot continue a run bit-identically.
        raise SystemExit(f"{last_path} has no optimizer and rng state, so it cannot resume a run; "
                         f"start a new run from it with --init")
    # A fine-tuning start: only when there is no run to resume.
    init = torch.load(args.init, map_location="cpu", weights_only=False) if state is None and args.init else None
    source = state if state is not None else init
    if source is not None:
        config = source["config"]
        asked = make_config(json.loads(args.config), args.width)
        if asked != config and (args.config != "{}" or args.width):
            print(f"warning: using the checkpoint's config, not {asked}", file=sys.stderr)
    else:
        config = make_config(json.loads(args.config), args.width)
    # On the device before the optimizer is made, so the optimizer state loaded below lands there too.
    weights["lookahead"] = config["lookahead"]  # the energy loss aligns features with targets
    model = PercepNet(config).to(dev)
    # A training-only head (loss.snr_loss): kept in the run's checkpoints under
    # "aux", never in the model, so the model file and engine are unchanged.
    aux = torch.nn.Linear(config["gru"], 1).to(dev) if weights["snr"] > 0 else None
    params = list(model.parameters()) + (list(aux.parameters()) if aux is not None else [])
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    epoch, step, best, bad = 0, 0, math.inf, 0
    if source is not None:
        model.load_state_dict(source["model"])
        if aux is not None and "aux" in source:
            aux.load_state_dict(source["aux"])
        if state is not None and (aux is not None) != ("aux" in state):
            raise SystemExit(f"{last_path} was {'' if 'aux' in state else 'not '}trained with an SNR head; "
                             f"resume it with the same --snr-weight")
        if "optimizer" in source and (state is not None or aux is None):
            opt.load_state_dict(source["optimizer"])
    if state is not None:
        epoch, step, best, bad = state["epoch"], state["step"], state["best"], state["bad_epochs"]
        set_rng_state(state["rng"], np_rng)
        print(f"resumed from {last_path}: epoch {epoch}, step {step}, best {best:.5f}")
    elif init is not None:
        step = init.get("step", 0)
        fresh = "" if "optimizer" in init else ", fresh optimizer"
        print(f"initialised from {args.init} (epoch {init.get('epoch')}, step {step}{fresh})")
    pruner = None
    if state is not None and "prune" in state:
        pruner = Pruner.from_state(model, state["prune"])
    elif state is not None and args.density:
        print(f"warning: {last_path} was not pruned; a resumed run keeps its schedule, --density is "
              f"ignored (start a new run with --init)", file=sys.stderr)
    elif state is None and args.density:
        pruner = Pruner(model, resolve_targets(model, parse_density(args.density)), args.prune_start,
                        args.prune_end, args.prune_every, origin=step)
        if init is not None and "prune" in init:
            # Already pruned blocks stay pruned; the new ramp goes on from them.
            pruner.masks = dict(Pruner.from_state(model, init["prune"]).masks)
    elif init is not None and "prune" in init:
        # Fine-tuning a pruned model without a new schedule: its masks stay as they are.
        pruner = Pruner.from_state(model, init["prune"], frozen=True)
    if pruner is not None:
        print(f"pruning {json.dumps(pruner.targets)} from step {pruner.origin + pruner.start} "
              f"to {pruner.origin + pruner.end}, masks every {pruner.every} steps")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"config {json.dumps(config)}\n{n_params} weights, {count_macs(config)} MACs/frame, on {dev}")

    val = PnfFile(args.val) if args.val else None
    if not os.path.exists(log_path):
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(LOG_FIELDS)

    norm_set = False
    while epoch < args.epochs:
        if bad >= args.patience:
            print(f"early stop: no improvement for {bad} epochs")
            break
        files = open_training_files(expand_paths(args.train, args.train_glob))
        if not files:
            raise SystemExit("no readable training files")
        if source is None and epoch == 0 and not norm_set:
            # Stats from a fixed seed so a resumed run need not recompute them.
            mean, std = feature_stats(files, rng=np.random.default_rng(args.seed))
            if wants_noise_floor(config, len(mean)):
                # The floor is in the units of the band energies it follows.
                nb = config["nBands"]
                mean, std = np.concatenate([mean, mean[:nb]]), np.concatenate([std, std[:nb]])
            model.set_normalization(mean, std)
            norm_set = True
        try:
            floor = wants_noise_floor(config, files[0].n_feat)
        except ValueError as e:
            raise SystemExit(f"{files[0].path}: {e}") from None
        sampler = CropSampler(files, args.batch, tuple(args.crop), config["lookahead"], np_rng, floor)
        n_steps = args.steps_per_epoch or sampler.batches_per_epoch()
        print(f"epoch {epoch + 1}/{args.epochs}: {len(files)} files, {sampler.frames} frames, "
              f"{n_steps} steps")
        t0 = last_print = time.time()
        tot, frames = 0.0, 0
        model.train()
        for i in range(n_steps):
            b = to_device(sampler.sample(), dev)
            lr = args.lr / (1.0 + args.lr_decay * step)
            for g in opt.param_groups:
                g["lr"] = lr
            if aux is None:
                loss, _ = percepnet_loss(*model(b["x"], logits=True), b, weights)
            else:
                out, h = model(b["x"], logits=True, hidden=True)
                loss, _ = percepnet_loss(*out, b, weights)
                loss = loss + weights["snr"] * snr_loss(aux(h).squeeze(-1), b, config["lookahead"])
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, args.clip)
            opt.step()
            step += 1
            if pruner is not None:
                pruner.update(step)
            tot += loss.item()
            frames += b["x"].shape[0] * b["x"].shape[1]
            now = time.time()
            if now - last_print >= args.print_every or i == n_steps - 1:
                last_print = now
                print(f"  step {i + 1}/{n_steps} loss {tot / (i + 1):.5f} lr {lr:.2e} "
                      f"{frames / (now - t0):.0f} frames/s", flush=True)
        train_loss = tot / n_steps
        vparts = evaluate(model, eval_batches(val, args.batch, args.val_frames, config["lookahead"],
                                                 noise_floor=wants_noise_floor(config, val.n_feat)),
                          weights, dev) if val else {}
        val_loss = vparts.get("total", train_loss)
        epoch += 1
        secs = time.time() - t0
        # While the pruning ramp runs, the loss of a denser model is no fair
        # rival: those epochs neither become best.pt nor use up patience.
        eligible = pruner is None or pruner.at_target(step)
        improved = eligible and val_loss < best
        extra = {"prune": pruner.state_dict()} if pruner is not None else {}
        run_extra = {"aux": aux.state_dict()} if aux is not None else {}
        if improved:
            best, bad = val_loss, 0
            save_atomic({"model": model.state_dict(), "config": config, "epoch": epoch,
                         "val_loss": val_loss, "args": vars(args), **extra}, best_path)
        elif eligible:
            bad += 1
        if args.snapshots > 0:
            snap_dir = os.path.join(args.out, "snapshots")
            os.makedirs(snap_dir, exist_ok=True)
            save_atomic({"model": model.state_dict(), "config": config, "epoch": epoch,
                         "val_loss": val_loss, **extra}, os.path.join(snap_dir, f"epoch-{epoch:04d}.pt"))
            for old in sorted(f for f in os.listdir(snap_dir) if f.startswith("epoch-"))[:-args.snapshots]:
                os.remove(os.path.join(snap_dir, old))
        save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "config": config,
                     "epoch": epoch, "step": step, "best": best, "bad_epochs": bad,
                     "rng": rng_state(np_rng), "args": vars(args), **extra, **run_extra}, last_path)
        with open(log_path, "a", newline="") as f:
            csv.writer(f).writerow([epoch, f"{train_loss:.6f}", f"{val_loss:.6f}", f"{secs:.1f}",
                                    f"{lr:.3e}", step, frames] +
                                   [f"{vparts[k]:.6f}" if k in vparts else ""
                                    for k in ("gain", "strength", "vad")] +
                                   [len(files), sampler.frames])
        dens = ("" if pruner is None else " density " + ",".join(
            f"{k}={v:.2f}" for k, v in sorted(pruner.densities().items())))
        print(f"epoch {epoch}: train {train_loss:.5f} val {val_loss:.5f} "
              f"{'(best) ' if improved else ''}{secs:.0f} s{dens}", flush=True)
    return best


def main(argv=None):
    train(parse_args(argv))


if __name__ == "__main__":
    main()
