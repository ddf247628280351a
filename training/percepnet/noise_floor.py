"""The per-band noise floor of assembly/noise-floor.ts, bit for bit, in numpy.

Models whose config has nFeatures = 70 + 34 take it as extra inputs after the
paper's 70 features. It is a pure function of features 0..33 (the log10
noisy band energies) from the start of the stream, so .pnf dumps keep their
70 features and the trainer derives these from them: the engine runs the
same float32 operations in the same order (a*s + (1-a)*l, then minima), so
training and inference see identical values (training/tests/test_noise_floor.py
checks it against the built engine).
"""
import numpy as np

NOISE_SMOOTH = np.float32(0.7)
NOISE_BLOCK = 80
N_BASE_FEATURES = 70


def noise_floor(log_e):
    """log_e: [..., T, nb] float32 log10 band energies from a stream's first
    frame on; returns the floor [..., T, nb] float32."""
    x = np.asarray(log_e, np.float32)
    a = NOISE_SMOOTH
    b1 = np.float32(1) - NOISE_SMOOTH
    out = np.empty_like(x)
    t_len = x.shape[-2]
    if t_len == 0:
        return out
    s = x[..., 0, :].copy()
    cur, prev = s.copy(), s.copy()
    out[..., 0, :] = s
    pos = 1
    for t in range(1, t_len):
        s = a * s + b1 * x[..., t, :]
        if pos == NOISE_BLOCK:
            prev, cur, pos = cur, s.copy(), 1
        else:
            np.minimum(cur, s, out=cur)
            pos += 1
        out[..., t, :] = np.minimum(cur, prev)
    return out


def wants_noise_floor(config, n_feat):
    """Whether a model of `config` needs the floor appended to `n_feat` stored
    features: False when it takes them as they are, True when it takes
    n_feat + nBands; anything else is an error."""
    nf, nb = config["nFeatures"], config["nBands"]
    if nf == n_feat:
        return False
    if nf == n_feat + nb and n_feat == N_BASE_FEATURES:
        return True
    raise ValueError(f"the model takes {nf} features but the data has {n_feat} "
                     f"(only {N_BASE_FEATURES}, or {N_BASE_FEATURES + nb} with the noise floor, are known)")


def with_noise_floor(rows, n_feat, n_bands, start=0):
    """Insert the floor after the first `n_feat` columns of `rows`
    [..., T, recLen] (a stream from its first frame), keeping rows[start:]."""
    nf = noise_floor(rows[..., :n_bands])
    return np.concatenate([rows[..., start:, :n_feat], nf[..., start:, :], rows[..., start:, n_feat:]], -1)
