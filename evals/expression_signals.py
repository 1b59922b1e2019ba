"""Expression signals on dlib's 68 points, and how an output's series compare with the template's.

An independent judge: the engine tracks faces with mediapipe, so the expression is read back with a
different landmarker (dlib's 68-point predictor from face_recognition_models), on a box taken from the
template's known mesh, so no slow dlib face detection runs and output and template are read in the same box.

Every signal is measured in the eye frame (x along the line between the eye centres, y perpendicular to it,
pointing down the face), so head roll does not leak into it, and divided by the face's own inter-ocular
distance (outer eye corners 36 and 45), so a 224 px clip and a 1080p close-up are comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evals import metrics

SIGNALS = ("brow", "eye", "width", "lift", "lips")
"""brow height, eye opening, mouth width, mouth-corner lift, lip opening (inner-lip gap)."""
EXPRESSION = ("brow", "eye", "width", "lift")
"""The signals whose mean correlation is "the expression correlation" (issue #11)."""
SPREAD_TARGET = ("brow", "width", "lift")
SPREAD_RANGE = (0.7, 1.3)
LIP_CORRELATION_MIN = 0.8
CEILING_SHARE = 0.9
IDENTITY_SAME_MIN = 0.8
CLOSER_MIN = 0.95
LEAK_MIN_OFFSET = 0.03
"""A selfie's signal must differ from the template's mean by this much (inter-ocular units) before the leak
is a ratio worth reporting; closer than that, the division only magnifies landmark noise."""

# dlib 68-point indices.
RIGHT_BROW, LEFT_BROW = range(17, 22), range(22, 27)
RIGHT_EYE, LEFT_EYE = range(36, 42), range(42, 48)
RIGHT_CORNERS, LEFT_CORNERS = (36, 39), (42, 45)
RIGHT_LIDS, LEFT_LIDS = ((37, 41), (38, 40)), ((43, 47), (44, 46))
OUTER_EYE = (36, 45)
MOUTH_CORNERS = (48, 54)
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
INNER_LIP_CENTRE = (62, 66)


def eye_frame(points: np.ndarray) -> np.ndarray:
    """The 68 points in the eye frame: origin between the eye centres, x towards the face's left eye."""
    p = np.asarray(points, np.float64)[:, :2]
    right, left = p[list(RIGHT_EYE)].mean(axis=0), p[list(LEFT_EYE)].mean(axis=0)
    axis = left - right
    norm = float(np.linalg.norm(axis))
    if norm < 1e-9:
        raise ValueError("eye centres coincide")
    ux = axis / norm
    uy = np.array([-ux[1], ux[0]])  # x rotated by +90 degrees in image coordinates: down the face
    rel = p - (left + right) / 2
    return np.stack([rel @ ux, rel @ uy], axis=1)


def signals(points: np.ndarray) -> np.ndarray:
    """(5,) brow, eye, width, lift, lips of one face, in inter-ocular units.

    brow: how far the brow points sit above the eye-corner midpoint (mean of both sides).
    eye: lid gap, mean of the two upper/lower lid pairs per eye, both eyes.
    width: mouth corner to mouth corner.
    lift: how far the mouth corners sit above the lip centre line (midway between the inner upper and lower
    lip centres): up is positive, a smile raises it, a frown lowers it.
    lips: inner-lip gap, mean of three upper/lower inner-lip pairs.
    """
    q = eye_frame(points)
    iod = float(np.linalg.norm(q[OUTER_EYE[0]] - q[OUTER_EYE[1]]))
    if iod < 1e-9:
        raise ValueError("zero inter-ocular distance")

    def gap(pairs: tuple[tuple[int, int], ...]) -> float:
        return float(np.mean([np.linalg.norm(q[a] - q[b]) for a, b in pairs]))

    brow = np.mean([q[list(c), 1].mean() - q[list(b), 1].mean()
                    for b, c in ((RIGHT_BROW, RIGHT_CORNERS), (LEFT_BROW, LEFT_CORNERS))])
    eye = (gap(RIGHT_LIDS) + gap(LEFT_LIDS)) / 2
    width = float(np.linalg.norm(q[MOUTH_CORNERS[0]] - q[MOUTH_CORNERS[1]]))
    lift = q[list(INNER_LIP_CENTRE), 1].mean() - q[list(MOUTH_CORNERS), 1].mean()
    lips = gap(INNER_LIP_PAIRS)
    return np.array([brow, eye, width, lift, lips], np.float64) / iod


def mesh_box(mesh: np.ndarray) -> tuple[float, float, float, float]:
    """The dlib box for a mediapipe mesh: cheek to cheek (234-454), brows (105/334) to chin (152), the same
    rule swapengine.faces.analysis.face_embedding uses, so every face is boxed alike."""
    x0, x1 = float(mesh[234, 0]), float(mesh[454, 0])
    y0, y1 = float(mesh[[105, 334], 1].mean()), float(mesh[152, 1])
    return x0, y0, x1, y1


class Landmarker68:
    """dlib's 68-point shape predictor, loaded on first use from the face_recognition_models package."""

    def __init__(self) -> None:
        self._predictor: Any = None

    def points(self, frame_bgr: np.ndarray, mesh: np.ndarray) -> np.ndarray | None:
        """(68, 2) points in frame coordinates for the face the mesh outlines; None for a face under 16 px."""
        import cv2
        import dlib

        from swapengine.faces.identity import models_dir

        if self._predictor is None:
            self._predictor = dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))
        x0, y0, x1, y1 = mesh_box(mesh)
        size = max(x1 - x0, y1 - y0)
        if size < 16:
            return None
        h, w = frame_bgr.shape[:2]
        cx0, cy0 = int(max(x0 - size / 2, 0)), int(max(y0 - size / 2, 0))
        cx1, cy1 = int(min(x1 + size / 2, w)), int(min(y1 + size / 2, h))
        if cx1 - cx0 < 16 or cy1 - cy0 < 16:
            return None
        rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr[cy0:cy1, cx0:cx1], cv2.COLOR_BGR2RGB))
        rect = dlib.rectangle(int(x0 - cx0), int(y0 - cy0), int(x1 - cx0), int(y1 - cy0))
        shape = self._predictor(rgb, rect)
        pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], np.float64)
        return pts + [cx0, cy0]


