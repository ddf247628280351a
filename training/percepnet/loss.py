"""PercepNet training loss (reference/PERCEPNET.md section 8), masked and NaN-safe.

The network's heads are sigmoids, so the loss takes logits z and computes
sqrt(sigmoid(z)) = exp(0.5 * logsigmoid(z)) and sqrt(1 - sigmoid(z)) =
exp(0.5 * logsigmoid(-z)): exact, finite, and with finite gradients even
where the probability rounds to 0 or 1 in float32 (a plain sqrt has an
infinite derivative at 0, the NaN source of a public port).
"""
import torch
import torch.nn.functional as F

DEFAULT_WEIGHTS = {"gain": 1.0, "quartic": 10.0, "strength": 1.0, "vad": 0.05, "above_band": 0.0, "distortion": 1.0,
                   "gain_smoothing": 0.0, "energy": 0.0, "snr": 0.0, "lookahead": 2}


def add_loss_arguments(p):
    """The loss-weight options, shared by training.train and training.average
    (which must score checkpoints under the loss they were trained with)."""
    p.add_argument("--vad-weight", type=float, default=0.05)
    p.add_argument("--above-band-weight", type=float, default=0.0,
                   help="weight of gain cells above a band-limited clip's bandwidth (0: ignored)")
    p.add_argument("--distortion-weight", type=float, default=1.0,
                   help="weight of gain errors that under-estimate the target (speech attenuated); "
                   "1 is the paper's symmetric loss")
    p.add_argument("--gain-smoothing", type=float, default=0.0, metavar="TAU",
                   help="raise gain targets above TAU toward 1 (label smoothing at high SNR; 0 = off)")
    p.add_argument("--energy-weight", type=float, default=0.0,
                   help="weight of the log band-energy loss on gh^2 E_y (0 = off)")
    p.add_argument("--snr-weight", type=float, default=0.0,
                   help="weight of a training-only head that estimates each frame's SNR (snr_loss; 0 = off)")


def loss_weights(args):
    """The loss weights a command line asks for (training.train and
    training.average take the same --vad-weight, --above-band-weight and
    --distortion-weight); refuses a weight that would make the loss reward
    the wrong thing."""
    if not args.distortion_weight > 0:
        raise SystemExit(f"--distortion-weight must be > 0, got {args.distortion_weight}")
    if not args.above_band_weight >= 0:
        raise SystemExit(f"--above-band-weight must be >= 0, got {args.above_band_weight}")
    tau = args.gain_smoothing
    if not (tau == 0 or 0 < tau < 1):
        raise SystemExit(f"--gain-smoothing must be 0 (off) or in (0, 1), got {tau}")
    energy = args.energy_weight
    if not energy >= 0:
        raise SystemExit(f"--energy-weight must be >= 0, got {energy}")
    snr = getattr(args, "snr_weight", 0.0)
    if not snr >= 0:
        raise SystemExit(f"--snr-weight must be >= 0, got {snr}")
    return {"vad": args.vad_weight, "above_band": args.above_band_weight,
            "distortion": args.distortion_weight, "gain_smoothing": tau, "energy": energy, "snr": snr}


def _sqrt_target(x):
    # Targets carry no gradient; clamping keeps sqrt away from negatives.
    return torch.sqrt(x.clamp(0.0, 1.0))


def smooth_gain_target(g, tau):
    """Label smoothing of ideal gains at high SNR: a target above `tau` moves
    toward 1 in proportion to how far above `tau` it is,
      g' = g + (1 - g) * clamp((g - tau) / (1 - tau), 0, 1),
    so g' = g up to tau, g' = 1 at g = 1, and g' is continuous and increasing.
    A band whose ideal gain is 0.9 (about 6 dB SNR with tau 0.8) is asked for
    0.95: where speech clearly dominates, the noise left is masked by it, and
    the network is taught to pass the speech whole instead of trimming it."""
    g = g.clamp(0.0, 1.0)
    return g + (1.0 - g) * ((g - tau) / (1.0 - tau)).clamp(0.0, 1.0)


def _noisy_energy_of_targets(x, nb, lookahead):
    """The noisy band energies E_y (float64, 16-bit units) each target row
    describes: features 0..nb-1 are log10(E_y + 1e-2), and row t's targets
    belong to the features of row t - lookahead (zeros before the start)."""
    ey = (torch.pow(10.0, x[..., :nb].double()) - 1e-2).clamp_min(0.0)
    return torch.cat([torch.zeros_like(ey[:, :lookahead]), ey[:, :ey.shape[1] - lookahead]], 1)


def band_energy_loss(gh, g, x, cell, lookahead):
    """Squared error of the enhanced band energies in log10, gh^2 E_y against
    g^2 E_y, over the cells of `cell`.

    E_y is the noisy band energy the network saw (features 0..nb-1 are
    log10(E_y + 1e-2), docs/FORMATS.md); row t's targets belong to the
    features of row t - lookahead. The floor, 30 dB under the frame's mean
    noisy band energy (plus a 16-bit-units constant), stands for what is
    masked or inaudible: an error far below it costs nothing. Unlike the
    gain loss, each band's error counts by its loudness against that floor,
    so a loud band of speech cut, or loud noise let through, costs more than
    the same gain error in a quiet band.
    """
    ey = _noisy_energy_of_targets(x, gh.shape[-1], lookahead)
    floor = 1e-3 * ey.mean(-1, keepdim=True) + 1.0
    d = torch.log10(gh.double() ** 2 * ey + floor) - torch.log10(g.double() ** 2 * ey + floor)
    return _masked_mean((d * d).to(gh.dtype), cell)


SNR_LOW_DB, SNR_SPAN_DB = -10.0, 40.0


