"""A second, independent speaker measure: a GMM-UBM log-likelihood ratio on cepstra (numpy only).

Nothing here is shared with the GE2E judge (evals.speaker_judge) beyond the 16 kHz mel front end's
filter bank: no neural network, no pretrained weights. Features: 19 MFCCs (c1-c19, from the 40-band log
mel at 25 ms / 10 ms) and their deltas over the frames within 30 dB of the loudest, mean-normalised
per recording (CMN) so that a microphone's colour alone cannot carry the decision. The universal
background model (UBM) is a diagonal GMM trained by EM on other speakers; a speaker's model is the UBM
with its means MAP-adapted to that speaker's frames (relevance 16, Reynolds et al. 2000). The score of a
test segment is the mean per-frame log p(x | speaker) - log p(x | UBM): above 0 means "more like this
speaker than like people in general".

It is a weak model by design (a few seconds of enrolment, no channel compensation beyond CMN); it is
here so that anything tuned to raise the GE2E score must also move a measure built on other features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import dct

from evals.speaker_judge import SR, mel_spectrogram, resample

N_CEPS = 19


def mfcc(samples: np.ndarray, sr: int) -> np.ndarray:
    """(frames, 38): c1-c19 and deltas of the active frames, mean-normalised. Empty if no sound."""
    x = resample(samples, sr, SR)
    if x.size < 800:
        return np.zeros((0, 2 * N_CEPS), np.float32)
    mel = mel_spectrogram(x)
    logmel = np.log(mel + 1e-10)
    energy = logmel.max(axis=1)
    keep = energy > energy.max() - 30 * np.log(10) / 10  # within 30 dB of the loudest frame
    ceps = dct(logmel, type=2, norm="ortho", axis=1)[:, 1:N_CEPS + 1]
    padded = np.pad(ceps, ((2, 2), (0, 0)), mode="edge")
    delta = (2 * (padded[4:] - padded[:-4]) + (padded[3:-1] - padded[1:-3])) / 10
    feats = np.hstack([ceps, delta])[keep]
    if len(feats) == 0:
        return np.zeros((0, 2 * N_CEPS), np.float32)
    return (feats - feats.mean(axis=0)).astype(np.float32)


@dataclass
class GMM:
    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    variances: np.ndarray  # (k, d)

    def component_loglik(self, x: np.ndarray) -> np.ndarray:
        """(n, k) log w_k + log N(x | mu_k, diag var_k)."""
        inv = 1.0 / self.variances
        const = -0.5 * (x.shape[1] * np.log(2 * np.pi) + np.log(self.variances).sum(axis=1))
        quad = (x ** 2) @ inv.T - 2 * x @ (self.means * inv).T + ((self.means ** 2) * inv).sum(axis=1)
        return np.log(self.weights) + const - 0.5 * quad

    def loglik(self, x: np.ndarray) -> np.ndarray:
        c = self.component_loglik(x)
        top = c.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(c - top).sum(axis=1, keepdims=True)))[:, 0]

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        c = self.component_loglik(x)
        c -= c.max(axis=1, keepdims=True)
        p = np.exp(c)
        return p / p.sum(axis=1, keepdims=True)


def train_ubm(frames: np.ndarray, k: int = 32, iterations: int = 25, seed: int = 0,
              floor: float = 1e-3) -> GMM:
    """Diagonal GMM by EM from k random frames as the first means."""
    rng = np.random.default_rng(seed)
    x = frames.astype(np.float64)
    var0 = x.var(axis=0) + floor
    gmm = GMM(np.full(k, 1.0 / k), x[rng.choice(len(x), k, replace=False)].copy(), np.tile(var0, (k, 1)))
    for _ in range(iterations):
        post = gmm.posteriors(x)
        n = post.sum(axis=0) + 1e-9
        means = (post.T @ x) / n[:, None]
        variances = (post.T @ (x ** 2)) / n[:, None] - means ** 2
        gmm = GMM(n / n.sum(), means, np.maximum(variances, floor * var0))
    return gmm


def adapt(ubm: GMM, frames: np.ndarray, relevance: float = 16.0) -> GMM:
    """MAP adaptation of the means only."""
    x = frames.astype(np.float64)
    post = ubm.posteriors(x)
    n = post.sum(axis=0)
    ex = (post.T @ x) / np.maximum(n, 1e-9)[:, None]
    alpha = (n / (n + relevance))[:, None]
    return GMM(ubm.weights, alpha * ex + (1 - alpha) * ubm.means, ubm.variances)


def llr(speaker: GMM, ubm: GMM, frames: np.ndarray) -> float | None:
    """Mean per-frame log-likelihood ratio (None: no active frames)."""
    if len(frames) == 0:
        return None
    x = frames.astype(np.float64)
    return float(np.mean(speaker.loglik(x) - ubm.loglik(x)))
