"""Model file (.pnm) writing, reading and int8 quantisation, docs/FORMATS.md section 3."""
import json
import re
import struct
import zlib

import numpy as np
import torch
from torch import nn

from .model import PercepNet, make_config
from .topology import tensor_specs

MAGIC = b"PNM1"
# The newest version read; a file is written as 2 only when it has a sparse
# matrix, so models without one stay readable by version-1 engines.
VERSION = 2
HEADER = struct.Struct("<4s3I")  # magic, version, jsonLen, dataLen
ALIGN = 16
# Block shape of sparse matrices, fixed by format version 2 (host/model-file.ts SPARSE_ROWS, SPARSE_COLS).
SPARSE_ROWS, SPARSE_COLS = 4, 16
BLOCKS_SUFFIX = ".blocks"
_DTYPES = {"i8": np.dtype("i1"), "f32": np.dtype("<f4"), "i32": np.dtype("<i4")}


def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


# Weights of a 7-bit model (weightBits 7, docs/FORMATS.md): the int8 kernel
# matrices (all but fc_in.w) lie in [-64, 63]; the writers use [-63, 63].
W7_MIN, W7_MAX = -64, 63


def quantize_rows(w, bits=8):
    """Per-row int8: scale = max|row| / 127 (bits 7: / 63; 1 for a zero row), q = round(row / scale)."""
    if bits not in (7, 8):
        raise ValueError(f"weight bits must be 7 or 8, got {bits!r}")
    top = 127 if bits == 8 else 63
    w = np.asarray(w, np.float32)
    amax = np.abs(w).max(axis=1)
    scale = np.where(amax > 0, amax / np.float32(top), 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -top, top).astype(np.int8)
    return q, scale


def sparse_capable(name):
    """Matrices a v2 file may store sparse: every int8 matrix but fc_in's, which the engine turns into f32."""
    return name != "fc_in.w" and re.search(r"\.w(_ih|_hh)?$", name) is not None


