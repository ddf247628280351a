"""The PercepNet network of docs/FORMATS.md section 1, with configurable widths.

Everything is causal in time: convolutions see only the current and past
frames (zero history before the first frame), so the look-ahead comes from
delayed targets, exactly as the streaming wasm engine computes it.
"""
import copy

import torch
from torch import nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "nFeatures": 70, "nBands": 34, "lookahead": 2,
    "dense": 128, "conv1": {"k": 5, "out": 512}, "conv2": {"k": 3, "out": 512},
    "gru": 512, "gruLayers": 3, "gruR": 128, "vad": True,
}


def make_config(overrides=None, width=None):
    """Return a full config: DEFAULT_CONFIG updated by `overrides`.

    `width`, if given, sets conv1.out, conv2.out and gru at once (the
    single knob that trades quality for speed); explicit overrides win.
    Nested dicts (conv1/conv2) are merged key by key.
    """
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if width is not None:
        cfg["conv1"]["out"] = cfg["conv2"]["out"] = cfg["gru"] = int(width)
    for key, val in (overrides or {}).items():
        if key not in cfg:
            raise ValueError(f"unknown config key {key!r}")
        if isinstance(cfg[key], dict):
            unknown = set(val) - set(cfg[key])
            if unknown:
                raise ValueError(f"unknown keys {sorted(unknown)} in {key}")
            cfg[key].update(val)
        else:
            cfg[key] = val
    if cfg["gruLayers"] < 1:
        raise ValueError("gruLayers must be >= 1")
    return cfg


class CausalConv(nn.Module):
    """Conv1d over time with k-1 zero frames of left padding."""

    def __init__(self, n_in, n_out, k):
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(n_in, n_out, k)

    def forward(self, x):
        # x: [B, T, C] -> [B, T, out]; output t sees inputs t-k+1..t.
        x = F.pad(x.transpose(1, 2), (self.k - 1, 0))
        return self.conv(x).transpose(1, 2)

    def step(self, x, hist):
        """One frame. `hist` holds the previous k-1 inputs [B, k-1, C] (oldest first)."""
        window = torch.cat([hist, x[:, None, :]], dim=1)  # [B, k, C]
        y = torch.einsum("bkc,ock->bo", window, self.conv.weight) + self.conv.bias
        return y, window[:, 1:]


