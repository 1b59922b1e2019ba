"""Swap quality measures on landmark sequences and frames: pure functions, so each can be unit-tested.

Every length is divided by the inter-ocular distance (outer eye corners, 33 and 263) of the template face
in the same frame, so numbers are comparable between a 224 px crop and a 1080p close-up.
"""

from __future__ import annotations

import numpy as np

from swapengine.faces.detect import FACE_OVAL

EYE_OUTER = (33, 263)
INNER_LIP = (13, 14)
# Lips (outer and inner rings) of the 478-point mesh: the "mouth" landmark error.
MOUTH = (
    0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269,
    270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415,
)
N_MESH = 468


def inter_ocular(landmarks: np.ndarray) -> float:
    a, b = EYE_OUTER
    return float(np.linalg.norm(landmarks[a, :2] - landmarks[b, :2]))


def landmark_error(output: np.ndarray, template: np.ndarray, points: tuple[int, ...] | None = None) -> float:
    """Mean 2D distance between corresponding points, over the template's inter-ocular distance."""
    idx = list(points) if points is not None else list(range(N_MESH))
    d = np.linalg.norm(output[idx, :2].astype(np.float64) - template[idx, :2], axis=1)
    return float(d.mean() / max(inter_ocular(template), 1e-6))


def lip_opening(landmarks: np.ndarray) -> float:
    a, b = INNER_LIP
    return float(np.linalg.norm(landmarks[a, :2] - landmarks[b, :2]) / max(inter_ocular(landmarks), 1e-6))


def consecutive_runs(present: np.ndarray, min_len: int = 3) -> list[tuple[int, int]]:
    """[start, stop) ranges of consecutive True values at least min_len long."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, ok in enumerate([*present.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start >= min_len:
                runs.append((start, i))
            start = None
    return runs


def acceleration(sequence: np.ndarray, present: np.ndarray) -> float:
    """Mean |x[t+1] - 2x[t] + x[t-1]| of all mesh points over consecutive present frames, in IOD units.

    Real head motion is smooth, so its second difference is small; landmark noise (wobble) dominates it.
    """
    total, count = 0.0, 0
    for start, stop in consecutive_runs(present):
        seq = sequence[start:stop, :N_MESH, :2].astype(np.float64)
        iod = np.linalg.norm(seq[:, EYE_OUTER[0]] - seq[:, EYE_OUTER[1]], axis=1)[1:-1]
        acc = np.linalg.norm(seq[2:] - 2 * seq[1:-1] + seq[:-2], axis=2).mean(axis=1)
        total += float((acc / np.maximum(iod, 1e-6)).sum())
        count += len(acc)
    return total / count if count else float("nan")


def jitter_ratio(output: np.ndarray, template: np.ndarray, present: np.ndarray) -> float:
    """Output's landmark acceleration over the template's, on the frames where both faces were found."""
    ref = acceleration(template, present)
    return acceleration(output, present) / ref if ref > 0 else float("nan")


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def range_ratio(output: np.ndarray, template: np.ndarray) -> float:
    """Spread (5th to 95th percentile) of the output's series over the template's: a still mouth -> ~0."""
    spread_t = float(np.percentile(template, 95) - np.percentile(template, 5))
    spread_o = float(np.percentile(output, 95) - np.percentile(output, 5))
    return spread_o / spread_t if spread_t > 1e-9 else float("nan")


def face_region(landmarks: np.ndarray, shape: tuple[int, int], grow: float = 0.25) -> np.ndarray:
    """Boolean mask of the face oval grown by `grow` of the face width: where a swap may change pixels."""
    import cv2

    oval = landmarks[list(FACE_OVAL), :2].astype(np.float64)
    centre = oval.mean(axis=0)
    grown = centre + (oval - centre) * (1 + grow)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], (1,))
    return mask.astype(bool)


def box_difference(before: np.ndarray, after: np.ndarray, box: np.ndarray,
                   exclude: np.ndarray | None = None) -> tuple[float, float]:
    """(mean, max) absolute pixel difference inside box, leaving out the `exclude` mask."""
    h, w = before.shape[:2]
    x0, y0 = int(max(box[0], 0)), int(max(box[1], 0))
    x1, y1 = int(min(box[2], w)), int(min(box[3], h))
    if x1 <= x0 or y1 <= y0:
        return float("nan"), float("nan")
    diff = np.abs(after[y0:y1, x0:x1].astype(np.int16) - before[y0:y1, x0:x1]).max(axis=2)
    keep = np.ones(diff.shape, bool) if exclude is None else ~exclude[y0:y1, x0:x1]
    if not keep.any():
        return float("nan"), float("nan")
    return float(diff[keep].mean()), float(diff[keep].max())
