"""Synthetic voiced sound with known pitch and formants, for the voice-conversion tests."""

from __future__ import annotations

import numpy as np
from scipy import signal


def vowel(f0: np.ndarray | float, sr: int, seconds: float = 1.0,
          formants: tuple[tuple[float, float], ...] = ((700.0, 110.0), (1200.0, 120.0))) -> np.ndarray:
    """A glottal-pulse train at pitch `f0` (Hz, or one value per sample) through (frequency, bandwidth)
    resonances: a vowel whose formants are exactly where they were put."""
    pitch = np.broadcast_to(np.asarray(f0, np.float64), (int(seconds * sr),))
    phase = np.cumsum(pitch / sr)
    out = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    for frequency, bandwidth in formants:
        r = np.exp(-np.pi * bandwidth / sr)
        out = signal.lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * frequency / sr), r * r], out)
    return (0.3 * out / np.max(np.abs(out))).astype(np.float32)
