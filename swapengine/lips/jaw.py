"""The jaw follows the re-animated mouth: the chin drops when the new lips open wider than filmed.

Without it a mouth opened wider than in the filmed frame stretches the lower lip towards a chin that
stays put. The lower face is warped by a smooth displacement field: the lips go where the new mouth puts
them, the chin line follows the lower lip (most at the chin, less and less along the jaw towards the
ears), and the nose, cheeks and a ring outside the jaw line stay put, so the warp fades out before it
reaches anything else in the frame. Thin-plate interpolation on a coarse grid, then one bicubic remap.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

EYE_OUTER = (33, 263)
LOWER_LIP = 17  # mediapipe: the outer lower lip's middle
CHIN_LINE = ((18, 0.95), (200, 0.9), (199, 0.85), (175, 0.8), (152, 0.8))  # below the lip to the chin
JAW_RIGHT = (377, 400, 378, 379, 365, 397, 288, 361, 323, 454)  # from next to the chin up to the ear
JAW_LEFT = (148, 176, 149, 150, 136, 172, 58, 132, 93, 234)
ANCHORS = (4, 1, 2, 98, 327, 205, 425, 207, 427)  # nose tip and base, cheeks beside the mouth: never moved
RING = 0.35  # the fixed ring sits this far (in eye widths) outside the jaw line
GRID = 4  # pixels between the points where the field is interpolated


def jaw_follow(index: int) -> float:
    """How much of the lower lip's motion a jaw-line point takes: 0.8 at the chin, 0 at the ear."""
    for side in (JAW_RIGHT, JAW_LEFT):
        if index in side:
            k = side.index(index) + 1
            return 0.8 * (1 - k / len(side)) ** 1.5
    return dict(CHIN_LINE).get(index, 0.0)


FOLLOWERS = tuple(i for i, _ in CHIN_LINE) + JAW_RIGHT + JAW_LEFT
FOLLOW = np.array([jaw_follow(i) for i in FOLLOWERS])


def _eye_width(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[EYE_OUTER[1]] - lm[EYE_OUTER[0]]))


def moved_points(landmarks: np.ndarray, lips: Sequence[int], lips_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indices, new (x, y)) of the lip and jaw-line landmarks when the lip landmarks `lips` (mediapipe
    indices, the lower lip's middle among them) move to `lips_px`."""
    lm = np.asarray(landmarks, np.float64)[:, :2]
    lips_px = np.asarray(lips_px, np.float64)
    drop = lips_px[list(lips).index(LOWER_LIP)] - lm[LOWER_LIP]
    followers = lm[list(FOLLOWERS)] + FOLLOW[:, None] * drop
    return np.array(tuple(lips) + FOLLOWERS), np.concatenate([lips_px, followers])


def _fixed_points(lm: np.ndarray) -> np.ndarray:
    """Nose, cheeks and a ring outside the jaw line: where the warp must be zero."""
    jaw = lm[list(JAW_RIGHT[::-1] + (152,) + JAW_LEFT)]
    centre = lm[LOWER_LIP]
    out = jaw - centre
    ring = jaw + RING * _eye_width(lm) * out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return np.concatenate([lm[list(ANCHORS)], ring])


def follow(frame: np.ndarray, landmarks: np.ndarray, lips: Sequence[int], lips_px: np.ndarray,
           min_move: float = 0.5) -> np.ndarray:
    """`frame` with the lower face moved so the lip landmarks `lips` sit at `lips_px`, the jaw following.

    Returns `frame` itself when nothing would move by `min_move` pixels, else a new array.
    """
    lm = np.asarray(landmarks, np.float64)[:, :2]
    indices, moved = moved_points(lm, lips, lips_px)
    shift = moved - lm[indices]
    if float(np.abs(shift).max(initial=0.0)) < min_move:
        return frame
    fixed = _fixed_points(lm)
    h, w = frame.shape[:2]
    x0, y0 = np.floor(fixed.min(axis=0)).astype(int)
    x1, y1 = np.ceil(fixed.max(axis=0)).astype(int) + 1
    y0 = max(y0, int(np.ceil(lm[ANCHORS[0], 1])))
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return frame
    # Backward map, known exactly at the moved points: output pixel p samples the frame at p + field(p).
    points = np.concatenate([moved, fixed])
    values = np.concatenate([-shift, np.zeros_like(fixed)])
    field = RBFInterpolator(points, values, kernel="thin_plate_spline", smoothing=1.0)
    gx, gy = np.arange(x0, x1 + GRID, GRID), np.arange(y0, y1 + GRID, GRID)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2).astype(np.float64)
    coarse = field(grid).reshape(len(gy), len(gx), 2).astype(np.float32)
    dense = cv2.resize(coarse, (len(gx) * GRID, len(gy) * GRID), interpolation=cv2.INTER_LINEAR)
    dense = dense[:y1 - y0, :x1 - x0]
    # Fade to zero at the ring, so the warp never reaches past the face's lower outline.
    hull = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull((fixed - (x0, y0)).round().astype(np.int32)), (255,))
    blurred = cv2.GaussianBlur(cv2.erode(hull, np.ones((5, 5), np.uint8)).astype(np.float32) / 255, (0, 0),
                               max(0.1 * _eye_width(lm), 1.0))
    # ... and from the nose tip down, so nothing above it moves at all.
    ramp = np.clip(np.arange(y1 - y0, dtype=np.float32) / max(0.15 * _eye_width(lm), 1.0), 0, 1)
    dense = dense * (np.asarray(blurred, np.float32) * ramp[:, None])[..., None]
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    map_x, map_y = xs + dense[..., 0], ys + dense[..., 1]
    out = frame.copy()
    out[y0:y1, x0:x1] = cv2.remap(frame, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return out
