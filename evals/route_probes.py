"""Crude probes of two routes for the voice, scored on a HELD-OUT part of the celebrity's speech.

These are measurements to choose a route, not product code. Both routes reuse the celebrity's own
audio, and the judges' reference is the same celebrity audio, so scoring them against the material
they copy from would reward copying. Here the celebrity's speech outside the slot is split in time:
the first half is the material a route may use, the second half is the judges' reference, and the
level to reach is a real window of the first half scored against the second half.

- `units`: random 100-250 ms pieces of the material strung together to the slot's length (no attempt
  at the words): how high reuse of the celebrity's own sound can score at best, given a perfect choice
  of units. Unintelligible by construction.
- `knn`: each STFT frame of the raw TTS line replaced by the mean magnitude of its k nearest material
  frames (MFCC c1-c19, mean-normalised per side), the TTS frame's level kept, phase by Griffin-Lim
  started from the TTS phase: a frame-level kNN conversion in the spirit of kNN-VC, but in a
  cepstral space and without a neural vocoder, so it sounds rough; it shows whether frames of the
  celebrity's own voice, chosen by content, move the judges and keep the name recognisable.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct
from scipy.signal import istft, stft

from evals.cepstral_judge import N_CEPS
from evals.speaker_judge import SR, mel_filters, resample

N_FFT, HOP = 512, 128


def split_material(reference: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(material, held-out reference) at 16 kHz: the first and second half in time."""
    x = resample(reference, sr, SR)
    half = len(x) // 2
    return x[:half], x[half:]


def shuffled_units(material: np.ndarray, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fade = int(0.01 * SR)
    ramp = np.linspace(0, 1, fade, dtype=np.float32)
    out = np.zeros(0, np.float32)
    while len(out) < seconds * SR:
        n = int(rng.uniform(0.10, 0.25) * SR)
        if len(material) <= n:
            break
        start = int(rng.integers(0, len(material) - n))
        piece = material[start:start + n].astype(np.float32).copy()
        if len(out) >= fade:
            piece[:fade] *= ramp
            out[-fade:] *= ramp[::-1]
            out = np.concatenate([out[:-fade], out[-fade:] + piece[:fade], piece[fade:]])
        else:
            out = np.concatenate([out, piece])
    return out[:int(seconds * SR)]


def _spec(x: np.ndarray) -> np.ndarray:
    return stft(x, SR, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary="even")[2]


def _ceps(mag: np.ndarray) -> np.ndarray:
    """(frames, 19) mean-normalised MFCCs from a magnitude STFT (bins, frames) at N_FFT."""
    power = (mag.T ** 2)
    filters = mel_filters(SR, N_FFT, 40)
    logmel = np.log(power @ filters.T + 1e-10)
    c = dct(logmel, type=2, norm="ortho", axis=1)[:, 1:N_CEPS + 1]
    return c - c.mean(axis=0)


def knn_convert(line: np.ndarray, sr: int, material: np.ndarray, k: int = 2, iterations: int = 32) -> np.ndarray:
    """The TTS line at 16 kHz with its frames' spectra taken from the k nearest material frames."""
    x = resample(line, sr, SR)
    src = _spec(x)
    mat = np.abs(_spec(material))
    level_m = (mat ** 2).sum(axis=0)
    keep = level_m > level_m.max() * 1e-4  # material frames within 40 dB of its loudest
    mat = mat[:, keep]
    src_mag = np.abs(src)
    a, b = _ceps(src_mag), _ceps(mat)
    d = (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None, :]
    nearest = np.argsort(d, axis=1)[:, :k]
    new = mat[:, nearest].mean(axis=2)  # (bins, frames)
    gain = np.sqrt((src_mag ** 2).sum(axis=0) / np.maximum((new ** 2).sum(axis=0), 1e-12))
    new = new * gain[None, :]
    phase = np.exp(1j * np.angle(src))
    y = x
    for _ in range(iterations):
        y = istft(new * phase, SR, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary=True)[1]
        spec = _spec(y)[:, :new.shape[1]]
        if spec.shape[1] < new.shape[1]:
            spec = np.pad(spec, ((0, 0), (0, new.shape[1] - spec.shape[1])))
        phase = np.exp(1j * np.angle(spec))
    y = istft(new * phase, SR, nperseg=N_FFT, noverlap=N_FFT - HOP, boundary=True)[1][:len(x)]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (0.9 / peak) if peak > 0 else y).astype(np.float32)
