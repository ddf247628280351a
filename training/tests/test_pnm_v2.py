"""Model format v2 (block-sparse matrices): the Python writer and reader
against the TypeScript ones (host/model-file.ts, the reference), through
node on dist/host/model-file.js (built by `npm run build:ts`).

Run from the worktree root: python3 -m unittest discover -s training/tests -t .
"""
import json
import os
import shutil
import subprocess
import unittest
import zlib

import numpy as np
import torch

from training.percepnet.model import PercepNet, make_config
from training.percepnet.pnm import (dense_tensors, dequantized_model, export_model, expand_blocks,
                                    read_pnm, to_blocks, write_pnm)
from training.percepnet.topology import tensor_specs
from training.tests.test_smoke import TmpDir

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_FILE_JS = os.path.join(ROOT, "dist", "host", "model-file.js")
TINY = {"dense": 16, "conv1": {"k": 5, "out": 16}, "conv2": {"k": 3, "out": 24},
        "gru": 16, "gruLayers": 2, "gruR": 8, "vad": True}
SPARSE = ["conv1.w", "conv2.w", "gru1.w_ih", "gru1.w_hh", "gru2.w_hh", "gru_r.w_ih", "fc_g.w", "fc_vad.w"]
NODE = shutil.which("node")
no_node = (None if NODE and os.path.exists(MODEL_FILE_JS)
           else "needs node and dist/host/model-file.js (npm run build:ts)")

# Node side: `write` quantises floats/<name>.f32 with writeModelFile; `parse`
# parses a file and writes its dequantised floats and block indexes back.
NODE_SCRIPT = """
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeModelFile, parseModelFile, dequantize } from %s;
const [cmd, dir, file] = process.argv.slice(1);
if (cmd === "write") {
  const job = JSON.parse(readFileSync(join(dir, "job.json"), "utf8"));
  const floats = {};
  for (const n of job.names) floats[n] = new Float32Array(new Uint8Array(readFileSync(join(dir, n + ".f32"))).buffer);
  writeFileSync(file, writeModelFile(job.config, floats, {}, { sparse: job.sparse, weightBits: job.weightBits ?? 8 }));
} else {
  const m = parseModelFile(readFileSync(file));
  const deq = dequantize(m);
  const out = { version: m.version, weightBits: m.weightBits, blocks: {} };
  for (const [n, f] of Object.entries(deq)) writeFileSync(join(dir, n + ".deq"), f);
  for (const [n, t] of m.tensors) if (n.endsWith(".blocks")) out.blocks[n] = Array.from(t);
  out.names = Object.keys(deq);
  writeFileSync(join(dir, "parsed.json"), JSON.stringify(out));
}
"""


