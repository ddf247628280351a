"""Checks one recording before it enters the training corpus.

Every file of an extra list is decoded and measured here, and kept only if
it passes the rule of its kind (`verdict`); a rejected file is named with
the reason. The measures are deliberately simple and documented, so a
reader can redo them:

- `bandwidth_khz`: the shared corpus's definition, the highest frequency at
  which the long-term spectrum (Welch, 2048-point Hann at 48 kHz) lies
  within 50 dB of its
  peak, capped at the original Nyquist frequency (the spectrum is first
  smoothed over 9 bins, ~210 Hz, so one quiet bin does not cut it short).
- `snr_db`: the spread of 20 ms frame levels, 95th minus 10th percentile,
  in dB: a clean recording with pauses spreads widely, a noisy one does not.
  It is an estimate, biased low on clips with no pause at all (the 10th
  percentile then falls inside speech), so the speech rule below was set
  on the curated shared corpus (see `training/DATA.md`, "Checks"): 20 dB,
  12 dB for clips under 2 s (trimmed single words).
- `voiced_frac`: of the frames within 30 dB of the 95th-percentile level,
  the share whose normalised autocorrelation (at 16 kHz, 40 ms frames)
  peaks above 0.5 at a pitch lag of 2.5-12.5 ms (80-400 Hz): speech is
  mostly voiced, most noises are not.
- `clip_frac`: the share of samples in runs of three or more at the file's
  extreme value when that value is at or above 0.99 of full scale.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

RATE = 48000

# The rule, fixed before any new list was built (training/DATA.md "Checks").
SPEECH_MIN_SECONDS = 0.3
SPEECH_MIN_SNR_DB = 20.0
# a clip this short is mostly one trimmed word with no pause, where the spread
# of frame levels says little about the noise: a lower bar (see the module doc)
SHORT_CLIP_SECONDS = 2.0
SHORT_CLIP_MIN_SNR_DB = 12.0
SPEECH_MIN_VOICED = 0.15
NOISE_MIN_SECONDS = 1.0
NOISE_MIN_LEVEL_DB = -70.0  # 95th-percentile frame level, dBFS
MAX_CLIP_FRAC = 0.001
MIN_ORIGINAL_RATE = 8000


@dataclass
class Measures:
    seconds: float
    original_sample_rate: int
    bandwidth_khz: float
    snr_db: float
    voiced_frac: float
    clip_frac: float
    level_db: float  # 95th-percentile 20 ms frame level, dBFS


def frame_levels_db(x: np.ndarray, rate: int = RATE, frame_s: float = 0.02) -> np.ndarray:
    n = int(rate * frame_s)
    count = len(x) // n
    if count == 0:
        return np.array([10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)])
    e = np.mean(x[: count * n].astype(np.float64).reshape(count, n) ** 2, axis=1)
    return 10 * np.log10(e + 1e-20)


def bandwidth_khz(x: np.ndarray, original_rate: int, rate: int = RATE) -> float:
    """Highest frequency within 50 dB of the long-term spectrum's peak, capped at the original Nyquist."""
    nfft = 2048
    if len(x) < nfft:
        x = np.pad(x, (0, nfft - len(x)))
    hop = nfft // 2
    w = np.hanning(nfft)
    frames = np.lib.stride_tricks.sliding_window_view(x, nfft)[::hop]
    psd = np.mean(np.abs(np.fft.rfft(frames * w, axis=1)) ** 2, axis=0)
    smooth = np.convolve(psd, np.ones(9) / 9, mode="same")
    db = 10 * np.log10(smooth + 1e-30)
    freqs = np.fft.rfftfreq(nfft, 1 / rate)
    above = np.nonzero(db >= db.max() - 50)[0]
    top = freqs[above[-1]] if len(above) else 0.0
    return round(float(min(top, original_rate / 2)) / 1000, 2)


def voiced_fraction(x: np.ndarray, levels: np.ndarray, rate: int = RATE) -> float:
    """Share of loud 40 ms frames with a clear pitch (80-400 Hz)."""
    step = rate // 16000
    y = x[::step].astype(np.float64)  # coarse decimation is enough for a voicing test below 4 kHz
    n = 640  # 40 ms at 16 kHz
    count = len(y) // n
    if count == 0:
        return 0.0
    f = y[: count * n].reshape(count, n)
    f = f - f.mean(axis=1, keepdims=True)
    e = np.sum(f * f, axis=1)
    loud = 10 * np.log10(e / n + 1e-20) >= np.percentile(levels, 95) - 30
    f, e = f[loud & (e > 0)], e[loud & (e > 0)]
    if len(f) == 0:
        return 0.0
    ac = np.fft.irfft(np.abs(np.fft.rfft(f, 2 * n, axis=1)) ** 2, axis=1)[:, :n]
    lo, hi = 40, 200  # 2.5-12.5 ms at 16 kHz
    lags = np.arange(lo, hi)
    c = np.cumsum(f * f, axis=1)
    # normalise by the energy of the overlapping parts, so long lags are not penalised
    head = c[:, n - 1 - lags]  # energy of f[:n-k]
    tail = e[:, None] - c[:, lags - 1]  # energy of f[k:]
    r = ac[:, lo:hi] / (np.sqrt(np.maximum(head * tail, 0)) + 1e-12)
    return float(np.mean(np.max(r, axis=1) > 0.5))


