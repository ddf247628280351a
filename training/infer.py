"""Run a trained network over a .pnf file's features (parity reference for the engine).

    python3 -m training.infer MODEL FEATURES.pnf -o OUT [--seqs 0,3] [--stream]

MODEL is a checkpoint (.pt, float weights) or a model file (.pnm, its int8
weights dequantised, float arithmetic). OUT:
  *.npz      arrays gains [S,T,nBands], strengths [S,T,nBands], vad [S,T]
  a folder   gains.npy, strengths.npy, vad.npy (float32) inside it
  otherwise  raw little-endian float32, sequence-major, one record of
             nBands gains, nBands strengths, 1 vad per frame (2*nBands+1 floats;
             vad is 0 when the network has no VAD head)
"""
import argparse
import os

import numpy as np
import torch

from .percepnet.model import PercepNet
from .percepnet.noise_floor import wants_noise_floor, with_noise_floor
from .percepnet.pnf import PnfFile
from .percepnet.pnm import dequantized_model


def load_model(path):
    """Load a float model from a .pt checkpoint or a .pnm model file; returns (model, info)."""
    if str(path).endswith(".pnm"):
        return dequantized_model(path)
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = PercepNet(ck["config"])
    model.load_state_dict(ck["model"])
    model.eval()
    return model, {k: ck[k] for k in ("epoch", "val_loss", "best") if k in ck}


def run(model, features, stream=False):
    """features [S,T,nFeat] (from each stream's first frame) -> (gains,
    strengths, vad) float32 numpy, vad zeros without a head. A model that
    takes the noise floor gets it appended here, as the engine computes it."""
    features = np.asarray(features, np.float32)
    if wants_noise_floor(model.config, features.shape[-1]):
        features = with_noise_floor(features, features.shape[-1], model.config["nBands"])
    x = torch.from_numpy(features)
    with torch.no_grad():
        if stream:
            st, outs = model.initial_state(x.shape[0]), []
            for t in range(x.shape[1]):
                o, st = model.step(x[:, t], st)
                outs.append(o)
            g = torch.stack([o[0] for o in outs], 1)
            r = torch.stack([o[1] for o in outs], 1)
            v = torch.stack([o[2] for o in outs], 1) if outs and outs[0][2] is not None else None
        else:
            g, r, v = model(x)
    if v is None:
        v = torch.zeros(g.shape[:2])
    return g.numpy(), r.numpy(), v.numpy()


def write_outputs(out, g, r, v):
    """Write outputs in the format chosen by the name of `out` (see module doc)."""
    if out.endswith(".npz"):
        np.savez(out, gains=g, strengths=r, vad=v)
    elif out.endswith(os.sep) or os.path.isdir(out):
        os.makedirs(out, exist_ok=True)
        for name, a in (("gains", g), ("strengths", r), ("vad", v)):
            np.save(os.path.join(out, name + ".npy"), a.astype(np.float32))
    else:
        rec = np.concatenate([g, r, v[..., None]], axis=-1).astype("<f4")
        rec.tofile(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("pnf")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--seqs", help="comma-separated sequence indices (default: all)")
    p.add_argument("--stream", action="store_true", help="frame-by-frame forward, as the engine runs")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, _ = load_model(a.model)
    f = PnfFile(a.pnf)
    idx = [int(s) for s in a.seqs.split(",")] if a.seqs else list(range(f.n_seq))
    feats, _, _, _ = f.split(np.stack([f.read_rows(i, 0, f.seq_len) for i in idx]))
    write_outputs(a.out, *run(model, feats, a.stream))
    print(f"{len(idx)} sequences x {f.seq_len} frames -> {a.out}")


if __name__ == "__main__":
    main()