def to_blocks(q):
    """Block index and kept [nBlocks, 4, 16] blocks of an int8 [rows, cols] matrix.

    A block is kept when it holds a nonzero *quantised* weight (the rule of
    host/model-file.ts toBlocks): a pruned block is exactly zero and is
    dropped, and so is a kept one whose weights all round to 0, which
    dequantises the same either way.
    """
    rows, cols = q.shape
    nbr, ncb = -(-rows // SPARSE_ROWS), -(-cols // SPARSE_COLS)
    pad = np.zeros((nbr * SPARSE_ROWS, ncb * SPARSE_COLS), np.int8)
    pad[:rows, :cols] = q
    grid = pad.reshape(nbr, SPARSE_ROWS, ncb, SPARSE_COLS).transpose(0, 2, 1, 3)
    keep = grid.any(axis=(2, 3))
    index = []
    for br in range(nbr):
        cbs = np.flatnonzero(keep[br])
        index += [len(cbs), *cbs.tolist()]
    return np.asarray(index, np.int32), np.ascontiguousarray(grid[keep])


def _check_blocks(name, index, w, rows, cols):
    """Reject a block index the TS parser would reject (docs/FORMATS.md "Sparse matrices")."""
    nbr, ncb = -(-rows // SPARSE_ROWS), -(-cols // SPARSE_COLS)
    at, pos = 0, []
    for br in range(nbr):
        if at >= len(index):
            raise ValueError(f"block index {name} ends before block row {br} of {nbr}")
        cnt = int(index[at])
        at += 1
        cbs = index[at:at + cnt]
        if cnt < 0 or cnt > ncb or len(cbs) < cnt:
            raise ValueError(f"block index {name}: block row {br} has bad count {cnt}")
        if len(cbs) and (cbs.min() < 0 or cbs.max() >= ncb or (np.diff(cbs) <= 0).any()):
            raise ValueError(f"block index {name}: block row {br} column blocks out of range or not increasing")
        pos += [(br, int(c)) for c in cbs]
        at += cnt
    if at != len(index):
        raise ValueError(f"block index {name} has {len(index) - at} entries past its last block row")
    if w.shape != (len(pos), SPARSE_ROWS, SPARSE_COLS):
        raise ValueError(f"sparse matrix {name} has shape {list(w.shape)}, its index implies "
                         f"[{len(pos)}, {SPARSE_ROWS}, {SPARSE_COLS}]")
    for k, (br, cb) in enumerate(pos):
        r, c = rows - br * SPARSE_ROWS, cols - cb * SPARSE_COLS
        if w[k, r:].any() or w[k, :, c:].any():
            raise ValueError(f"sparse matrix {name}: block {k} has a nonzero weight outside the {rows} x {cols} matrix")
    return pos


def expand_blocks(index, w, rows, cols):
    """Dense int8 [rows, cols] of a block-sparse matrix (dropped blocks zero)."""
    pos = _check_blocks("matrix", np.asarray(index), np.asarray(w), rows, cols)
    nbr, ncb = -(-rows // SPARSE_ROWS), -(-cols // SPARSE_COLS)
    grid = np.zeros((nbr, ncb, SPARSE_ROWS, SPARSE_COLS), np.int8)
    for k, (br, cb) in enumerate(pos):
        grid[br, cb] = w[k]
    return np.ascontiguousarray(grid.transpose(0, 2, 1, 3).reshape(nbr * SPARSE_ROWS, ncb * SPARSE_COLS)[:rows, :cols])


def dense_tensors(config, tensors):
    """`tensors` as read_pnm returns them, with every sparse matrix expanded to dense [rows, cols]."""
    shapes = {s["name"]: s["shape"] for s in tensor_specs(config)}
    out = {}
    for name, arr in tensors.items():
        if name.endswith(BLOCKS_SUFFIX):
            continue
        idx = tensors.get(name + BLOCKS_SUFFIX)
        if idx is not None and name not in shapes:
            raise ValueError(f"block index {name}{BLOCKS_SUFFIX}: {name} is not a matrix of this config")
        out[name] = arr if idx is None else expand_blocks(idx, arr, *shapes[name])
    return out


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


def model_tensors(model, weight_bits=8):
    """(name, numpy array) list, int8 matrices each followed by its f32 row scales.

    weight_bits 7 quantises the kernel matrices (all but fc_in.w) to 7 bits.
    """
    out = []
    for name, arr, quant in float_tensors(model):
        if quant:
            q, s = quantize_rows(arr, weight_bits if sparse_capable(name) else 8)
            out += [(name, q), (name + "_scale", s)]
        else:
            out.append((name, np.asarray(arr, np.float32)))
    return out


def _sparsify(tensors, sparse):
    """The tensor list with each matrix named in `sparse` replaced by its block index and kept blocks."""
    sparse = set(sparse or ())
    names = {n for n, a in tensors if a.dtype == np.int8 and a.ndim == 2}
    bad = sorted(n for n in sparse if not sparse_capable(n) or n not in names)
    if bad:
        raise ValueError(f"write_pnm: {', '.join(bad)} cannot be stored sparse")
    out = []
    for name, arr in tensors:
        if name in sparse:
            index, w = to_blocks(arr)
            # The index right before its matrix, as host/model-file.ts writes it.
            out += [(name + BLOCKS_SUFFIX, index), (name, w)]
        else:
            out.append((name, arr))
    return out


def _check_weight_bits(tensors, weight_bits):
    """weightBits 7 promises every kernel matrix (int8, all but fc_in.w) in [W7_MIN, W7_MAX]."""
    if weight_bits not in (7, 8):
        raise ValueError(f"weightBits must be 7 or 8, got {weight_bits!r}")
    if weight_bits == 8:
        return
    for name, arr in tensors:
        if arr.dtype == np.int8 and sparse_capable(name) and arr.size and (arr.min() < W7_MIN or arr.max() > W7_MAX):
            raise ValueError(f"weightBits is 7 but {name} has weights outside [{W7_MIN}, {W7_MAX}]")


def write_pnm(path, config, tensors, meta=None, sparse=None, weight_bits=8):
    """Write (name, array) tensors (int8 or float32) with `config` and `meta`; return bytes written.

    Matrices named in `sparse` are stored block-sparse (format version 2,
    docs/FORMATS.md "Sparse matrices"); without any the file is version 1.
    weight_bits 7 marks the file `"weightBits": 7` (its kernel matrices must
    be in [-64, 63]); 8 writes no mark, bytes as before.
    """
    _check_weight_bits(tensors, weight_bits)
    version = 2 if sparse else 1
    tensors = _sparsify(tensors, sparse)
    table, chunks, off = [], [], 0
    for name, arr in tensors:
        if arr.dtype == np.int8:
            dtype = "i8"
        elif arr.dtype == np.float32:
            dtype = "f32"
        elif arr.dtype == np.int32 and name.endswith(BLOCKS_SUFFIX):
            dtype = "i32"
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
    if version >= 2 and _align(off) > off:
        # host/model-file.ts pads the last tensor to 16 bytes too; version 2
        # follows it so both writers give the same bytes, version 1 keeps the
        # layout it always had (the parsers accept either).
        chunks.append(b"\0" * (_align(off) - off))
        off = _align(off)
    doc = {"config": config}
    if weight_bits == 7:  # key order as host/model-file.ts writes it
        doc["weightBits"] = 7
    doc.update({"tensors": table, "meta": meta or {}})
    js = json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    pad = _align(HEADER.size + len(js)) - (HEADER.size + len(js))
    body = HEADER.pack(MAGIC, version, len(js), off) + js + b" " * pad + b"".join(chunks)
    body += struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(body)
    return len(body)


def export_model(model, path, meta=None, sparse=None, weight_bits=8):
    """Quantise `model` and write it as a .pnm file (the matrices named in `sparse` block-sparse,
    the kernel matrices at `weight_bits` 8 or 7)."""
    return write_pnm(path, model.config, model_tensors(model, weight_bits), meta, sparse, weight_bits)


def read_pnm(path):
    """Parse and validate a .pnm; return (config, meta, {name: array}).

    A sparse matrix M comes back as stored: `M` [nBlocks, 4, 16] and
    `M.blocks`; dense_tensors() expands them.
    """
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < HEADER.size + 4:
        raise ValueError("file too short")
    magic, ver, json_len, data_len = HEADER.unpack_from(buf)
    if magic != MAGIC:
        raise ValueError(f"bad magic {magic!r}")
    if ver > VERSION or ver < 1:
        raise ValueError(f"format version {ver} is not one of 1..{VERSION}")
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
        dt = _DTYPES[t["dtype"]]
        n = int(np.prod(t["shape"], dtype=np.int64))
        if n * dt.itemsize != t["bytes"]:
            raise ValueError(f"{t['name']}: bytes do not match shape")
        start = data_at + t["offset"]
        tensors[t["name"]] = np.frombuffer(buf, dt, n, start).reshape(t["shape"]).copy().astype(dt.newbyteorder("="))
    for name in [n for n in tensors if n.endswith(BLOCKS_SUFFIX)]:
        m = name[:-len(BLOCKS_SUFFIX)]
        if ver < 2 or not sparse_capable(m) or m not in tensors:
            raise ValueError(f"block index {name} not allowed here (needs version 2 and a sparse-capable matrix)")
    dense_tensors(doc["config"], tensors)  # validates every block index and its blocks
    bits = doc.get("weightBits", 8)
    if type(bits) is not int:
        raise ValueError(f"weightBits must be 7 or 8, got {bits!r}")
    _check_weight_bits([(n, a) for n, a in tensors.items() if not n.endswith(BLOCKS_SUFFIX)], bits)
    return doc["config"], doc.get("meta", {}), tensors


def dequantized_model(path):
    """A float PercepNet whose weights are the int8 weights x scales of a .pnm file."""
    config, meta, t = read_pnm(path)
    t = dense_tensors(config, t)
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