def clip_fraction(x: np.ndarray) -> float:
    """Share of samples in runs of >= 3 at the extreme value, when it reaches 0.99 of full scale."""
    if len(x) == 0:
        return 0.0
    a = np.abs(x)
    peak = float(a.max())
    if peak < 0.99:
        return 0.0
    at = a >= peak - 1e-4
    # run lengths of consecutive True
    edges = np.diff(np.concatenate(([0], at.view(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    runs = ends - starts
    return float(runs[runs >= 3].sum()) / len(x)


def measure(x48: np.ndarray, x_native: np.ndarray, native_rate: int) -> Measures:
    """Measures a recording from its 48 kHz decode (spectrum, levels, voicing) and its native decode (clipping)."""
    levels = frame_levels_db(x48)
    return Measures(
        seconds=round(len(x48) / RATE, 2),
        original_sample_rate=native_rate,
        bandwidth_khz=bandwidth_khz(x48, native_rate),
        snr_db=round(float(np.percentile(levels, 95) - np.percentile(levels, 10)), 1),
        voiced_frac=round(voiced_fraction(x48, levels), 3),
        clip_frac=round(clip_fraction(x_native), 5),
        level_db=round(float(np.percentile(levels, 95)), 1),
    )


_RATE_IN_LOG = re.compile(r"Stream #0:\d+.*?: Audio: .*?(\d+) Hz")


def convert_and_measure(src: str, flac_out: str, max_seconds: float) -> Measures:
    """One ffmpeg run: the corpus FLAC (mono, 48 kHz, 16-bit, first max_seconds) and the measures.

    The measures are taken on the same first max_seconds: the 48 kHz float
    decode for spectrum, levels and voicing, the native-rate decode for
    clipping (resampling would smear the flat runs).
    """
    with tempfile.TemporaryDirectory() as tmp:
        f48, fnat = os.path.join(tmp, "48.f32"), os.path.join(tmp, "nat.f32")
        fmt = ["-f", "g722"] if src.lower().endswith(".g722") else []
        p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "info", *fmt, "-i", src, "-t", str(max_seconds),
                            "-ac", "1", "-ar", str(RATE), "-sample_fmt", "s16", "-c:a", "flac", "-y", flac_out,
                            "-t", str(max_seconds), "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-y", f48,
                            "-t", str(max_seconds), "-ac", "1", "-f", "f32le", "-y", fnat],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # tags may hold any bytes (Latin-1 titles): the log is read leniently
        log = p.stderr.decode("utf-8", errors="replace")
        if p.returncode != 0:
            raise ValueError(f"does not decode ({(log.strip().splitlines() or ['ffmpeg failed'])[-1]})")
        m = _RATE_IN_LOG.search(log)
        if not m:
            raise ValueError("ffmpeg reported no audio stream")
        x48 = np.fromfile(f48, dtype="<f4")
        xn = np.fromfile(fnat, dtype="<f4")
    if len(x48) == 0:
        raise ValueError("decodes to no samples")
    return measure(x48, xn, int(m.group(1)))


def verdict(kind: str, m: Measures) -> str | None:
    """None when the recording may enter the corpus, else why not."""
    if m.original_sample_rate < MIN_ORIGINAL_RATE:
        return f"sampled at {m.original_sample_rate} Hz (< {MIN_ORIGINAL_RATE})"
    if m.clip_frac > MAX_CLIP_FRAC:
        return f"clipped ({100 * m.clip_frac:.2f} % of samples in flat runs at full scale)"
    if kind == "speech":
        if m.seconds < SPEECH_MIN_SECONDS:
            return f"{m.seconds:.2f} s long (< {SPEECH_MIN_SECONDS} s)"
        if m.voiced_frac < SPEECH_MIN_VOICED:
            return f"no speech found ({100 * m.voiced_frac:.0f} % of loud frames voiced, < {100 * SPEECH_MIN_VOICED:.0f} %)"
        bar = SHORT_CLIP_MIN_SNR_DB if m.seconds < SHORT_CLIP_SECONDS else SPEECH_MIN_SNR_DB
        if m.snr_db < bar:
            return f"noisy (SNR estimate {m.snr_db:.1f} dB < {bar:.0f} dB)"
        return None
    if kind == "noise":
        if m.seconds < NOISE_MIN_SECONDS:
            return f"{m.seconds:.2f} s long (< {NOISE_MIN_SECONDS} s)"
        if m.level_db < NOISE_MIN_LEVEL_DB:
            return f"silent (95th-percentile level {m.level_db:.1f} dBFS < {NOISE_MIN_LEVEL_DB:.0f})"
        return None
    return f"unknown kind {kind!r}"
