"""Audio features for lip-sync: log-mel windows, one per video frame, and the loudness envelope.

The mouth moves slightly before the sound it makes and keeps its shape after, so each video frame gets a
window of context (about +-0.2 s of 10 ms mel frames) rather than the spectrum under that frame alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d

from swapengine.voice import speech

SR = 16000


@dataclass(frozen=True)
class FeatureSpec:
    """What the model was trained on; saved with it, so inference computes the very same features."""

    sr: int = SR
    n_mels: int = 40
    win_s: float = 0.025
    hop_s: float = 0.01
    context: int = 20  # mel frames on each side of the video frame's centre
    fmin: float = 60.0
    fmax: float = 7600.0

    @property
    def window(self) -> int:
        return 2 * self.context + 1


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def mel_filterbank(spec: FeatureSpec, n_fft: int) -> np.ndarray:
    """Triangular HTK-mel filters, (n_mels, n_fft // 2 + 1), each normalised to unit area."""
    edges_mel = np.linspace(_hz_to_mel(np.array(spec.fmin)), _hz_to_mel(np.array(spec.fmax)), spec.n_mels + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / spec.sr)
    bank = np.zeros((spec.n_mels, len(freqs)))
    for m in range(spec.n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rise = (freqs - lo) / max(mid - lo, 1e-9)
        fall = (hi - freqs) / max(hi - mid, 1e-9)
        bank[m] = np.clip(np.minimum(rise, fall), 0.0, None)
        bank[m] /= max(bank[m].sum(), 1e-9)
    return bank.astype(np.float32)


def resample(samples: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return samples.astype(np.float32, copy=False)
    g = np.gcd(sr, target)
    return signal.resample_poly(samples, target // g, sr // g).astype(np.float32)


def log_mel(samples: np.ndarray, sr: int, spec: FeatureSpec = FeatureSpec()) -> np.ndarray:
    """(frames, n_mels) natural-log mel energies at spec.hop_s; frame j is centred at j * hop_s."""
    x = resample(np.asarray(samples, dtype=np.float32), sr, spec.sr)
    win = int(round(spec.win_s * spec.sr))
    hop = int(round(spec.hop_s * spec.sr))
    n_fft = 1 << (win - 1).bit_length()
    padded = np.pad(x, (win // 2, win // 2 + hop))
    count = max((len(padded) - win) // hop + 1, 1)
    if len(padded) < win:
        padded = np.pad(padded, (0, win - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:count]
    power = np.abs(np.fft.rfft(frames * np.hanning(win).astype(np.float32), n=n_fft, axis=1)) ** 2
    return np.log(power @ mel_filterbank(spec, n_fft).T + 1e-8).astype(np.float32)


def frame_windows(mel: np.ndarray, fps: float, n_frames: int, spec: FeatureSpec = FeatureSpec(),
                  pad: np.ndarray | None = None) -> np.ndarray:
    """(n_frames, window, n_mels): the mel context around each video frame's centre time.

    Outside the audio the window is filled with `pad` (the model's silence), not zeros, because zero
    log-energy would read as a loud sound.
    """
    floor = mel.min(axis=0) if pad is None and len(mel) else pad
    if floor is None:
        floor = np.full(spec.n_mels, np.log(1e-8), np.float32)
    centres = np.round((np.arange(n_frames) + 0.5) / fps / spec.hop_s).astype(int)
    offsets = np.arange(-spec.context, spec.context + 1)
    idx = centres[:, None] + offsets[None, :]
    padded = np.concatenate([mel, floor[None, :].astype(np.float32)], axis=0)
    idx = np.where((idx < 0) | (idx >= len(mel)), len(mel), idx)
    return padded[idx]


def envelope_db(samples: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
    """Loudness (dBFS of the RMS) over each video frame's duration, for opening-vs-sound correlation."""
    x = np.asarray(samples, dtype=np.float64)
    out = np.full(n_frames, -120.0)
    for i in range(n_frames):
        a, b = int(i / fps * sr), int((i + 1) / fps * sr)
        chunk = x[a:b]
        if chunk.size:
            out[i] = 20 * np.log10(np.sqrt(np.mean(chunk**2)) + 1e-6)
    return out


def smooth_envelope_db(samples: np.ndarray, sr: int, fps: float, n_frames: int, sigma: float = 0.8) -> np.ndarray:
    """`envelope_db` smoothed over about a frame: what a mouth driven by loudness follows."""
    return gaussian_filter1d(envelope_db(samples, sr, fps, n_frames), sigma)


def clip_samples(clip: Path | str, sr: int = SR) -> np.ndarray:
    """The clip's sound, mono at `sr`, decoded through an ffmpeg pipe (BadInput "no_audio" without it)."""
    return speech.load_audio(clip, sr)
