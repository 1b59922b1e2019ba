"""Where the voice's formants sit: how long the speaker's vocal tract is, next to the TTS voice's.

An equaliser can match a voice's average spectrum, but not move its resonances: a male TTS voice raised
to a woman's pitch keeps a man's formants and sounds like a man speaking high. The third formant depends
little on which vowel is said and mostly on the length of the vocal tract, so the ratio of the median F3
of the speaker's speech to the line's says how far to move all formants (`voice.convert_towards` does it
by resampling and putting pitch and duration back with rubberband). Formants come from LPC (order 12 at
10 kHz, autocorrelation method) on the voiced 30 ms frames.
"""

from __future__ import annotations

import numpy as np
from scipy import signal
from scipy.linalg import solve_toeplitz

from swapengine.voice.speech import mel_ltas_db, pitch_track

WORK_SR = 10000
ORDER = 12
FACTOR_LIMITS = (0.85, 1.25)
MIN_FRAMES = 20
# A voice's own F3 is read once from this (about 4 s of varied vowels), not from each short line.
CALIBRATION = ("The quick brown fox jumps over the lazy dog. Five wizards boxed a quick jig, "
               "and we were all away a year ago.")


def frame_formants(samples: np.ndarray, sr: int, count: int = 3) -> np.ndarray:
    """(frames, count) the lowest `count` formants (Hz) of each voiced 30 ms frame (10 ms hop)."""
    g = int(np.gcd(sr, WORK_SR))
    x = signal.resample_poly(np.asarray(samples, np.float64), WORK_SR // g, sr // g)
    x = signal.lfilter([1.0, -0.63], [1.0], x)  # pre-emphasis: the higher formants get their share
    win, hop = int(0.03 * WORK_SR), int(0.01 * WORK_SR)
    _, f0 = pitch_track(x, WORK_SR, hop_s=0.01)
    window = np.hamming(win)
    found = []
    for k, start in enumerate(range(0, len(x) - win, hop)):
        if k >= len(f0) or not np.isfinite(f0[k]):
            continue
        frame = x[start:start + win] * window
        r = np.correlate(frame, frame, "full")[win - 1:win + ORDER + 1]
        if r[0] <= 1e-12:
            continue
        try:
            a = solve_toeplitz(r[:ORDER], -r[1:ORDER + 1])
        except np.linalg.LinAlgError:
            continue
        roots = np.roots(np.concatenate([[1.0], a]))
        roots = roots[np.imag(roots) > 0]
        freqs = np.angle(roots) * WORK_SR / (2 * np.pi)
        bandwidths = -np.log(np.abs(roots)) * WORK_SR / np.pi
        peaks = np.sort(freqs[(freqs > 200) & (bandwidths < 400)])
        if len(peaks) >= count:
            found.append(peaks[:count])
    return np.array(found).reshape(-1, count)


def third_formant(samples: np.ndarray, sr: int) -> float | None:
    """The median F3 (Hz) of the voiced frames; None when fewer than MIN_FRAMES give one."""
    table = frame_formants(samples, sr)
    return float(np.median(table[:, 2])) if len(table) >= MIN_FRAMES else None


def factor(ours: float | None, theirs: float | None) -> float:
    """How far to move formants at F3 `ours` towards F3 `theirs` (1.0 when either is unknown, or the two
    are within 3%)."""
    if ours is None or theirs is None:
        return 1.0
    ratio = float(np.clip(theirs / ours, *FACTOR_LIMITS))
    return 1.0 if abs(ratio - 1) < 0.03 else ratio


def shift_factor(line: np.ndarray, reference: np.ndarray, sr: int) -> float:
    """`factor` from the two signals' own third formants."""
    return factor(third_formant(line, sr), third_formant(reference, sr))


def _band_centres(sr: int) -> np.ndarray:
    top = min(7600.0, 0.95 * sr / 2)
    mel = 2595 * np.log10(1 + np.array([80.0, top]) / 700)
    edges = 700 * (10 ** (np.linspace(mel[0], mel[1], 42) / 2595) - 1)
    return edges[1:-1]


def match_envelope(x: np.ndarray, reference: np.ndarray, sr: int, limit_db: float = 15.0) -> np.ndarray:
    """Zero-phase EQ: the smoothed long-term spectrum of the reference over that of the line."""
    top = min(7600.0, 0.95 * sr / 2)
    ref_db = mel_ltas_db(reference, sr, fmax=top)
    own_db = mel_ltas_db(x, sr, fmax=top)
    gain = (ref_db - ref_db.mean()) - (own_db - own_db.mean())
    gain = np.convolve(np.pad(gain, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    gain = np.clip(gain - np.median(gain), -limit_db, limit_db)
    pad = 4096
    n = 1 << int(np.ceil(np.log2(len(x) + 2 * pad)))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    curve = 10 ** (np.interp(freqs, _band_centres(sr), gain) / 20)
    spectrum = np.fft.rfft(np.pad(x.astype(np.float64), (pad, n - len(x) - pad)))
    return np.fft.irfft(spectrum * curve, n)[pad:pad + len(x)].astype(np.float32)


