"""Feature dump (.pnf) reading and writing, docs/FORMATS.md section 2."""
import mmap
import os
import struct

import numpy as np

MAGIC = b"PNF1"
VERSION = 1
HEADER = struct.Struct("<4s7I")  # magic, version, nSeq, seqLen, nFeat, nBands, recLen, reserved


def _pad4(n):
    return (n + 3) & ~3


class PnfFile:
    """A memory-mapped .pnf: `records` is [nSeq, seqLen, recLen] float32 (read-only).

    Slicing helpers split a record into features / gains / strengths / vad.
    """

    def __init__(self, path):
        self.path = str(path)
        # Open once and keep the descriptor: a dataset builder may delete the
        # file while a training epoch still samples it, and an open file
        # stays readable after unlink (a lazy open would fail mid-epoch).
        self._fd = os.open(self.path, os.O_RDONLY)
        self._records = None
        try:
            self._parse(path)
        except BaseException:
            self.close()
            raise

    def _parse(self, path):
        head = os.pread(self._fd, HEADER.size, 0)
        if len(head) < HEADER.size:
            raise ValueError(f"{path}: too short for a .pnf header")
        magic, ver, n_seq, seq_len, n_feat, n_bands, rec_len, _ = HEADER.unpack(head)
        if magic != MAGIC:
            raise ValueError(f"{path}: bad magic {magic!r}")
        if ver > VERSION:
            raise ValueError(f"{path}: version {ver} is newer than {VERSION}")
        if rec_len != n_feat + 2 * n_bands + 1:
            raise ValueError(f"{path}: recLen {rec_len} != nFeat + 2*nBands + 1")
        self.valid_bands = np.frombuffer(os.pread(self._fd, n_seq, HEADER.size), np.uint8).copy()
        if len(self.valid_bands) != n_seq:
            raise ValueError(f"{path}: too short for its validBands table")
        self.n_seq, self.seq_len = n_seq, seq_len
        self.n_feat, self.n_bands, self.rec_len = n_feat, n_bands, rec_len
        offset = HEADER.size + _pad4(n_seq)
        expect = offset + 4 * n_seq * seq_len * rec_len
        size = os.fstat(self._fd).st_size
        if size != expect:
            raise ValueError(f"{path}: size {size} != expected {expect}")
        self._offset = offset

    @property
    def records(self):
        """[nSeq, seqLen, recLen] float32 memory map (zeros for an empty file).

        Prefer `read_rows` on files another process may rewrite: touching a
        memory map of a file truncated underneath kills the process (SIGBUS).
        """
        if self._records is None:
            shape = (self.n_seq, self.seq_len, self.rec_len)
            if self.frames == 0:
                self._records = np.zeros(shape, np.float32)
            else:
                # Map the descriptor opened at construction, not the path: the
                # file may have been deleted since (the map keeps its own reference).
                if self._fd is None:
                    raise ValueError(f"{self.path}: closed")
                mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
                self._records = np.ndarray(shape, np.float32, buffer=mm, offset=self._offset)
        return self._records

    def read_rows(self, seq, start, count):
        """Records [count, recLen] of sequence `seq` from row `start`, by a plain read.

        The file is open from construction, so one deleted since keeps
        reading; a truncated one raises ValueError instead of crashing.
        """
        if not (0 <= seq < self.n_seq and 0 <= start and start + count <= self.seq_len):
            raise IndexError("rows out of range")
        if self._fd is None:
            raise ValueError(f"{self.path}: closed")
        nbytes = 4 * count * self.rec_len
        pos = self._offset + 4 * (seq * self.seq_len + start) * self.rec_len
        buf = os.pread(self._fd, nbytes, pos)
        if len(buf) != nbytes:
            raise ValueError(f"{self.path}: short read (file changed?)")
        return np.frombuffer(buf, "<f4").reshape(count, self.rec_len)

    def close(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self):
        self.close()

    @property
    def frames(self):
        return self.n_seq * self.seq_len

    def split(self, rec):
        """Split records [..., recLen] into (features, gains, strengths, vad)."""
        nf, nb = self.n_feat, self.n_bands
        return (rec[..., :nf], rec[..., nf:nf + nb],
                rec[..., nf + nb:nf + 2 * nb], rec[..., nf + 2 * nb])


def pack_targets(gains, strengths, vad):
    """Concatenate gains/strengths [.., nBands] and vad [..] into targets [.., 2*nBands+1]."""
    return np.concatenate([np.asarray(gains, np.float32), np.asarray(strengths, np.float32),
                           np.asarray(vad, np.float32)[..., None]], axis=-1)


def write_pnf(path, features, targets, valid_bands=None):
    """Write a .pnf file.

    features [nSeq, seqLen, nFeat]; targets [nSeq, seqLen, 2*nBands+1] holding
    gains, strengths and vad in record order (see `pack_targets`); valid_bands
    [nSeq] (default: all bands valid). Rows must already be aligned (row t
    holds the targets of frame t - lookahead).
    """
    features = np.asarray(features, np.float32)
    targets = np.asarray(targets, np.float32)
    if features.ndim != 3 or targets.ndim != 3:
        raise ValueError("features and targets must be [nSeq, seqLen, n]")
    n_seq, seq_len, n_feat = features.shape
    if targets.shape[:2] != (n_seq, seq_len) or targets.shape[2] % 2 != 1:
        raise ValueError("targets must be [nSeq, seqLen, 2*nBands+1]")
    n_bands = targets.shape[2] // 2
    if valid_bands is None:
        valid_bands = np.full(n_seq, n_bands)
    valid_bands = np.asarray(valid_bands)
    if valid_bands.shape != (n_seq,) or valid_bands.min(initial=0) < 0 \
            or valid_bands.max(initial=0) > n_bands:
        raise ValueError("valid_bands must be [nSeq] in 0..nBands")
    rec_len = n_feat + 2 * n_bands + 1
    rec = np.concatenate([features, targets], axis=-1)
    with open(path, "wb") as f:
        f.write(HEADER.pack(MAGIC, VERSION, n_seq, seq_len, n_feat, n_bands, rec_len, 0))
        vb = np.zeros(_pad4(n_seq), np.uint8)
        vb[:n_seq] = valid_bands
        f.write(vb.tobytes())
        f.write(np.ascontiguousarray(rec, "<f4").tobytes())
