"""Phoneme timings for a recording whose words are known, by aligning the TTS's reading of the same words.

A recording (the celebrity's phrase bank, an admin's own take) has no phoneme timings, so its lips would
have to follow the sound alone. When the slot's text is known, the TTS says the same words (it does give
timings), and dynamic time warping over speaker-normalised cepstra (each utterance's mean and variance
taken out, so a different voice matters less than different words) maps every TTS phoneme onto the
recording's time axis. An alignment is refused, not used, when it needs an implausible speed change
or when it fits the recording little better than it fits the same recording played backwards (same
sounds, wrong order): then the recording does not say these words.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct

from swapengine.voice import audiofeat
from swapengine.voice.tts import Phoneme, Speech

HOP_S = audiofeat.FeatureSpec().hop_s
N_CEPSTRA = 13
# Aligned cost over the reversed recording's: about 0.8 for the same words (a reading against Piper moved
# to another voice), 0.887-0.99 for other words or a part of them. In alignment_eval 0.86 refused 5 of 30
# same-word pairs and accepted none of 120 others; 0.88 refused 3 and accepted 2, 0.90 refused 3 and
# accepted 7. A refusal costs little (the lip model moves the lips), a wrong acceptance mouths other words.
MAX_COST_RATIO = 0.86
MAX_SPEED_CHANGE = 3.0  # a slope beyond this, held over a third of the line, is not the same words


def cepstra(samples: np.ndarray, sr: int) -> np.ndarray:
    """(T, 26): 13 mel cepstra and their deltas every 10 ms, normalised per utterance."""
    mel = audiofeat.log_mel(samples, sr, audiofeat.FeatureSpec())
    c = dct(mel, type=2, norm="ortho", axis=1)[:, :N_CEPSTRA]
    delta = np.gradient(c, axis=0) if len(c) > 1 else np.zeros_like(c)
    feats = np.concatenate([c, delta], axis=1)
    return (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-6)


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """The cheapest monotonic path through the (len(a), len(b)) distance matrix, as (k, 2) index pairs,
    and its mean step cost. Steps: diagonal, or one frame of either (penalised, so the path prefers the
    diagonal unless the speeds really differ)."""
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)) / np.sqrt(a.shape[1])
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    step = np.zeros((n + 1, m + 1), np.int8)  # 0 diagonal, 1 from above (a advances), 2 from the left
    penalty = 0.1
    for i in range(1, n + 1):
        diag, up = acc[i - 1, :-1], acc[i - 1, 1:] + penalty
        best = np.minimum(diag, up)
        came = np.where(diag <= up, 0, 1).astype(np.int8)
        row = acc[i]
        c = cost[i - 1]
        for j in range(1, m + 1):
            left = row[j - 1] + penalty
            if left < best[j - 1]:
                row[j] = c[j - 1] + left
                step[i, j] = 2
            else:
                row[j] = c[j - 1] + best[j - 1]
                step[i, j] = came[j - 1]
    path = []
    i, j = n, m
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        move = step[i, j]
        if move == 0:
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            j -= 1
    path.reverse()
    return np.array(path), float(acc[n, m] / max(len(path), 1))


def _plausible(path: np.ndarray) -> bool:
    """False when a third of the line or more moves at over MAX_SPEED_CHANGE times the other's speed (a
    pause of different length is fine: it is shorter than that)."""
    n, m = path[-1] + 1
    window = max(int(min(n, m) / 3), 2)
    for k in range(0, len(path) - window, max(window // 4, 1)):
        da, db = path[k + window] - path[k]
        if da > MAX_SPEED_CHANGE * max(db, 1) or db > MAX_SPEED_CHANGE * max(da, 1):
            return False
    return True


def align(reading: Speech, recording: np.ndarray, sr: int) -> list[Phoneme] | None:
    """The reading's phonemes moved onto `recording`'s time axis (seconds from its first sample), or None
    when the reading has no timings or the two do not align plausibly."""
    if not reading.phonemes:
        return None
    a, b = cepstra(reading.samples, reading.sr), cepstra(recording, sr)
    if len(a) < 5 or len(b) < 5:
        return None
    path, cost = dtw_path(a, b)
    if not _plausible(path) or cost > MAX_COST_RATIO * dtw_path(a, b[::-1])[1]:
        return None
    # For each reading frame, the mean recording frame it maps to; then times through that map.
    frames_a = np.arange(len(a))
    mapped = np.array([path[path[:, 0] == i, 1].mean() for i in frames_a])
    duration = len(recording) / sr

    def moved(t: float) -> float:
        return float(np.clip(np.interp(t / HOP_S, frames_a, mapped) * HOP_S, 0.0, duration))

    return [(p, moved(begin), max(moved(end), moved(begin))) for p, begin, end in reading.phonemes]
