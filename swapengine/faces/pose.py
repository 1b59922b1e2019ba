"""Head pose per frame: solvePnP of the mesh's stable points against a 3D reference face.

The reference is built from the face mesh's own 3D output (x, y and its relative depth z, all in pixels)
on the track's most frontal frames, normalised and averaged: no model file to ship or download, and the
reference has this person's proportions, so pose is not biased by a generic head shape.
"""

from __future__ import annotations

import cv2
import numpy as np

# Points that move with the skull, not with expression: eye corners, brows' inner ends, nose, forehead,
# cheekbones and the face outline at the temples.
RIGID = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 107, 336, 234, 454, 127, 356,
         93, 323, 50, 280, 116, 345)
EYE_OUTER = (33, 263)


def frontality(landmarks: np.ndarray) -> np.ndarray:
    """|yaw| proxy per frame, 0 for a frontal face: asymmetry of nose-to-cheek distances, (n,)."""
    pts = np.asarray(landmarks)[..., :2]
    left = np.linalg.norm(pts[..., 1, :] - pts[..., 234, :], axis=-1)
    right = np.linalg.norm(pts[..., 454, :] - pts[..., 1, :], axis=-1)
    return np.abs(left - right) / np.maximum(left + right, 1e-6)


def _normalise(points: np.ndarray) -> np.ndarray:
    """Centred on the rigid points, eye line horizontal, inter-ocular distance 1."""
    p = points.astype(np.float64) - points[list(RIGID)].mean(axis=0)
    eye = p[EYE_OUTER[1], :2] - p[EYE_OUTER[0], :2]
    angle = np.arctan2(eye[1], eye[0])
    c, s = np.cos(-angle), np.sin(-angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return (p @ rot.T) / max(float(np.linalg.norm(eye)), 1e-6)


def reference_shape(landmarks: np.ndarray, keep: int = 15, tolerance: float = 0.05) -> np.ndarray:
    """(478, 3) mean normalised shape of up to `keep` most frontal frames of (n, 478, 3) landmarks, only
    those within `tolerance` of the most frontal one (a track that is mostly turned keeps few)."""
    score = frontality(landmarks)
    order = [i for i in np.argsort(score)[: max(1, keep)] if score[i] <= score.min() + tolerance]
    return np.mean([_normalise(landmarks[i]) for i in order], axis=0)


def camera_matrix(width: int, height: int) -> np.ndarray:
    """A phone-like lens (about 60 degrees across the long side); the exact focal length barely moves
    the angles of a face that fills a small part of the view."""
    f = float(max(width, height))
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)


def head_pose(landmarks: np.ndarray, width: int, height: int, reference: np.ndarray | None = None) -> np.ndarray:
    """(n, 3) float32 yaw, pitch, roll in degrees (0, 0, 0 = like the reference's frontal face).

    Camera axes (x right, y down, z forwards): yaw turns about y, pitch about x, roll about z.
    """
    lms = np.asarray(landmarks, np.float64)
    if reference is None:
        reference = reference_shape(lms)
    model = np.ascontiguousarray(reference[list(RIGID)], np.float64)
    k = camera_matrix(width, height)
    out = np.zeros((len(lms), 3), np.float32)
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for i, pts in enumerate(lms):
        image = np.ascontiguousarray(pts[list(RIGID), :2], np.float64)
        found = _solve(model, image, k, previous)
        if found is None:
            out[i] = np.nan
            continue
        previous = found
        out[i] = euler_degrees(cv2.Rodrigues(found[0])[0])
    return out


def _solve(model: np.ndarray, image: np.ndarray, k: np.ndarray,
           previous: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """SQPnP, and Levenberg-Marquardt started from the previous frame's pose; the one that reprojects
    better wins (SQPnP alone can land on a mirrored pose on a few noisy frames)."""
    dist = np.zeros(4)
    candidates = []
    ok, rvec, tvec = cv2.solvePnP(model, image, k, dist, flags=cv2.SOLVEPNP_SQPNP)
    if ok:
        candidates.append((rvec, tvec))
    if previous is not None:
        ok, rvec, tvec = cv2.solvePnP(model, image, k, dist, previous[0].copy(), previous[1].copy(),
                                      useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        if ok:
            candidates.append((rvec, tvec))
    best, best_err = None, np.inf
    for rvec, tvec in candidates:
        if float(tvec[2, 0]) <= 0:  # behind the camera
            continue
        projected = cv2.projectPoints(model, rvec, tvec, k, dist)[0].reshape(-1, 2)
        err = float(np.linalg.norm(projected - image, axis=1).mean())
        if err < best_err:
            best, best_err = (rvec, tvec), err
    return best


def euler_degrees(rot: np.ndarray) -> np.ndarray:
    """Yaw (about y), pitch (about x), roll (about z) of R = Rz(roll) @ Ry(yaw) @ Rx(pitch)."""
    yaw = np.degrees(np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(rot[2, 1], rot[2, 2]))
    roll = np.degrees(np.arctan2(rot[1, 0], rot[0, 0]))
    return np.array([yaw, pitch, roll], np.float32)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll) @ Ry(yaw) @ Rx(pitch), angles in degrees: the inverse of euler_degrees."""
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx
