"""The line's melody moved towards the celebrity's: not only the median pitch, the size of its movement.

`voice.convert_towards` centres a TTS line on the speaker's median pitch (rubberband); this module first
scales the line's contour, its rise and fall around its own median in semitones, to the speaker's. A
line's spread is compared with the speaker's spread over stretches of the same length: a whole clip's
spread also holds the drift between sentences, which one short line does not have.

The contour is changed by pitch-synchronous overlap-add (TD-PSOLA): two-period grains cut at the line's
own pitch marks are laid down again at the new spacing, so the spectral envelope (the voice's timbre) is
kept and nothing else changes. rubberband's pitch, changed every few milliseconds through ffmpeg's
asendcmd, was tried first: it blurred the voicing (the pitch tracker lost a third of the voiced frames).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d, median_filter

from swapengine.voice.speech import median_pitch, pitch_track

log = logging.getLogger(__name__)

MIN_VOICED = 40  # voiced 5 ms pitch frames before a spread is trusted (0.2 s)
SCALE_LIMITS = (0.5, 1.5)  # under half: a monotone; over 1.5x the grains lost a quarter of the voicing
UNVOICED_HOP_S = 0.005  # grain spacing where there is no pitch


def semitones(f0: np.ndarray) -> np.ndarray:
    """Semitones from the median of the voiced frames (NaN where unvoiced), YIN's whole-multiple misses
    folded back and its frame-to-frame jitter taken out (45 ms running median)."""
    voiced = np.isfinite(f0)
    out = np.full(f0.shape, np.nan)
    if not voiced.any():
        return out
    centre = float(np.median(f0[voiced]))
    candidates = f0[voiced, None] * np.array([1 / 3, 1 / 2, 1.0, 2.0, 3.0])[None]
    best = np.abs(np.log(candidates / centre)).argmin(axis=1)
    folded = candidates[np.arange(len(best)), best]
    out[voiced] = median_filter(12 * np.log2(folded / np.median(folded)), 9, mode="nearest")
    return out


def _robust_spread(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    if values.size < MIN_VOICED:
        return None
    return float(np.percentile(values, 75) - np.percentile(values, 25)) / 1.349  # a normal's sigma


def spread(samples: np.ndarray, sr: int) -> float | None:
    """How far the pitch moves: a robust standard deviation in semitones (None: too little voiced)."""
    return _robust_spread(semitones(pitch_track(samples, sr)[1]))


def local_spread(samples: np.ndarray, sr: int, window_s: float) -> float | None:
    """The median spread over half-overlapping stretches of `window_s` that are voiced enough."""
    times, f0 = pitch_track(samples, sr)
    if times.size == 0:
        return None
    found = []
    for start in np.arange(0.0, max(float(times[-1]) - window_s, 0.0) + 1e-9, window_s / 2):
        inside = (times >= start) & (times < start + window_s)
        value = _robust_spread(semitones(f0[inside]))
        if value is not None:
            found.append(value)
    return float(np.median(found)) if found else None


@dataclass(frozen=True)
class Track:
    """A line's pitch, every 5 ms: frequency (NaN unvoiced) and semitones from its median.

    `f0` is rebuilt from the cleaned semitones: YIN's octave misses would otherwise place pitch marks
    half a period apart, and the grains would sing an octave up."""

    times: np.ndarray
    f0: np.ndarray
    semitones: np.ndarray

    @classmethod
    def of(cls, samples: np.ndarray, sr: int) -> Track:
        times, raw = pitch_track(samples, sr)
        tones = semitones(raw)
        voiced = np.isfinite(raw)
        centre = float(np.median(raw[voiced])) if voiced.any() else 0.0
        return cls(times, centre * 2 ** (tones / 12), tones)


def pitch_marks(samples: np.ndarray, sr: int, track: Track) -> tuple[np.ndarray, np.ndarray]:
    """(marks, voiced): sample positions one pitch period apart in voiced stretches, each on the
    strongest peak near it, and every UNVOICED_HOP_S elsewhere."""
    n = len(samples)
    if track.times.size:  # each sample takes its nearest pitch frame's value (0 = unvoiced), no blending
        nearest = np.clip(np.searchsorted(track.times, np.arange(n) / sr), 0, len(track.times) - 1)
        voiced_f0 = np.nan_to_num(track.f0, nan=0.0)[nearest]
    else:
        voiced_f0 = np.zeros(n)
    marks: list[int] = []
    voiced: list[bool] = []
    at, hop = 0, int(UNVOICED_HOP_S * sr)
    # Marks on the peaks of the low-passed wave (under ~3 harmonics) land at the same phase of every
    # period; the raw wave's biggest peak can hop between two formant ripples from period to period.
    f_mid = float(np.nanmedian(track.f0)) if np.isfinite(track.f0).any() else 120.0
    sos = signal.butter(2, min(3 * f_mid, 0.45 * sr), "lowpass", fs=sr, output="sos")
    x = signal.sosfiltfilt(sos, samples) if n > 32 else np.asarray(samples, np.float64)
    while at < n:
        f = voiced_f0[at]
        if f > 0:
            period = int(sr / f)
            lo, hi = max(at - period // 4, 0), min(at + period // 4 + 1, n)
            peak = lo + int(np.argmax(x[lo:hi]))
            if marks and peak <= marks[-1]:
                peak = marks[-1] + max(period // 2, 1)
            marks.append(peak)
            voiced.append(True)
            at = peak + period
        else:
            marks.append(at)
            voiced.append(False)
            at += hop
    return np.array(marks, np.int64), np.array(voiced)


def psola(samples: np.ndarray, sr: int, track: Track, shift_st: np.ndarray) -> np.ndarray:
    """The line with its pitch raised by `shift_st` semitones (one value per track frame), same length.

    Each output mark takes the input grain nearest in time, two local periods long (Hann), and the
    overlapped grains are divided by the summed windows, so unequal spacing never changes the level.
    """
    x = np.asarray(samples, np.float64)
    n = len(x)
    marks, voiced = pitch_marks(x, sr, track)
    if len(marks) < 3:
        return np.asarray(samples, np.float32)
    spacing = np.diff(marks, append=n)
    ratio_at = 2 ** (np.interp(marks / sr, track.times, shift_st) / 12) if track.times.size else np.ones(len(marks))
    out, weight = np.zeros(n), np.zeros(n)
    t = float(marks[0])
    while t < n:
        k = int(np.argmin(np.abs(marks - t)))
        period = int(max(spacing[k], 2))
        lo, hi = max(marks[k] - period, 0), min(marks[k] + period, n)
        window = np.hanning(2 * period + 1)[period - (marks[k] - lo):period + (hi - marks[k])]
        start = int(round(t)) - (marks[k] - lo)
        a, b = max(start, 0), min(start + (hi - lo), n)
        if b > a:
            out[a:b] += (x[lo:hi] * window)[a - start:b - start]
            weight[a:b] += window[a - start:b - start]
        step = spacing[k] / ratio_at[k] if voiced[k] else spacing[k]
        t += max(step, 1.0)
    covered = weight > 1e-3
    out[covered] /= weight[covered]
    out[~covered] = x[~covered]
    return out.astype(np.float32)


def scale_contour(samples: np.ndarray, sr: int, target_spread: float | None) -> tuple[np.ndarray, float]:
    """The line with its pitch movement scaled to `target_spread` semitones around its own median, and the
    scale used (1.0, line unchanged, when either spread is unknown or the change would be under 5%)."""
    track = Track.of(samples, sr)
    own = _robust_spread(track.semitones)
    if own is None or target_spread is None or own < 1e-3:
        return np.asarray(samples, np.float32), 1.0
    scale = float(np.clip(target_spread / own, *SCALE_LIMITS))
    if abs(scale - 1) < 0.05:
        return np.asarray(samples, np.float32), 1.0
    voiced = np.flatnonzero(np.isfinite(track.semitones))
    filled = np.interp(np.arange(len(track.semitones)), voiced, track.semitones[voiced])
    shift = gaussian_filter1d((scale - 1) * filled, 4.0)  # semitones to add, smoothed over ~20 ms
    out = psola(samples, sr, track, shift)
    before, after = median_pitch(samples, sr), median_pitch(out, sr)
    if before is None or after is None or abs(after / before - 1) > 0.12:
        # Scaling around the median keeps it (within the tracker's bias, +7% measured on a doubled glide);
        # a jump beyond that means the marks were wrong (a sung octave): keep the line as it was.
        log.warning("pitch movement not scaled: the median moved from %s to %s Hz", before, after)
        return np.asarray(samples, np.float32), 1.0
    return out, scale
