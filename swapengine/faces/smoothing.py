"""Temporal smoothing of landmark tracks: One-Euro filters run forwards and backwards.

A One-Euro filter smooths hard when a point is slow (kills detector jitter on a still face) and follows
quickly when it moves (a mouth opening, a head turn). Its remaining lag is cancelled by averaging a forward
and a backward pass: the analysis sees the whole clip, so it can afford a filter that looks ahead.
Speeds are measured in inter-ocular distances per second, so the same settings suit any face size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_CUTOFF_HZ = 1.2
BETA = 1.5
# Lips and eyelids move fast (syllables, blinks of ~0.1 s): smoothed lightly, or the mouth goes still.
# Measured on the dev templates: lip-opening range kept at 0.89-0.99 of the raw one instead of 0.57-0.98.
FAST_MIN_CUTOFF_HZ = 8.0
FAST_BETA = 5.0
D_CUTOFF_HZ = 1.0
EYE_OUTER = (33, 263)


def fast_points(n_points: int = 478) -> np.ndarray:
    """Boolean mask of lip, eyelid and iris points."""
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    idx = {i for edges in (fm.FACEMESH_LIPS, fm.FACEMESH_LEFT_EYE, fm.FACEMESH_RIGHT_EYE) for e in edges for i in e}
    idx |= set(range(468, min(n_points, 478)))
    mask = np.zeros(n_points, bool)
    mask[[i for i in idx if i < n_points]] = True
    return mask


def _alpha(cutoff: np.ndarray | float, fps: float) -> np.ndarray:
    tau = 1.0 / (2 * np.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau * fps)


def one_euro(
    seq: np.ndarray, fps: float, scale: np.ndarray | float = 1.0, min_cutoff: np.ndarray | float = MIN_CUTOFF_HZ,
    beta: np.ndarray | float = BETA, d_cutoff: float = D_CUTOFF_HZ,
) -> np.ndarray:
    """Causal One-Euro filter over axis 0 of (n, points, dims); the cutoff adapts per point to its speed
    (the norm over dims of the filtered derivative, divided by `scale`). min_cutoff and beta may be
    per point, shaped (points, 1)."""
    x = np.asarray(seq, np.float64)
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    scales = np.broadcast_to(np.asarray(scale, np.float64), (len(x),))
    a_d = _alpha(d_cutoff, fps)
    out[0] = x[0]
    dx_hat = np.zeros_like(x[0])
    for i in range(1, len(x)):
        dx = (x[i] - out[i - 1]) * fps
        dx_hat = dx_hat + a_d * (dx - dx_hat)
        speed = np.linalg.norm(dx_hat, axis=-1, keepdims=True) / max(float(scales[i]), 1e-6)
        a = _alpha(min_cutoff + beta * speed, fps)
        out[i] = out[i - 1] + a * (x[i] - out[i - 1])
    return out


def zero_lag(seq: np.ndarray, fps: float, scale: np.ndarray | float = 1.0, **params: Any) -> np.ndarray:
    """Mean of a forward and a backward One-Euro pass: their opposite lags cancel."""
    scales = np.broadcast_to(np.asarray(scale, np.float64), (len(seq),))
    forward = one_euro(seq, fps, scales, **params)
    backward = one_euro(seq[::-1], fps, scales[::-1], **params)[::-1]
    return (forward + backward) / 2


def segments(frames: np.ndarray, cuts: Sequence[int] | np.ndarray = ()) -> list[tuple[int, int]]:
    """[start, stop) row ranges of a track with consecutive frame numbers and no scene cut inside:
    smoothing across a gap or a cut would blend two different views of the face."""
    frames = np.asarray(frames)
    if len(frames) == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    cut_set = {int(c) for c in cuts}
    breaks = np.union1d(breaks, [i for i in range(1, len(frames)) if int(frames[i]) in cut_set])
    edges = [0, *[int(b) for b in breaks], len(frames)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def smooth_landmarks(
    frames: np.ndarray, landmarks: np.ndarray, fps: float, cuts: Sequence[int] | np.ndarray = (), **params: Any
) -> np.ndarray:
    """A track's (n, 478, 3) landmarks smoothed segment by segment, float32, same shape."""
    out = np.asarray(landmarks, np.float32).copy()
    if not params and landmarks.shape[1:] == (478, 3):
        fast = fast_points()[:, None]
        params = {"min_cutoff": np.where(fast, FAST_MIN_CUTOFF_HZ, MIN_CUTOFF_HZ),
                  "beta": np.where(fast, FAST_BETA, BETA)}
    for a, b in segments(frames, cuts):
        if b - a < 3:
            continue
        part = landmarks[a:b].astype(np.float64)
        iod = np.linalg.norm(part[:, EYE_OUTER[0], :2] - part[:, EYE_OUTER[1], :2], axis=1)
        out[a:b] = zero_lag(part, fps, np.full(b - a, max(float(np.median(iod)), 1.0)), **params)
    return out
