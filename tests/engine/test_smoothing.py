"""Landmark smoothing: jitter removed, no lag on motion, fast lips kept, nothing blended over a cut."""

from __future__ import annotations

import numpy as np

from evals.metrics import MOUTH, lip_opening
from swapengine.faces import smoothing

FPS = 25.0


def face(n: int, seed: int = 0, noise: float = 1.0) -> np.ndarray:
    """A 100 px inter-ocular face (478 points), with detector-like per-frame noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 200, (478, 3))
    base[33, :2], base[263, :2] = (50, 100), (150, 100)
    return (np.repeat(base[None], n, axis=0) + rng.normal(0, noise, (n, 478, 3))).astype(np.float32)


def test_still_face_jitter_removed() -> None:
    raw = face(100)
    smooth = smoothing.smooth_landmarks(np.arange(100), raw, FPS)
    rigid = np.setdiff1d(np.arange(468), np.flatnonzero(smoothing.fast_points()))
    assert smooth[:, rigid].std(axis=0).mean() < 0.35 * raw[:, rigid].std(axis=0).mean()
    assert smooth.dtype == np.float32 and smooth.shape == raw.shape


def test_moving_head_has_no_lag() -> None:
    """A head gliding at 2 inter-ocular distances per second: the causal filter trails, the two-way does not."""
    n = 60
    raw = face(n, noise=0.0)
    raw[:, :, 0] += (np.arange(n) * 200 / FPS)[:, None]
    truth = raw.astype(np.float64)
    causal = smoothing.one_euro(raw, FPS, 100.0)
    two_way = smoothing.smooth_landmarks(np.arange(n), raw, FPS)
    middle = slice(10, n - 10)
    assert np.abs(causal[middle] - truth[middle]).mean() > 1.0
    assert np.abs(two_way[middle] - truth[middle]).mean() < 0.1


def test_fast_mouth_keeps_its_range() -> None:
    n = 100
    raw = face(n, noise=0.3)
    opening = 25 * (1 + np.sin(2 * np.pi * 3.0 * np.arange(n) / FPS))  # 3 syllables a second
    lower = [i for i in MOUTH if raw[0, i, 1] > raw[0, 13, 1]] + [14]
    raw[:, lower, 1] += opening[:, None]
    smooth = smoothing.smooth_landmarks(np.arange(n), raw, FPS)
    lips_raw = np.array([lip_opening(f) for f in raw])
    lips_smooth = np.array([lip_opening(f) for f in smooth])
    spread = np.ptp(lips_smooth[10:-10]) / np.ptp(lips_raw[10:-10])
    assert spread > 0.85


def test_segments_break_at_gaps_and_cuts() -> None:
    frames = np.array([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13])
    assert smoothing.segments(frames) == [(0, 5), (5, 11)]
    assert smoothing.segments(frames, cuts=[11]) == [(0, 5), (5, 8), (8, 11)]
    raw = face(len(frames), noise=0.0)
    raw[5:] += 80.0  # the face somewhere else after the gap
    smooth = smoothing.smooth_landmarks(frames, raw, FPS)
    np.testing.assert_allclose(smooth, raw, atol=1e-3)