def leak(output: np.ndarray, template: np.ndarray, selfie: float, min_offset: float = LEAK_MIN_OFFSET) -> float:
    """Share of the selfie's own expression that stays on the output: mean(output - template) over
    (selfie - mean(template)). 0: the output follows the template; 1: it holds the selfie's value. NaN where
    the selfie is within min_offset of the template's mean. It also counts a lasting difference of face shape
    between fan and template person as leak, so it is read beside the contact sheets, not alone."""
    offset = selfie - float(np.mean(template))
    if abs(offset) < min_offset or len(output) == 0:
        return float("nan")
    return float(np.mean(np.asarray(output) - np.asarray(template))) / offset


def compare(output: np.ndarray, template: np.ndarray, selfie: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Per signal: Pearson correlation, spread ratio (p5-p95 range of output over template's), and the
    selfie leak when the selfie's signals are given. output and template: (frames, 5)."""
    found: dict[str, dict[str, float]] = {}
    for k, name in enumerate(SIGNALS):
        o, t = output[:, k], template[:, k]
        row = {"correlation": metrics.correlation(o, t),
               "spread_ratio": metrics.range_ratio(o, t) if len(t) > 2 else float("nan"),
               "output_mean": float(np.mean(o)) if len(o) else float("nan"),
               "template_mean": float(np.mean(t)) if len(t) else float("nan")}
        if selfie is not None:
            row["selfie"] = float(selfie[k])
            row["leak"] = leak(o, t, float(selfie[k]))
        found[name] = row
    return found


def expression_correlation(per_signal: Mapping[str, Mapping[str, float]]) -> float:
    """Mean correlation of brow, eye, width and lift; a signal that does not move (NaN) counts as 0."""
    vals = [per_signal[s]["correlation"] for s in EXPRESSION]
    return float(np.mean([0.0 if not np.isfinite(v) else v for v in vals]))


def misses(pair: Mapping[str, Any], ceiling_correlation: float) -> list[str]:
    """The issue's per-pair targets this pair misses, each as a short readable line."""
    found = []
    sig = pair["signals"]
    corr = pair["expression_correlation"]
    if not corr >= CEILING_SHARE * ceiling_correlation:
        found.append(f"expression corr {corr:.3f} < {CEILING_SHARE} x ceiling {ceiling_correlation:.3f}")
    lo, hi = SPREAD_RANGE
    for name in SPREAD_TARGET:
        ratio = sig[name]["spread_ratio"]
        if not lo <= ratio <= hi:
            found.append(f"{name} spread {ratio:.2f}")
    lc, lr = sig["lips"]["correlation"], sig["lips"]["spread_ratio"]
    if not lc >= LIP_CORRELATION_MIN:
        found.append(f"lips corr {lc:.2f}")
    if not lo <= lr <= hi:
        found.append(f"lips spread {lr:.2f}")
    same, closer = pair.get("identity_same_share"), pair.get("closer_to_selfie_share")
    if same is not None and not same >= IDENTITY_SAME_MIN:
        found.append(f"identity<0.6 share {same:.2f}")
    if closer is not None and not closer >= CLOSER_MIN:
        found.append(f"closer-to-fan share {closer:.2f}")
    return found


def extremes(template: np.ndarray) -> dict[str, int]:
    """Row of the template series at each extreme the contact sheet shows."""
    return {"brows raised": int(np.argmax(template[:, 0])), "eyes shut": int(np.argmin(template[:, 1])),
            "widest smile": int(np.argmax(template[:, 2] + template[:, 3])),
            "mouth open": int(np.argmax(template[:, 4]))}
