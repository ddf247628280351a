"""The network's layers as data, without torch or numpy.

A line-for-line port of host/model-file.ts (DEFAULT_CONFIG, layerSpecs,
tensorSpecs), which is the one description of the network: the wasm engine
is tested against it in tests/topology.test.ts, and this file against it by
training/tests/test_topology.py through layers.json, which TypeScript writes
(tools/layers-json.ts). model.py builds its modules from `layer_specs`, so
the torch model, the model file and the engine cannot drift apart unseen.

Kept free of torch so that the comparison runs wherever Python does.
"""
import copy

# The configuration of weights/default.pnm (DEFAULT_CONFIG in host/model-file.ts).
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


def layer_specs(cfg):
    """The layers of a config in engine order, as dicts with the keys of LayerSpec.

    name, kind ("dense" | "gru"), out (dense: outputs, gru: hidden width),
    in (k x the summed widths of `inputs`), k (frames seen at once: the conv
    kernel, else 1), inputs (layers concatenated into the input, "features"
    the network input), activation, present (fc_vad only with cfg["vad"]).
    """
    specs, width = [], {"features": cfg["nFeatures"]}

    def add(name, kind, out, inputs, activation, k=1, present=True):
        missing = [n for n in inputs if n not in width]
        if missing:
            raise ValueError(f"layer_specs: {name} reads {missing[0]}, which is not an earlier layer")
        specs.append({"name": name, "kind": kind, "out": out, "in": k * sum(width[n] for n in inputs),
                      "k": k, "inputs": list(inputs), "activation": activation, "present": present})
        width[name] = out

    trunk = [f"gru{i + 1}" for i in range(cfg["gruLayers"])]
    last = trunk[-1]
    add("fc_in", "dense", cfg["dense"], ["features"], "tanh")
    add("conv1", "dense", cfg["conv1"]["out"], ["fc_in"], "tanh", cfg["conv1"]["k"])
    add("conv2", "dense", cfg["conv2"]["out"], ["conv1"], "tanh", cfg["conv2"]["k"])
    for i, name in enumerate(trunk):
        add(name, "gru", cfg["gru"], ["conv2" if i == 0 else trunk[i - 1]], "gru")
    add("gru_g", "gru", cfg["gru"], [last], "gru")
    add("gru_r", "gru", cfg["gruR"], ["conv2", last], "gru")
    add("fc_g", "dense", cfg["nBands"], ["conv2", *trunk, "gru_g"], "sigmoid")
    add("fc_r", "dense", cfg["nBands"], ["gru_r"], "sigmoid")
    add("fc_vad", "dense", 1, [last], "sigmoid", present=bool(cfg["vad"]))
    return specs


def tensor_specs(cfg):
    """Every tensor of the model file for a config, in engine order, with its
    engine id (layer index * 8 + kind): dicts with name, dtype, shape, id."""
    out = []
    for li, l in enumerate(layer_specs(cfg)):
        if not l["present"]:
            continue
        if l["kind"] == "dense":
            parts = [("w", "i8", [l["out"], l["in"]]), ("w_scale", "f32", [l["out"]]), ("b", "f32", [l["out"]])]
        else:
            r = 3 * l["out"]
            parts = [("w_ih", "i8", [r, l["in"]]), ("w_ih_scale", "f32", [r]), ("b_ih", "f32", [r]),
                     ("w_hh", "i8", [r, l["out"]]), ("w_hh_scale", "f32", [r]), ("b_hh", "f32", [r])]
        for kind, (suffix, dtype, shape) in enumerate(parts):
            out.append({"name": f"{l['name']}.{suffix}", "dtype": dtype, "shape": shape, "id": li * 8 + kind})
    return out