def node(*args):
    script = NODE_SCRIPT % json.dumps(MODEL_FILE_JS)
    r = subprocess.run([NODE, "--input-type=module", "-e", script, *args],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise AssertionError(f"node {args[0]} failed: {r.stderr}")


def exact_floats(config, seed=0, top=127):
    """Float matrices whose int8 quantisation is exact in float32 and float64 alike.

    Every row holds +-127/256 and otherwise multiples of 1/256, so its scale
    is 1/256 and every quotient an integer: the Python writer (float32) and
    the TS writer (float64) then quantise identically, and their files can
    be compared byte for byte. Some 4 x 16 blocks are zeroed (pruned), and
    one nonzero block only holds 1/1024s, which round to 0 (dropped by the
    quantised-nonzero rule, though its floats are not zero).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for s in tensor_specs(config):
        if s["name"].endswith("_scale"):
            continue
        if s["dtype"] != "i8":
            out[s["name"]] = rng.normal(0, 0.1, s["shape"]).astype(np.float32)
            continue
        rows, cols = s["shape"]
        w = rng.integers(1 - top, top, (rows, cols)).astype(np.float32)
        for br in range(0, rows, 4):
            for cb in range(0, cols, 16):
                if rng.random() < 0.5:
                    w[br:br + 4, cb:cb + 16] = 0
        if rows > 4 and cols > 16:
            w[4:8, 16:32] = 0.25  # quantises to 0: block dropped
        w[np.arange(rows), rng.integers(0, cols, rows)] = top  # row max, so the scale is exactly 1/256
        out[s["name"]] = w / 256
    return out


def exact_floats7(config, seed=0):
    """exact_floats for 7 bits: kernel matrices hold +-63/256 and multiples of 1/256, fc_in.w as for 8 bits."""
    out = exact_floats(config, seed, 63)
    out["fc_in.w"] = exact_floats(config, seed)["fc_in.w"]
    return out


def quantised_tensors(config, floats, bits=8):
    """(name, array) in host tensorSpecs order, quantised as the TS writer does (same numbers here)."""
    out = []
    for s in tensor_specs(config):
        n = s["name"]
        if s["dtype"] == "i8":
            w = floats[n]
            top = 63 if bits == 7 and n != "fc_in.w" else 127
            scale = (np.abs(w).max(axis=1) / top).astype(np.float32)
            out += [(n, np.rint(w / scale[:, None]).astype(np.int8)), (n + "_scale", scale)]
        elif not n.endswith("_scale"):
            out.append((n, floats[n]))
    return out


class BlocksTest(unittest.TestCase):
    def test_to_blocks_layout(self):
        q = np.zeros((9, 40), np.int8)  # 3 block rows (last padded), 3 column blocks (last padded)
        q[0, 0], q[5, 20], q[8, 39], q[1, 17] = 1, 2, -3, 4
        index, w = to_blocks(q)
        self.assertEqual(index.tolist(), [2, 0, 1, 1, 1, 1, 2])
        self.assertEqual(w.shape, (4, 4, 16))
        self.assertEqual((w[0, 0, 0], w[1, 1, 1], w[2, 1, 4], w[3, 0, 7]), (1, 4, 2, -3))
        np.testing.assert_array_equal(expand_blocks(index, w, 9, 40), q)
        with self.assertRaises(ValueError):  # not strictly increasing
            expand_blocks(np.array([2, 1, 0, 0, 0], np.int32), np.zeros((2, 4, 16), np.int8), 9, 40)
        pad = w.copy()
        pad[3, 1, 0] = 5  # row 9: outside the matrix
        with self.assertRaises(ValueError):
            expand_blocks(index, pad, 9, 40)


class PythonOnlyTest(TmpDir):
    def test_v1_unchanged_without_sparse(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        export_model(m, self.path("a.pnm"))
        export_model(m, self.path("b.pnm"), sparse=[])
        with open(self.path("a.pnm"), "rb") as a, open(self.path("b.pnm"), "rb") as b:
            da, db = a.read(), b.read()
        self.assertEqual(da, db)
        self.assertEqual(da[4:8], b"\x01\0\0\0")
        _, _, t = read_pnm(self.path("a.pnm"))
        self.assertFalse(any(n.endswith(".blocks") for n in t))

    def test_v2_roundtrip_dequantises_like_dense(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        with torch.no_grad():  # prune some blocks so that the index is not trivial
            m.grus[0].weight_hh_l0[8:16, :16] = 0
            m.conv2.conv.weight[:4] = 0
        export_model(m, self.path("d.pnm"))
        export_model(m, self.path("s.pnm"), sparse=SPARSE)
        with open(self.path("s.pnm"), "rb") as f:
            self.assertEqual(f.read(8)[4:], b"\x02\0\0\0")
        _, _, td = read_pnm(self.path("d.pnm"))
        cfg, _, ts = read_pnm(self.path("s.pnm"))
        self.assertEqual(ts["gru1.w_hh"].shape[1:], (4, 16))
        self.assertEqual(ts["gru1.w_hh.blocks"].dtype, np.int32)
        # gru1.w_hh is [48, 16]: 12 block rows of 1 column block; rows 8..15 (block rows 2, 3) pruned.
        self.assertEqual(ts["gru1.w_hh.blocks"].tolist(), [1, 0, 1, 0, 0, 0] + [1, 0] * 8)
        dense = dense_tensors(cfg, ts)
        for n, a in td.items():
            np.testing.assert_array_equal(dense[n], a, n)
        qd, _ = dequantized_model(self.path("d.pnm"))
        qs, _ = dequantized_model(self.path("s.pnm"))
        for (n, a), (_, b) in zip(qd.state_dict().items(), qs.state_dict().items()):
            self.assertTrue(torch.equal(a, b), n)

    def test_weight_bits_7(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        export_model(m, self.path("w8.pnm"))
        export_model(m, self.path("w8b.pnm"), weight_bits=8)
        export_model(m, self.path("w7.pnm"), weight_bits=7)
        export_model(m, self.path("w7s.pnm"), sparse=SPARSE, weight_bits=7)
        with open(self.path("w8.pnm"), "rb") as a, open(self.path("w8b.pnm"), "rb") as b:
            self.assertEqual(a.read(), b.read(), "8 bits: bytes as before")
        with open(self.path("w7.pnm"), "rb") as fh:
            buf = fh.read()
        self.assertEqual(buf[4:8], b"\x01\0\0\0", "7 bits needs no new version")
        self.assertIn(b'"weightBits":7', buf)
        _, _, t8 = read_pnm(self.path("w8.pnm"))
        _, _, t7 = read_pnm(self.path("w7.pnm"))
        for n, a in t7.items():
            if a.dtype != np.int8:
                continue
            top = 127 if n == "fc_in.w" else 63
            self.assertEqual(int(np.abs(a).max()), top, n)
            np.testing.assert_array_equal(np.abs(a).max(axis=1), top, n)  # every row reaches its scale's top
            f8 = t8[n] * t8[n + "_scale"][:, None]
            f7 = a * t7[n + "_scale"][:, None]
            # both round the same floats: within half a step of each, so of each other
            self.assertLessEqual(float(np.abs(f7 - f8).max()), float((t7[n + "_scale"] / 2 + t8[n + "_scale"] / 2).max()) * 1.0001, n)
        cfg, _, ts = read_pnm(self.path("w7s.pnm"))
        dense = dense_tensors(cfg, ts)
        for n, a in t7.items():
            np.testing.assert_array_equal(dense[n], a, n)
        with self.assertRaises(ValueError):
            export_model(m, self.path("x.pnm"), weight_bits=6)
        with self.assertRaises(ValueError):  # 8-bit weights cannot be marked 7-bit
            write_pnm(self.path("x.pnm"), m.config, [(n, a) for n, a in t8.items()], weight_bits=7)

    def test_rejects_corrupt_weight_bits(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        export_model(m, self.path("w7.pnm"), weight_bits=7)
        with open(self.path("w7.pnm"), "rb") as fh:
            good = fh.read()
        _, _, t = read_pnm(self.path("w7.pnm"))

        def variant(name, edit):
            buf = bytearray(edit(bytearray(good)))
            buf[-4:] = (zlib.crc32(bytes(buf[:-4])) & 0xFFFFFFFF).to_bytes(4, "little")
            with open(self.path(name), "wb") as fh:
                fh.write(bytes(buf))
            return self.path(name)

        # weightBits 7 -> "7" keeps the length; 7 -> 6 too
        for bad in (b'"weightBits":6', b'"weightBits":9'):
            with self.assertRaises(ValueError, msg=bad):
                read_pnm(variant("b.pnm", lambda b: b.replace(b'"weightBits":7', bad)))
        # a kernel weight of 64: outside the 7-bit range
        json_len = int.from_bytes(good[8:12], "little")
        at = (16 + json_len + 15) // 16 * 16
        import json as js
        doc = js.loads(good[16:16 + json_len])
        off = next(x["offset"] for x in doc["tensors"] if x["name"] == "gru1.w_hh")

        def put64(b):
            b[at + off + 3] = 64
            return b
        with self.assertRaises(ValueError):
            read_pnm(variant("c.pnm", put64))

    def test_rejects_bad_sparse_names_and_v1_blocks(self):
        torch.manual_seed(0)
        m = PercepNet(TINY).eval()
        for bad in (["fc_in.w"], ["gru1.b_ih"], ["gru9.w_hh"]):
            with self.assertRaises(ValueError, msg=bad):
                export_model(m, self.path("x.pnm"), sparse=bad)
        export_model(m, self.path("s.pnm"), sparse=["gru1.w_hh"])
        with open(self.path("s.pnm"), "rb") as fh:
            buf = bytearray(fh.read())
        buf[4] = 1  # a version-1 file may not hold a block index
        buf[-4:] = (zlib.crc32(bytes(buf[:-4])) & 0xFFFFFFFF).to_bytes(4, "little")
        with open(self.path("v1.pnm"), "wb") as fh:
            fh.write(bytes(buf))
        with self.assertRaises(ValueError):
            read_pnm(self.path("v1.pnm"))


@unittest.skipIf(no_node, no_node)
class AgainstTypeScriptTest(TmpDir):
    config = make_config(TINY)

    def _dump_floats(self, floats, sparse, weight_bits=8):
        os.makedirs(self.path("f"), exist_ok=True)
        for n, a in floats.items():
            with open(self.path("f", n + ".f32"), "wb") as fh:
                fh.write(np.ascontiguousarray(a, "<f4").tobytes())
        with open(self.path("f", "job.json"), "w") as fh:
            json.dump({"config": self.config, "names": list(floats), "sparse": sparse, "weightBits": weight_bits}, fh)

    def _node_parse(self, pnm):
        out = self.path("p")
        os.makedirs(out, exist_ok=True)
        node("parse", out, pnm)
        with open(os.path.join(out, "parsed.json")) as fh:
            info = json.load(fh)
        deq = {n: np.fromfile(os.path.join(out, n + ".deq"), "<f4") for n in info["names"]}
        return info, deq

    def test_byte_identical_to_ts_writer(self):
        floats = exact_floats(self.config)
        self._dump_floats(floats, SPARSE)
        node("write", self.path("f"), self.path("ts.pnm"))
        write_pnm(self.path("py.pnm"), self.config, quantised_tensors(self.config, floats), {}, SPARSE)
        with open(self.path("ts.pnm"), "rb") as a, open(self.path("py.pnm"), "rb") as b:
            ts, py = a.read(), b.read()
        self.assertEqual(len(py), len(ts))
        self.assertEqual(py, ts)
        # The zero-quantising block [4:8, 16:32] of conv1.w is not stored.
        _, _, t = read_pnm(self.path("py.pnm"))
        idx = t["conv1.w.blocks"].tolist()
        row1 = idx[1 + idx[0]:][1:1 + idx[1 + idx[0]]]
        self.assertNotIn(1, row1)
        # Without sparse matrices both write version 1 with the same tensors;
        # not the same bytes: the Python v1 layout (kept unchanged) does not
        # pad the data section after its last tensor.
        self._dump_floats(floats, [])
        node("write", self.path("f"), self.path("ts1.pnm"))
        write_pnm(self.path("py1.pnm"), self.config, quantised_tensors(self.config, floats), {})
        (c1, _, t1), (c2, _, t2) = read_pnm(self.path("py1.pnm")), read_pnm(self.path("ts1.pnm"))
        self.assertEqual(c1, c2)
        self.assertEqual(list(t1), list(t2))
        for n in t1:
            np.testing.assert_array_equal(t1[n], t2[n], n)
        with open(self.path("py1.pnm"), "rb") as a, open(self.path("ts1.pnm"), "rb") as b:
            self.assertEqual((a.read(8)[4:], b.read(8)[4:]), (b"\x01\0\0\0", b"\x01\0\0\0"))

    def test_weight_bits_7_byte_identical_to_ts_writer_and_parsed_there(self):
        floats = exact_floats7(self.config, 3)
        for sparse in ([], SPARSE):
            self._dump_floats(floats, sparse, 7)
            node("write", self.path("f"), self.path("ts7.pnm"))
            write_pnm(self.path("py7.pnm"), self.config, quantised_tensors(self.config, floats, 7), {}, sparse, 7)
            if sparse:  # version 1 differs in the data section's end padding (see above), version 2 does not
                with open(self.path("ts7.pnm"), "rb") as a, open(self.path("py7.pnm"), "rb") as b:
                    self.assertEqual(a.read(), b.read())
            info, _ = self._node_parse(self.path("py7.pnm"))
            self.assertEqual((info["version"], info["weightBits"]), (2 if sparse else 1, 7))
            _, _, tp = read_pnm(self.path("py7.pnm"))
            _, _, tt = read_pnm(self.path("ts7.pnm"))
            for n in tp:
                np.testing.assert_array_equal(tp[n], tt[n], n)

    def test_python_v2_parses_in_ts_with_same_weights(self):
        torch.manual_seed(1)
        m = PercepNet(TINY).eval()
        with torch.no_grad():
            m.grus[1].weight_hh_l0[20:32] = 0
            m.fc_g.weight[:, 16:48] = 0
        export_model(m, self.path("py.pnm"), sparse=SPARSE)
        info, deq = self._node_parse(self.path("py.pnm"))
        self.assertEqual(info["version"], 2)
        cfg, _, t = read_pnm(self.path("py.pnm"))
        self.assertEqual(sorted(info["blocks"]), sorted(n + ".blocks" for n in SPARSE))
        for n, idx in info["blocks"].items():
            self.assertEqual(idx, t[n].tolist(), n)
        dense = dense_tensors(cfg, t)
        for n, f in deq.items():
            want = (dense[n].astype(np.float32) * t[n + "_scale"][:, None]).ravel() if n + "_scale" in t else dense[n].ravel()
            np.testing.assert_array_equal(f, want, n)

    def test_ts_v2_reads_in_python_with_same_weights(self):
        rng = np.random.default_rng(2)
        floats = {s["name"]: rng.normal(0, 0.3, s["shape"]).astype(np.float32)
                  for s in tensor_specs(self.config) if not s["name"].endswith("_scale")}
        for n in SPARSE:  # prune half the blocks of each sparse matrix
            w = floats[n]
            for br in range(0, w.shape[0], 4):
                for cb in range(0, w.shape[1], 16):
                    if rng.random() < 0.5:
                        w[br:br + 4, cb:cb + 16] = 0
        self._dump_floats(floats, SPARSE)
        node("write", self.path("f"), self.path("ts.pnm"))
        info, deq = self._node_parse(self.path("ts.pnm"))
        cfg, _, t = read_pnm(self.path("ts.pnm"))
        dense = dense_tensors(cfg, t)
        for n in SPARSE:
            self.assertIn(n + ".blocks", t)
        for n, f in deq.items():
            want = (dense[n].astype(np.float32) * t[n + "_scale"][:, None]).ravel() if n + "_scale" in t else dense[n].ravel()
            np.testing.assert_array_equal(f, want, n)


if __name__ == "__main__":
    unittest.main()
