"""training.audio_check (the checks every new recording passes) and fetch_extra's candidate mode."""
import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import unittest
import wave
from pathlib import Path

import numpy as np

from training.audio_check import (RATE, Measures, bandwidth_khz, clip_fraction, frame_levels_db, measure,
                                  voiced_fraction, verdict)
from training.fetch_extra import corpus_path, main, read_list, split_of

rng = np.random.default_rng(7)


def voice(seconds: float, f0: float = 140.0, pauses: bool = True) -> np.ndarray:
    """A vowel-like harmonic signal (f0 and its harmonics to 23.5 kHz, 1/k falloff), on for 0.6 s, off for 0.3 s."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, 170) if f0 * k < 23500)
    if pauses:
        x = x * ((t % 0.9) < 0.6)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def measured(x: np.ndarray, rate: int = RATE) -> Measures:
    return measure(x, x, rate)


class Measures_(unittest.TestCase):
    def test_clean_voice_passes(self):
        x = voice(3.0) + 1e-4 * rng.standard_normal(3 * RATE).astype(np.float32)
        m = measured(x)
        self.assertGreater(m.voiced_frac, 0.8)
        self.assertGreater(m.snr_db, 40)
        self.assertIsNone(verdict("speech", m))

    def test_noise_is_not_speech(self):
        x = 0.1 * rng.standard_normal(3 * RATE).astype(np.float32)
        m = measured(x)
        self.assertLess(m.voiced_frac, 0.05)
        self.assertRegex(verdict("speech", m), "no speech found")
        self.assertIsNone(verdict("noise", m))

    def test_noisy_voice_is_rejected(self):
        # the pauses hold noise 6 dB below the speech's level: the frame levels hardly spread
        x = voice(3.0) + 0.1 * rng.standard_normal(3 * RATE).astype(np.float32)
        m = measured(x)
        self.assertLess(m.snr_db, 15)
        self.assertRegex(verdict("speech", m), "noisy")

    def test_short_trimmed_words_get_the_lower_bar(self):
        def word(seconds):
            x = voice(seconds, pauses=False)
            x[: int(0.2 * seconds * RATE)] *= 0.2  # a fifth at -14 dB: the levels spread about 14 dB
            return measured(x)
        short, long = word(1.0), word(3.0)
        self.assertTrue(12 < short.snr_db < 20 and 12 < long.snr_db < 20, (short.snr_db, long.snr_db))
        self.assertIsNone(verdict("speech", short))
        self.assertRegex(verdict("speech", long), "noisy")

    def test_clipping(self):
        x = voice(3.0) * 10
        x = np.clip(x, -1, 1)
        self.assertGreater(clip_fraction(x), 0.01)
        self.assertRegex(verdict("speech", measured(x)), "clipped")
        self.assertEqual(clip_fraction(voice(3.0)), 0.0)
        # a single full-scale sample is a peak, not clipping
        y = voice(3.0)
        y[1000] = 1.0
        self.assertEqual(clip_fraction(y), 0.0)

    def test_bandwidth_of_band_limited_noise(self):
        n = 4 * RATE
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / RATE)
        spec[f > 7000] *= 1e-4  # 80 dB down above 7 kHz
        x = np.fft.irfft(spec, n).astype(np.float32)
        self.assertAlmostEqual(bandwidth_khz(x, RATE), 7.0, delta=0.25)
        # capped at the original Nyquist
        self.assertLessEqual(bandwidth_khz(rng.standard_normal(n).astype(np.float32), 16000), 8.0)

    def test_rules_on_rate_length_and_silence(self):
        self.assertRegex(verdict("speech", measured(voice(3.0), rate=6000)), "6000 Hz")
        self.assertRegex(verdict("speech", measured(voice(0.2, pauses=False))), "0.20 s long")
        self.assertRegex(verdict("noise", measured(np.full(2 * RATE, 1e-5, np.float32))), "silent")
        self.assertRegex(verdict("noise", measured(0.1 * rng.standard_normal(RATE // 2).astype(np.float32))), "long")

    def test_levels_and_voicing_edge_cases(self):
        self.assertEqual(voiced_fraction(np.zeros(100, np.float32), np.array([-200.0])), 0.0)
        self.assertEqual(len(frame_levels_db(np.zeros(10, np.float32))), 1)


class Splits(unittest.TestCase):
    def test_split_is_by_group_and_stable(self):
        self.assertEqual(split_of("speech", "msc abc", "p 1:/a.ogg"), split_of("speech", "msc abc", "q 2:/b.ogg"))
        sides = [split_of("speech", f"spk{i}", "p 1:/a.ogg") for i in range(4000)]
        share = {s: sides.count(s) / len(sides) for s in ("train", "val", "test")}
        self.assertAlmostEqual(share["val"], 0.05, delta=0.015)
        self.assertAlmostEqual(share["test"], 0.10, delta=0.02)
        # noise: whole recordings (the source), whatever the label
        self.assertEqual(split_of("noise", "x", "pkg 1:/a.ogg"), split_of("noise", "y", "pkg 1:/a.ogg"))
        # whole held-out sources, by kind
        self.assertEqual(split_of("speech", "gcin x", "gcin-voice 0~20170223-3:/usr/share/gcin/a.ogg"), "xsrc")
        self.assertEqual(split_of("noise", "fg", "flightgear-data-base 1:2020.3.16+dfsg-1:/usr/a.wav"), "xsrc")
        self.assertNotEqual(split_of("noise", "0ad", "0ad-data 0.0.26-1:/usr/a.ogg"), "xsrc")

    def test_corpus_path_follows_bandwidth(self):
        self.assertEqual(corpus_path("speech", "speech/fillets/a.flac", 8.0), "speech16/fillets/a.flac")
        self.assertEqual(corpus_path("speech", "speech/fillets/a.flac", 20.0), "speech48/fillets/a.flac")
        self.assertEqual(corpus_path("noise", "noise/x/a.flac", 8.0), "noise/x/a.flac")


def write_wav(path: Path, x: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


@unittest.skipUnless(shutil.which("ffmpeg") and shutil.which("ffprobe") and shutil.which("git"),
                     "needs ffmpeg, ffprobe and git")
class CandidateList(unittest.TestCase):
    """A list made from candidates in a local git repository (a stand-in GitHub snapshot), then rebuilt from it."""

    def test_make_then_rebuild(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            repo = tmp / "mirror" / "owner+name" / "work"
            repo.mkdir(parents=True)
            write_wav(repo / "good.wav", voice(3.0))
            write_wav(repo / "noise.wav", 0.05 * rng.standard_normal(2 * RATE))
            write_wav(repo / "clipped.wav", np.clip(voice(3.0) * 10, -1, 1))
            (repo / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
            env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
            git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True, text=True, env=env).stdout.strip()
            git("init", "-q")
            git("add", ".")
            git("commit", "-qm", "audio")
            commit = git("rev-parse", "HEAD")
            bare = tmp / "mirror" / "owner+name" / "repo"
            subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
            src = lambda f: f"github:owner/name@{commit}:{f}"
            cand = tmp / "cand.tsv"
            cand.write_text("kind\tfile\tlabel\tlicense\tsource\tnoise_kind\tnote\n"
                            f"speech\tspeech/t/good.flac\tt spk1\tCC0\t{src('good.wav')}\t\t\n"
                            f"speech\tspeech/t/noise.flac\tt spk2\tCC0\t{src('noise.wav')}\t\t\n"
                            f"speech\tspeech/t/clipped.flac\tt spk3\tCC0\t{src('clipped.wav')}\t\t\n"
                            f"speech\tspeech/t/broken.flac\tt spk4\tCC0\t{src('broken.wav')}\t\t\n"
                            f"speech\tspeech/t/absent.flac\tt spk5\tCC0\t{src('absent.wav')}\t\t\n"
                            f"noise\tnoise/t/noise.flac\tt hiss\tCC0\t{src('noise.wav')}\tfan\t\n")
            lst = tmp / "extra-test.tsv"
            out = tmp / "out"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = main([str(lst), str(out), "--from-candidates", str(cand), "--mirror", str(tmp / "mirror"), "--jobs", "1"])
            self.assertEqual(code, 0)
            header, rows = read_list(lst)
            self.assertEqual([r["file"] for r in rows], ["speech48/t/good.flac", "noise/t/noise.flac"])
            self.assertEqual(rows[1]["noise_kind"], "fan")
            self.assertEqual(rows[0]["seconds"], "3.00")
            self.assertIn(rows[0]["split"], ("train", "val", "test"))
            rejected = dict(line.split("\t")[0::2] for line in (tmp / "rejected" / "extra-test.tsv").read_text().splitlines()[1:])
            self.assertRegex(rejected["speech/t/noise.flac"], "no speech found")
            self.assertRegex(rejected["speech/t/clipped.flac"], "clipped")
            self.assertRegex(rejected["speech/t/broken.flac"], "does not decode")
            self.assertRegex(rejected["speech/t/absent.flac"], "not in owner/name")
            self.assertTrue((out / "speech48/t/good.flac").is_file())
            self.assertEqual((out / "MANIFEST.tsv").read_text().splitlines(), lst.read_text().splitlines())

            # a fresh folder rebuilt from the list alone: same files, sha256 checked
            again = tmp / "again"
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(main([str(lst), str(again), "--mirror", str(tmp / "mirror"), "--jobs", "1"]), 0)
            self.assertTrue((again / "noise/t/noise.flac").is_file())
            # a list whose sha256 does not match the recording: that row is not rebuilt
            bad = tmp / "extra-bad.tsv"
            bad.write_text(lst.read_text().replace(rows[0]["sha256"], "0" * 64))
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                self.assertEqual(main([str(bad), str(tmp / "bad"), "--mirror", str(tmp / "mirror"), "--jobs", "1"]), 1)
            self.assertIn("sha256 differs", err.getvalue())


if __name__ == "__main__":
    unittest.main()
