"""Export a checkpoint to an int8 model file (docs/FORMATS.md section 3).

    python3 -m training.export training/runs/NAME/best.pt -o weights/NAME.pnm
        [--float-ref REF.npz [--ref-pnf F.pnf] [--ref-frames 500]] [--sparse auto|none|M1,M2]
        [--weight-bits 8|7]

A checkpoint pruned by training.train --density carries its block masks;
its pruned matrices are then written block-sparse (format version 2) unless
--sparse none. --sparse M1,M2 names the sparse matrices explicitly.

--weight-bits 7 quantises every matrix the int8 kernels run (all but
fc_in.w) to [-63, 63] and marks the file weightBits 7 (docs/FORMATS.md): the
relaxed-SIMD build (build/percepnet-relaxed.wasm) then runs it with relaxed
SIMD's int8 dot product, with the same output bits as the plain build.

--float-ref writes the input features and the outputs of both the float
network and the dequantised int8 network, for parity tests of the engine.
"""
import argparse
import datetime
import os

import numpy as np
import torch

from .infer import load_model, run
from .percepnet.model import count_macs
from .percepnet.pnf import PnfFile
from .percepnet.pnm import dequantized_model, export_model
from .percepnet.prune import Pruner


def synthetic_features(n_frames, config, seed=0):
    """Deterministic features in the ranges of the real ones (log energies, coherences in [0,1])."""
    rng = np.random.default_rng(seed)
    nb, nf = config["nBands"], config["nFeatures"]
    x = np.zeros((1, n_frames, nf), np.float32)
    # Slowly varying log10 energies so the recurrent state sees structure.
    walk = np.cumsum(rng.normal(0, 0.3, (n_frames, nb)), axis=0) * 0.2
    x[0, :, :nb] = 2.0 + walk + rng.normal(0, 0.5, (n_frames, nb))
    x[0, :, nb:2 * nb] = rng.uniform(0, 1, (n_frames, nb))
    x[0, :, 2 * nb:] = rng.uniform(-0.5, 1, (n_frames, nf - 2 * nb))
    return x


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ckpt")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--float-ref", help="write features + float and int8 outputs to this .npz")
    p.add_argument("--ref-pnf", help="take the reference features from sequence 0 of this .pnf")
    p.add_argument("--ref-frames", type=int, default=500)
    p.add_argument("--sparse", default="auto",
                   help="matrices to store block-sparse: auto (those the checkpoint pruned), none, or a list")
    p.add_argument("--weight-bits", type=int, choices=(8, 7), default=8,
                   help="7: kernel matrices in [-63, 63] for the relaxed-SIMD build (default 8)")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    model, info = load_model(a.ckpt)
    prune = None
    if not a.ckpt.endswith(".pnm"):
        prune = torch.load(a.ckpt, map_location="cpu", weights_only=False).get("prune")
    if prune is not None:
        # Zero what the masks prune, whatever became of it since (an averaged
        # checkpoint): the file's blocks then follow the masks.
        Pruner.from_state(model, prune)
    if a.sparse == "auto":
        sparse = sorted(prune["masks"]) if prune else []
    elif a.sparse == "none":
        sparse = []
    else:
        sparse = [n.strip() for n in a.sparse.split(",") if n.strip()]
    n_params = sum(q.numel() for q in model.parameters())
    meta = {"source": os.path.abspath(a.ckpt),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "weights": n_params, "macsPerFrame": count_macs(model.config)}
    meta.update({k: float(v) if isinstance(v, float) else v for k, v in info.items()})
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if prune:
        meta["density"] = {k: round(float(v.float().mean()), 4) for k, v in sorted(prune["masks"].items())}
    size = export_model(model, a.out, meta, sparse, a.weight_bits)
    print(f"wrote {a.out}: {size} bytes, {n_params} weights" + (f", sparse: {', '.join(sparse)}" if sparse else "")
          + (", weightBits 7" if a.weight_bits == 7 else ""))
    if a.float_ref:
        if a.ref_pnf:
            f = PnfFile(a.ref_pnf)
            n = min(a.ref_frames, f.seq_len)
            feats = np.array(f.read_rows(0, 0, n)[None, :, :f.n_feat], np.float32)
        else:
            feats = synthetic_features(a.ref_frames, model.config)
        g, r, v = run(model, feats)
        qmodel, _ = dequantized_model(a.out)
        qg, qr, qv = run(qmodel, feats)
        np.savez(a.float_ref, features=feats[0], gains=g[0], strengths=r[0], vad=v[0],
                 q_gains=qg[0], q_strengths=qr[0], q_vad=qv[0])
        print(f"wrote {a.float_ref}: max |float - int8| gain {np.abs(g - qg).max():.4f} "
              f"strength {np.abs(r - qr).max():.4f}")


if __name__ == "__main__":
    main()
