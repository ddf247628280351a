"""The PercepNet network of docs/FORMATS.md section 1, with configurable widths.

Everything is causal in time: convolutions see only the current and past
frames (zero history before the first frame), so the look-ahead comes from
delayed targets, exactly as the streaming wasm engine computes it.
"""
import re

import torch
from torch import nn
import torch.nn.functional as F

# DEFAULT_CONFIG and make_config live in topology.py (torch-free) and are re-exported here.
from .topology import DEFAULT_CONFIG, layer_specs, make_config  # noqa: F401


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
        spec = {s["name"]: s for s in layer_specs(cfg)}

        def lin(name):
            return nn.Linear(spec[name]["in"], spec[name]["out"])

        def gru(name):
            return nn.GRU(spec[name]["in"], spec[name]["out"], batch_first=True)

        def conv(name):
            s = spec[name]
            return CausalConv(s["in"] // s["k"], s["out"], s["k"])

        # Input normalisation used in training only; export folds it into fc_in
        # (see pnm.float_tensors), so the model file keeps the plain contract.
        self.register_buffer("feat_mean", torch.zeros(cfg["nFeatures"]))
        self.register_buffer("feat_scale", torch.ones(cfg["nFeatures"]))
        # Built in this order, not the engine's, because the order fixes which
        # random numbers each layer's initialisation draws for a given seed.
        self.fc_in = lin("fc_in")
        self.conv1 = conv("conv1")
        self.conv2 = conv("conv2")
        self.grus = nn.ModuleList([gru(f"gru{i + 1}") for i in range(cfg["gruLayers"])])
        self.gru_g = gru("gru_g")
        self.fc_g = lin("fc_g")
        self.gru_r = gru("gru_r")
        self.fc_r = lin("fc_r")
        self.fc_vad = lin("fc_vad") if spec["fc_vad"]["present"] else None

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
        """(file name, module) pairs for every present layer of topology.layer_specs.

        In the order the modules were built (gru_g, fc_g, gru_r, fc_r rather
        than the engine's gru_g, gru_r, fc_g, fc_r): that is the order of the
        tensor table export writes, which the host and the engine read by name.
        """
        named = [(s["name"], self._layer_module(s["name"])) for s in layer_specs(self.config) if s["present"]]
        built = {id(m): i for i, m in enumerate(self.modules())}
        return sorted(named, key=lambda nm: built[id(nm[1])])

    def _layer_module(self, name):
        trunk = re.fullmatch(r"gru(\d+)", name)
        mod = self.grus[int(trunk[1]) - 1] if trunk else getattr(self, name)
        return mod.conv if isinstance(mod, CausalConv) else mod

    def _heads(self, c2, trunk, hg, hr, logits):
        zg = self.fc_g(torch.cat([c2, *trunk, hg], dim=-1))
        zr = self.fc_r(hr)
        zv = self.fc_vad(trunk[-1]).squeeze(-1) if self.fc_vad is not None else None
        if logits:
            return zg, zr, zv
        return (torch.sigmoid(zg), torch.sigmoid(zr),
                torch.sigmoid(zv) if zv is not None else None)

    def forward(self, x, logits=False, hidden=False):
        """x: [B, T, nFeatures] -> (gains [B,T,nBands], strengths [B,T,nBands], vad [B,T] or None).

        With logits=True the pre-sigmoid values are returned (the loss works on
        them so that square roots of probabilities stay finite at 0 and 1).
        With hidden=True the last trunk GRU's output [B,T,gru] is returned
        too, as ((gains, strengths, vad), h): training-only heads read it.
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
        out = self._heads(c2, trunk, hg, hr, logits)
        return (out, h) if hidden else out

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
    m = 0
    for s in layer_specs(make_config(config)):
        if s["present"]:
            m += s["in"] * s["out"] if s["kind"] == "dense" else 3 * s["out"] * (s["in"] + s["out"])
    return m
