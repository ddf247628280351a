"""Model file (.pnm) writing, reading and int8 quantisation, docs/FORMATS.md section 3."""
import json
import struct
import zlib

import numpy as np
import torch
from torch import nn

from .model import PercepNet, make_config

MAGIC = b"PNM1"
VERSION = 1
HEADER = struct.Struct("<4s3I")  # magic, version, jsonLen, dataLen
ALIGN = 16


def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def quantize_rows(w):
    """Per-row int8: scale = max|row| / 127 (1 for a zero row), q = round(row / scale)."""
    w = np.asarray(w, np.float32)
    amax = np.abs(w).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def conv_to_matrix(weight):
    """Conv1d weight [out, in, k] -> [out, k*in] with column j*in + i (oldest frame first)."""
    o, i, k = weight.shape
    return np.ascontiguousarray(np.transpose(weight, (0, 2, 1)).reshape(o, k * i))


def matrix_to_conv(mat, n_in, k):
    """Inverse of conv_to_matrix."""
    o = mat.shape[0]
    return np.ascontiguousarray(mat.reshape(o, k, n_in).transpose(0, 2, 1))


def float_tensors(model):
    """Yield (name, float matrix or vector, quantise?) in model-file order."""
    for name, mod in model.layers():
        if isinstance(mod, nn.GRU):
            p = {k: v.detach().cpu().numpy() for k, v in mod.named_parameters()}
            yield f"{name}.w_ih", p["weight_ih_l0"], True
            yield f"{name}.w_hh", p["weight_hh_l0"], True
            yield f"{name}.b_ih", p["bias_ih_l0"], False
            yield f"{name}.b_hh", p["bias_hh_l0"], False
        else:
            w, b = model.fc_in_folded() if mod is model.fc_in else (mod.weight, mod.bias)
            w, b = w.detach().cpu().numpy(), b.detach().cpu().numpy()
            if isinstance(mod, nn.Conv1d):
                w = conv_to_matrix(w)
            yield f"{name}.w", w, True
            yield f"{name}.b", b, False


def model_tensors(model):
    """(name, numpy array) list, int8 matrices each followed by its f32 row scales."""
    out = []
    for name, arr, quant in float_tensors(model):
        if quant:
            q, s = quantize_rows(arr)
            out += [(name, q), (name + "_scale", s)]
        else:
            out.append((name, np.asarray(arr, np.float32)))
    return out


def write_pnm(path, config, tensors, meta=None):
    """Write (name, array) tensors (int8 or float32) with `config` and `meta`; return bytes written."""
    table, chunks, off = [], [], 0
    for name, arr in tensors:
        if arr.dtype == np.int8:
            dtype = "i8"
        elif arr.dtype == np.float32:
            dtype = "f32"
        else:
            raise ValueError(f"{name}: dtype {arr.dtype} not allowed")
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        start = _align(off)
        if start > off:
            chunks.append(b"\0" * (start - off))
        table.append({"name": name, "dtype": dtype, "shape": list(arr.shape),
                      "offset": start, "bytes": len(data)})
        chunks.append(data)
        off = start + len(data)
    doc = {"config": config, "tensors": table, "meta": meta or {}}
    js = json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    pad = _align(HEADER.size + len(js)) - (HEADER.size + len(js))
    body = HEADER.pack(MAGIC, VERSION, len(js), off) + js + b" " * pad + b"".join(chunks)
    body += struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(body)
    return len(body)


def export_model(model, path, meta=None):
    """Quantise `model` and write it as a .pnm file."""
    return write_pnm(path, model.config, model_tensors(model), meta)


def read_pnm(path):
    """Parse and validate a .pnm; return (config, meta, {name: array})."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < HEADER.size + 4:
        raise ValueError("file too short")
    magic, ver, json_len, data_len = HEADER.unpack_from(buf)
    if magic != MAGIC:
        raise ValueError(f"bad magic {magic!r}")
    if ver > VERSION:
        raise ValueError(f"format version {ver} is newer than {VERSION}")
    (crc,) = struct.unpack_from("<I", buf, len(buf) - 4)
    if zlib.crc32(buf[:-4]) & 0xFFFFFFFF != crc:
        raise ValueError("CRC-32 mismatch")
    js = buf[HEADER.size:HEADER.size + json_len]
    data_at = _align(HEADER.size + json_len)
    if len(buf) != data_at + data_len + 4:
        raise ValueError("size does not match header")
    if buf[HEADER.size + json_len:data_at].strip(b" "):
        raise ValueError("JSON padding must be spaces")
    doc = json.loads(js.decode("ascii"))
    tensors = {}
    for t in doc["tensors"]:
        if t["offset"] % ALIGN or t["offset"] + t["bytes"] > data_len:
            raise ValueError(f"{t['name']}: bad offset")
        dt = {"i8": np.dtype("i1"), "f32": np.dtype("<f4")}[t["dtype"]]
        n = int(np.prod(t["shape"], dtype=np.int64))
        if n * dt.itemsize != t["bytes"]:
            raise ValueError(f"{t['name']}: bytes do not match shape")
        start = data_at + t["offset"]
        tensors[t["name"]] = np.frombuffer(buf, dt, n, start).reshape(t["shape"]).copy()
    return doc["config"], doc.get("meta", {}), tensors


def dequantized_model(path):
    """A float PercepNet whose weights are the int8 weights x scales of a .pnm file."""
    config, meta, t = read_pnm(path)
    model = PercepNet(make_config(config))

    def deq(name):
        return t[name].astype(np.float32) * t[name + "_scale"][:, None]

    with torch.no_grad():
        for name, mod in model.layers():
            if isinstance(mod, nn.GRU):
                vals = {"weight_ih_l0": deq(f"{name}.w_ih"), "weight_hh_l0": deq(f"{name}.w_hh"),
                        "bias_ih_l0": t[f"{name}.b_ih"], "bias_hh_l0": t[f"{name}.b_hh"]}
                for k, v in vals.items():
                    getattr(mod, k).copy_(torch.from_numpy(np.asarray(v)))
            else:
                w = deq(f"{name}.w")
                if isinstance(mod, nn.Conv1d):
                    w = matrix_to_conv(w, mod.in_channels, mod.kernel_size[0])
                mod.weight.copy_(torch.from_numpy(w))
                mod.bias.copy_(torch.from_numpy(t[f"{name}.b"]))
    model.eval()
    return model, meta
