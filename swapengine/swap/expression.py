"""The fan's face shape as an offset between two rest shapes, so the template's expression plays on top.

Pulling the template's landmarks towards the selfie's posed mesh carries the selfie's own (still)
expression in and damps the performance by the same weight: brows that should rise stay where the selfie
had them. Instead, identity is the difference between the fan's rest shape and the template person's rest
shape (the robust median of the track's aligned landmarks); each frame adds that difference, posed like
the frame, to the frame's own landmarks, so every brow raise, smile and jaw drop of the performance comes
through at full amplitude on the fan's proportions.

The selfie is not at rest (it smiles, frowns, raises its brows): before the difference is taken, the part
of it that lies along the ways a face moves is removed. Those ways are learnt from the track itself (the
principal directions of its aligned landmarks around their rest shape) and joined by a few drawn ones
(brows up, mouth corners up and out, jaw down) that a short track may not show.
"""

from __future__ import annotations

import numpy as np

from swapengine.swap.warp import N_MESH, similarity

# Frames used to find the template's rest shape (evenly spaced over the track): the median of this many
# is stable, and the cost stays a few milliseconds per track.
MAX_FRAMES = 240
# Share of the mesh, the least mobile points of the track, that the pose fit uses (forehead, nose, the
# eye corners); fitting on the jaw and lips would turn an open mouth into a tilt of the head.
STABLE_SHARE = 0.5
# Principal directions of the track's own motion that count as expression.
TRACK_MODES = 6
# A principal direction counts only while its spread is at least this share of the first one's.
MODE_FLOOR = 0.1
# Share of the selfie's expression removed. Off by default: on the quick evaluation, removing all of it
# took identity_same from 0.861 to 0.639 and half of it to 0.778, because brow height and jaw length differ
# between people along the same directions as expression; the offset alone keeps 0.861.
NEUTRALISE = 0.0
# Mediapipe mesh points of the drawn expression directions.
BROW_POINTS = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
MOUTH_CORNERS = (61, 291)
LOWER_FACE = (17, 84, 181, 91, 146, 314, 405, 321, 375, 14, 87, 178, 88, 317, 402, 318, 152, 148, 176, 149,
              150, 377, 400, 378, 379, 199, 175, 200, 18, 83, 313, 201, 421)
LEFT_SIDE, RIGHT_SIDE = 263, 33


def _align_all(shapes: np.ndarray, reference: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Every shape moved onto the reference by the similarity that fits the given points."""
    out = np.empty_like(shapes)
    for i, shape in enumerate(shapes):
        scale, rot, shift = similarity(shape[points], reference[points])
        out[i] = scale * shape @ rot.T + shift
    return out


def rest_shape(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The template person's rest shape from a track's (n, >=468, 3) landmarks: (rest, the stable points
    used for pose fits, the aligned frames). The median is taken twice: once over a fit on every point,
    then over a fit on the points that moved least, so a talking mouth does not tilt the reference."""
    shapes = np.asarray(landmarks, np.float64)[:, :N_MESH]
    if len(shapes) > MAX_FRAMES:
        shapes = shapes[np.linspace(0, len(shapes) - 1, MAX_FRAMES).round().astype(int)]
    every = np.arange(N_MESH)
    aligned = _align_all(shapes, shapes[len(shapes) // 2], every)
    rest = np.median(aligned, axis=0)
    aligned = _align_all(shapes, rest, every)
    motion = np.linalg.norm(aligned - np.median(aligned, axis=0), axis=2).mean(axis=0)
    stable = np.argsort(motion)[: int(N_MESH * STABLE_SHARE)]
    aligned = _align_all(shapes, np.median(aligned, axis=0), stable)
    return np.median(aligned, axis=0), np.sort(stable), aligned


def drawn_directions(rest: np.ndarray) -> np.ndarray:
    """(k, 468*3) hand-drawn expression directions on the rest shape's own axes: brows up, each mouth
    corner up, the corners apart, the jaw down."""
    right = rest[LEFT_SIDE] - rest[RIGHT_SIDE]
    right /= max(float(np.linalg.norm(right)), 1e-9)
    down = np.array([-right[1], right[0], 0.0])
    dirs = []
    brows = np.zeros_like(rest)
    brows[list(BROW_POINTS)] = -down
    dirs.append(brows)
    for corner, side in zip(MOUTH_CORNERS, (-1.0, 1.0), strict=True):
        lift = np.zeros_like(rest)
        lift[corner] = -down
        dirs.append(lift)
        wide = np.zeros_like(rest)
        wide[corner] = side * right
        dirs.append(wide)
    jaw = np.zeros_like(rest)
    jaw[list(LOWER_FACE)] = down
    dirs.append(jaw)
    return np.stack([d.ravel() for d in dirs])


def expression_basis(rest: np.ndarray, aligned: np.ndarray, modes: int = TRACK_MODES, drawn: bool = True) -> np.ndarray:
    """Orthonormal (k, 468*3) directions along which a face changes expression: the drawn ones and the
    track's principal directions of motion around its rest shape."""
    dev = (aligned - rest).reshape(len(aligned), -1)
    dirs = [drawn_directions(rest)] if drawn else []
    if len(aligned) > modes:
        _, sv, vt = np.linalg.svd(dev - dev.mean(axis=0), full_matrices=False)
        real = sv[:modes] > MODE_FLOOR * max(float(sv[0]), 1e-9)  # the rest is landmark noise, not motion
        dirs.append(vt[:modes][real])
    q, r = np.linalg.qr(np.concatenate(dirs).T)
    keep = np.abs(np.diag(r)) > 1e-6
    return q[:, keep].T


def neutral_offset(
    selfie: np.ndarray, rest: np.ndarray, stable: np.ndarray, basis: np.ndarray, strength: float = NEUTRALISE
) -> np.ndarray:
    """The fan's shape minus the template person's, both at rest, on the rest shape's axes: the selfie is
    fitted onto the rest shape, and its expression (its difference's part along the basis) removed."""
    scale, rot, shift = similarity(selfie[stable], rest[stable])
    diff = (scale * selfie[:N_MESH] @ rot.T + shift - rest).ravel()
    diff -= strength * (basis.T @ (basis @ diff))
    return diff.reshape(rest.shape)


class RestOffset:
    """The fan's identity as an offset from the template person's rest shape, posed frame by frame."""

    def __init__(self, selfie: np.ndarray, track_landmarks: np.ndarray, neutralise: float = NEUTRALISE) -> None:
        """neutralise: the share of the selfie's expression taken out (0 keeps the selfie's shape whole)."""
        rest, stable, aligned = rest_shape(track_landmarks)
        self.rest, self.stable = rest, stable
        basis = expression_basis(rest, aligned) if neutralise > 0 else np.zeros((0, rest.size))
        self.offset = neutral_offset(np.asarray(selfie, np.float64), rest, stable, basis, neutralise)

    def fan_shape(self, target: np.ndarray) -> np.ndarray:
        """The target's landmarks (its expression, its pose) with the fan's proportions added at full
        weight; the caller weighs them per point."""
        scale, rot, _ = similarity(self.rest[self.stable], target[self.stable, : self.rest.shape[1]])
        return target + scale * self.offset @ rot.T