def frame_snr_db(g, x, band_mask, lookahead):
    """Each frame's SNR in dB, from the ideal gains and the noisy band energies:
    speech sum_b g^2 E_y, noise sum_b (1 - g^2) E_y over the valid bands (g is
    sqrt(E_x / E_y), clamped to [0, 1]); rows aligned as in band_energy_loss.
    A tiny floor keeps silent frames finite (they come out near 0 dB)."""
    ey = _noisy_energy_of_targets(x, g.shape[-1], lookahead) * band_mask[:, None, :].double()
    g2 = g.double().clamp(0.0, 1.0) ** 2
    speech, noise = (g2 * ey).sum(-1), ((1.0 - g2) * ey).sum(-1)
    return (10.0 * torch.log10((speech + 1e-3) / (noise + 1e-3))).to(g.dtype)


def snr_target(snr_db):
    """The head's target in [0, 1]: -10 dB -> 0, +30 dB -> 1, linear between."""
    return ((snr_db - SNR_LOW_DB) / SNR_SPAN_DB).clamp(0.0, 1.0)


def snr_loss(zs, batch, lookahead):
    """Binary cross-entropy of a frame-SNR head's logits zs [B,T] against
    snr_target(frame_snr_db(...)) over valid frames.

    PercepNet+ (Ge et al., Interspeech 2022) adds an SNR estimator trained
    beside the gains, so that the shared layers learn how much of each frame
    is speech, the uncertainty over-attenuation comes from. Here the head is
    training-only (one linear layer on the last trunk GRU): the model file,
    the engine and the cost stay as they are."""
    t = snr_target(frame_snr_db(batch["g"], batch["x"], batch["band_mask"], lookahead))
    bce = F.binary_cross_entropy_with_logits(zs, t, reduction="none")
    return _masked_mean(bce, batch["time_mask"])


def _weighted_mean(x, w):
    return (x * w).sum() / w.sum().clamp_min(1.0)


def _masked_mean(x, mask):
    return _weighted_mean(x, mask.to(x.dtype))


def percepnet_loss(zg, zr, zv, batch, weights=None):
    """Return (total, parts dict) for logits zg/zr [B,T,nb], zv [B,T] or None.

    `batch` holds targets g, r [B,T,nb], v [B,T] and masks time_mask [B,T],
    band_mask [B,nb]. Gain and strength terms average over valid (frame, band)
    cells; the VAD BCE averages over valid frames.

    weights["above_band"] (default 0: ignored) lets the gain term count the
    bands above a band-limited clip's bandwidth with that weight. Their gain
    target is right for the input the network sees (the mixture holds no
    speech there, only noise, so g ~ 0): ignoring them entirely never
    teaches the network to remove noise above the speech of a band-limited
    talker. The small weight keeps the prior "no speech up there" from
    dominating what full-band clips teach. Strengths stay in-band only: with
    no speech there is no harmonic structure to aim at.

    weights["distortion"] (default 1: the paper's symmetric loss) multiplies
    the gain error of cells where the predicted gain is BELOW the target, i.e.
    where the network attenuates speech it should keep. Where the network
    cannot tell speech from noise, a symmetric loss settles on a gain between
    the two, which removes a few dB of speech in every uncertain band; DNSMOS
    SIG (and listeners) punish that more than the same amount of residual
    noise. In confident noise-only cells (target ~0) an over-estimate is the
    only possible error, so noise removal there is untouched.
      L_g = mean (sqrt g - sqrt gh)^2 + quartic * mean (sqrt g - sqrt gh)^4
      L_r = mean (sqrt(1-r) - sqrt(1-rh))^2

    weights["gain_smoothing"] (default 0: off) = tau of smooth_gain_target,
    applied to the gain targets before the error.

    weights["energy"] (default 0: off) adds that weight times
    band_energy_loss (needs batch["x"], the raw features).
    """
    w = dict(DEFAULT_WEIGHTS, **(weights or {}))
    tm, bm = batch["time_mask"], batch["band_mask"]
    cell = tm[:, :, None] & bm[:, None, :]
    g = batch["g"]
    if w["gain_smoothing"] > 0:
        g = smooth_gain_target(g, w["gain_smoothing"])
    dg = _sqrt_target(g) - torch.exp(0.5 * F.logsigmoid(zg))
    d2 = dg * dg
    gw = cell.to(d2.dtype)
    if w["above_band"] > 0:
        gw = gw + w["above_band"] * (tm[:, :, None] & ~bm[:, None, :]).to(d2.dtype)
    # The normaliser stays the cell count, so distortion = 1 is the paper's loss.
    ew = torch.where(dg > 0, w["distortion"], 1.0) if w["distortion"] != 1.0 else 1.0
    l_g2 = _weighted_mean(d2 * ew, gw)
    l_g4 = _weighted_mean(d2 * d2 * ew, gw)
    dr = _sqrt_target(1.0 - batch["r"]) - torch.exp(0.5 * F.logsigmoid(-zr))
    l_r = _masked_mean(dr * dr, cell)
    total = w["gain"] * (l_g2 + w["quartic"] * l_g4) + w["strength"] * l_r
    parts = {"gain": (l_g2 + w["quartic"] * l_g4).detach(), "strength": l_r.detach()}
    if w["energy"] > 0:
        l_e = band_energy_loss(torch.sigmoid(zg), batch["g"].clamp(0.0, 1.0), batch["x"], cell,
                               w["lookahead"])
        total = total + w["energy"] * l_e
        parts["energy"] = l_e.detach()
    if zv is not None and w["vad"] > 0:
        bce = F.binary_cross_entropy_with_logits(zv, batch["v"], reduction="none")
        l_v = _masked_mean(bce, tm)
        total = total + w["vad"] * l_v
        parts["vad"] = l_v.detach()
    parts["total"] = total.detach()
    return total, parts