class PercepNet(nn.Module):
    """PercepNet network; `forward` on whole sequences, `step` frame by frame."""

    def __init__(self, config=None):
        super().__init__()
        cfg = make_config(config)
        self.config = cfg
        nf, nb, d = cfg["nFeatures"], cfg["nBands"], cfg["dense"]
        c1, c2 = cfg["conv1"], cfg["conv2"]
        h, hr, n = cfg["gru"], cfg["gruR"], cfg["gruLayers"]
        # Input normalisation used in training only; export folds it into fc_in
        # (see pnm.float_tensors), so the model file keeps the plain contract.
        self.register_buffer("feat_mean", torch.zeros(nf))
        self.register_buffer("feat_scale", torch.ones(nf))
        self.fc_in = nn.Linear(nf, d)
        self.conv1 = CausalConv(d, c1["out"], c1["k"])
        self.conv2 = CausalConv(c1["out"], c2["out"], c2["k"])
        self.grus = nn.ModuleList(
            [nn.GRU(c2["out"] if i == 0 else h, h, batch_first=True) for i in range(n)])
        self.gru_g = nn.GRU(h, h, batch_first=True)
        self.fc_g = nn.Linear(c2["out"] + (n + 1) * h, nb)
        self.gru_r = nn.GRU(c2["out"] + h, hr, batch_first=True)
        self.fc_r = nn.Linear(hr, nb)
        self.fc_vad = nn.Linear(h, 1) if cfg["vad"] else None

    def set_normalization(self, mean, std):
        """Normalise inputs as (x - mean) / std; std floored so constant features stay finite."""
        with torch.no_grad():
            self.feat_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
            self.feat_scale.copy_(1.0 / torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-2))

    def fc_in_folded(self):
        """fc_in weight and bias with the input normalisation folded in (float tensors)."""
        w = self.fc_in.weight * self.feat_scale[None, :]
        return w, self.fc_in.bias - w @ self.feat_mean

    def layers(self):
        """(file name, module) pairs in the order of the model file's tensor table."""
        out = [("fc_in", self.fc_in), ("conv1", self.conv1.conv), ("conv2", self.conv2.conv)]
        out += [(f"gru{i + 1}", g) for i, g in enumerate(self.grus)]
        out += [("gru_g", self.gru_g), ("fc_g", self.fc_g),
                ("gru_r", self.gru_r), ("fc_r", self.fc_r)]
        if self.fc_vad is not None:
            out.append(("fc_vad", self.fc_vad))
        return out

    def _heads(self, c2, trunk, hg, hr, logits):
        zg = self.fc_g(torch.cat([c2, *trunk, hg], dim=-1))
        zr = self.fc_r(hr)
        zv = self.fc_vad(trunk[-1]).squeeze(-1) if self.fc_vad is not None else None
        if logits:
            return zg, zr, zv
        return (torch.sigmoid(zg), torch.sigmoid(zr),
                torch.sigmoid(zv) if zv is not None else None)

    def forward(self, x, logits=False):
        """x: [B, T, nFeatures] -> (gains [B,T,nBands], strengths [B,T,nBands], vad [B,T] or None).

        With logits=True the pre-sigmoid values are returned (the loss works on
        them so that square roots of probabilities stay finite at 0 and 1).
        """
        a = torch.tanh(self.fc_in((x - self.feat_mean) * self.feat_scale))
        a = torch.tanh(self.conv1(a))
        c2 = torch.tanh(self.conv2(a))
        trunk, h = [], c2
        for gru in self.grus:
            h, _ = gru(h)
            trunk.append(h)
        hg, _ = self.gru_g(h)
        hr, _ = self.gru_r(torch.cat([c2, h], dim=-1))
        return self._heads(c2, trunk, hg, hr, logits)

    def initial_state(self, batch=1):
        """Zero streaming state: conv histories and every GRU's hidden state."""
        cfg, p = self.config, next(self.parameters())
        z = lambda *s: torch.zeros(*s, dtype=p.dtype, device=p.device)
        return {
            "conv1": z(batch, cfg["conv1"]["k"] - 1, cfg["dense"]),
            "conv2": z(batch, cfg["conv2"]["k"] - 1, cfg["conv1"]["out"]),
            "grus": [z(1, batch, cfg["gru"]) for _ in self.grus],
            "gru_g": z(1, batch, cfg["gru"]),
            "gru_r": z(1, batch, cfg["gruR"]),
        }

    def step(self, x, state, logits=False):
        """One frame x: [B, nFeatures]; returns (outputs as in forward without T, new state)."""
        a = torch.tanh(self.fc_in((x - self.feat_mean) * self.feat_scale))
        a, h1 = self.conv1.step(a, state["conv1"])
        a = torch.tanh(a)
        c2, h2 = self.conv2.step(a, state["conv2"])
        c2 = torch.tanh(c2)
        trunk, hs, h = [], [], c2
        for gru, h0 in zip(self.grus, state["grus"]):
            out, hn = gru(h[:, None, :], h0)
            h = out[:, 0]
            trunk.append(h)
            hs.append(hn)
        og, hg = self.gru_g(h[:, None, :], state["gru_g"])
        orr, hr = self.gru_r(torch.cat([c2, h], dim=-1)[:, None, :], state["gru_r"])
        new = {"conv1": h1, "conv2": h2, "grus": hs, "gru_g": hg, "gru_r": hr}
        return self._heads(c2, trunk, og[:, 0], orr[:, 0], logits), new


def count_macs(config):
    """Multiply-adds per frame (weights touched once per 10 ms step)."""
    cfg = make_config(config)
    d, h, hr, n = cfg["dense"], cfg["gru"], cfg["gruR"], cfg["gruLayers"]
    c1, c2 = cfg["conv1"]["out"], cfg["conv2"]["out"]
    m = cfg["nFeatures"] * d + cfg["conv1"]["k"] * d * c1 + cfg["conv2"]["k"] * c1 * c2
    m += 3 * h * (c2 + h) + (n - 1) * 6 * h * h + 6 * h * h
    m += (c2 + (n + 1) * h) * cfg["nBands"]
    m += 3 * hr * (c2 + h + hr) + hr * cfg["nBands"]
    if cfg["vad"]:
        m += h
    return m
