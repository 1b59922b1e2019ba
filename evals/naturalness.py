"""Does the replaced line sit in the soundtrack naturally? Three measures, each against the clip itself.

- join flux: spectral flux (Euclidean distance of successive 10 ms log-mel frames) at each end of the
  slot, the peak within +-30 ms of the join, divided by the track's median flux over its speech. A click
  or a jump in colour reads several times the speech's own typical change; fluent speech's syllable
  onsets reach 2-4.
- HNR: harmonic-to-noise ratio (dB) of the voiced 40 ms frames, from the normalised autocorrelation peak
  at lags of 2.5-16 ms (Boersma 1993, without the window correction): a buzzy or noisy line reads far
  from the speaker's own speech.
- loudness: integrated LUFS of the slot minus that of the 1.5 s of soundtrack on each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.speaker_judge import SR, mel_spectrogram, resample
from swapengine.voice.speech import loudness_lufs

NEIGHBOURS_S = 1.5


@dataclass
class Natural:
    flux_in: float  # peak flux at the slot's start / the track's median speech flux
    flux_out: float
    hnr_slot: float | None  # dB, median over voiced frames
    hnr_around: float | None  # the neighbouring speech's
    lufs_delta: float | None  # slot minus neighbours


def _flux(x: np.ndarray) -> np.ndarray:
    logmel = np.log(mel_spectrogram(x) + 1e-8)
    return np.sqrt((np.diff(logmel, axis=0) ** 2).sum(axis=1))


def hnr_db(samples: np.ndarray, sr: int) -> float | None:
    """Median HNR (dB) over the 40 ms frames whose autocorrelation peak says they are voiced (r > 0.5)."""
    x = resample(samples, sr, SR)
    win, hop = int(0.04 * SR), int(0.01 * SR)
    lo, hi = int(0.0025 * SR), int(0.016 * SR)
    level = np.array([np.sqrt(np.mean(x[i:i + win] ** 2)) for i in range(0, len(x) - win, hop)])
    if level.size == 0:
        return None
    values = []
    for k, i in enumerate(range(0, len(x) - win, hop)):
        if level[k] < level.max() * 0.1:
            continue
        frame = x[i:i + win] - x[i:i + win].mean()
        ac = np.correlate(frame, frame, "full")[win - 1:]
        if ac[0] <= 0:
            continue
        r = float(np.max(ac[lo:hi]) / ac[0])
        if r > 0.5:
            values.append(10 * np.log10(min(r, 0.9999) / (1 - min(r, 0.9999))))
    return float(np.median(values)) if len(values) >= 5 else None


def measure(track: np.ndarray, sr: int, span: tuple[float, float]) -> Natural:
    """The three measures for the slot `span` (seconds) of the written soundtrack `track` (mono)."""
    x = resample(track, sr, SR)
    flux = _flux(x)
    typical = float(np.median(flux[flux > np.percentile(flux, 30)])) if flux.size else 1.0

    def at(t: float) -> float:
        i = int(t * 100)
        part = flux[max(i - 3, 0):i + 4]
        return float(part.max() / typical) if part.size else 0.0

    a, b = int(span[0] * SR), int(span[1] * SR)
    n = int(NEIGHBOURS_S * SR)
    around = np.concatenate([x[max(a - n, 0):a], x[b:b + n]])
    slot_lufs, around_lufs = loudness_lufs(x[a:b], SR), loudness_lufs(around, SR)
    delta = slot_lufs - around_lufs if slot_lufs is not None and around_lufs is not None else None
    return Natural(at(span[0]), at(span[1]), hnr_db(x[a:b], SR), hnr_db(around, SR), delta)
