"""Training speed per width: seconds of training per 100k frames on this CPU.

    python3 -m training.bench --widths 96 128 192 256 --threads 1 2

Width W sets conv1.out = conv2.out = gru = W (dense 128, gruR 128, 3 trunk
GRUs, as in docs/FORMATS.md). Each measurement is forward + backward +
AdamW step on batches of --batch crops of --frames frames, after one warm-up step.
"""
import argparse
import time

import torch

from .percepnet.loss import percepnet_loss
from .percepnet.model import PercepNet, count_macs, make_config


def time_width(width, threads, batch, frames, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = PercepNet(make_config(width=width))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    b = {"x": torch.randn(batch, frames, 70), "g": torch.rand(batch, frames, 34),
         "r": torch.rand(batch, frames, 34), "v": (torch.rand(batch, frames) > 0.5).float(),
         "time_mask": torch.ones(batch, frames, dtype=torch.bool),
         "band_mask": torch.ones(batch, 34, dtype=torch.bool)}
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss, _ = percepnet_loss(*model(b["x"], logits=True), b)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    per_frame = min(times) / (batch * frames)
    return per_frame * 1e5, sum(p.numel() for p in model.parameters()), count_macs(model.config)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--widths", type=int, nargs="+", default=[96, 128, 192, 256])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--frames", type=int, default=500)
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args(argv)
    print("| width | weights | MACs/frame | threads | s per 100k frames |")
    print("|---|---|---|---|---|")
    for w in a.widths:
        for th in a.threads:
            s, n, macs = time_width(w, th, a.batch, a.frames, a.steps)
            print(f"| {w} | {n} | {macs} | {th} | {s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
