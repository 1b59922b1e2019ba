"""Mesh geometry for the swap: triangles, feature rings, and the per-pixel map back into the selfie.

The mediapipe tessellation leaves the eyes and the mouth as holes, so a warp of the selfie never covers
them: what shows there is chosen by the swap (the template's own eyes and mouth).
"""

from __future__ import annotations

import cv2
import numpy as np

N_MESH = 468
# Inner lip ring, in drawing order: the template's mouth opening.
INNER_MOUTH = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
# Eyelid margins in drawing order (upper lid corner to corner, then lower lid back).
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
EYES = (RIGHT_EYE, LEFT_EYE)
# Where the template's look is kept and an occluder test would only see make-up and hair: brows, the lips
# with a moustache band, the nostrils.
BROWS = ((70, 63, 105, 66, 107, 55, 65, 52, 53, 46), (300, 293, 334, 296, 336, 285, 295, 282, 283, 276))
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64)


def mesh_triangles() -> np.ndarray:
    """Triangles of mediapipe's face mesh, recovered as the 3-cliques of its tessellation edge list."""
    import mediapipe as mp

    adjacent: dict[int, set[int]] = {}
    for a, b in mp.solutions.face_mesh.FACEMESH_TESSELATION:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    tris = {
        tuple(sorted((a, b, c))) for a in adjacent for b in adjacent[a] for c in adjacent[a] & adjacent[b]
    }
    return np.array(sorted(tris), dtype=np.int32)


def signed_area(tri: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def facing(tri3d: np.ndarray) -> np.ndarray:
    """|cos| between each triangle's normal and the view axis: near 0 for triangles seen edge-on, whose
    texture would be smeared over many pixels (the far cheek of a turned head)."""
    n = np.cross(tri3d[:, 1] - tri3d[:, 0], tri3d[:, 2] - tri3d[:, 0])
    return np.abs(n[:, 2]) / np.maximum(np.linalg.norm(n, axis=1), 1e-9)


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares scale, rotation and translation taking src points onto dst (Umeyama)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.ones(len(sv))
    d[-1] = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag(d) @ vt
    scale = float((sv * d).sum() / max((a * a).sum(), 1e-9))
    return scale, rot, md - scale * ms @ rot.T


def eye_scales(template: np.ndarray, posed: np.ndarray) -> np.ndarray:
    """Per eye, the fan's eye width over the template's (corner to corner: blinks do not change it)."""
    out = []
    for ring in EYES:
        t, p = template[list(ring), :2], posed[list(ring), :2]
        tw = float(np.linalg.norm(t[0] - t[8])) or 1.0
        out.append(float(np.clip(np.linalg.norm(p[0] - p[8]) / tw, 0.7, 1.4)))
    return np.array(out)


def eye_moves(template: np.ndarray, posed: np.ndarray, scales: np.ndarray) -> list[np.ndarray]:
    """Per eye, the 2x3 affine (scale and shift, no turn) taking the template's eye onto where the fan's
    eye sits: the template's lids (blinks) and eyeball (gaze) move as one piece into the fan's eye place.
    Anchored at the corners' midpoint, which a blink does not move."""
    moves = []
    for ring, s in zip(EYES, scales, strict=True):
        t, p = template[list(ring), :2], posed[list(ring), :2]
        shift = (p[0] + p[8]) / 2 - s * (t[0] + t[8]) / 2
        moves.append(np.array([[s, 0.0, shift[0]], [0.0, s, shift[1]]]))
    return moves


def rasterise(
    triangles: np.ndarray, shape: tuple[int, int], pts: np.ndarray, depth: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Triangle id + 1 per pixel; far triangles first so near ones overwrite them; only `keep` drawn."""
    tri_pts = pts[triangles]
    order = np.argsort(-depth[triangles].mean(axis=1))
    ids = np.zeros(shape, np.int32)
    fixed = np.round(tri_pts * 16).astype(np.int32)
    for t in order[keep[order]]:
        cv2.fillConvexPoly(ids, fixed[t], (int(t) + 1,), cv2.LINE_8, 4)
    return ids


def triangle_affines(triangles: np.ndarray, dst_pts: np.ndarray, src_pts: np.ndarray) -> np.ndarray:
    """(n+1, 2, 3) affines from destination pixels back to the source; row 0 (no triangle) is zero."""
    dst = dst_pts[triangles]
    src = src_pts[triangles]
    # Solve the 3x3 systems in closed form (adjugate): numpy's batched inv is slow for ~900 tiny matrices.
    x0, y0 = dst[:, 0, 0], dst[:, 0, 1]
    ex1, ey1 = dst[:, 1, 0] - x0, dst[:, 1, 1] - y0
    ex2, ey2 = dst[:, 2, 0] - x0, dst[:, 2, 1] - y0
    det = ex1 * ey2 - ex2 * ey1
    ok = np.abs(det) > 1e-6
    inv_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    # Barycentric coordinates (b1, b2) of a pixel are linear in (x, y): b = M @ (x - x0, y - y0).
    m11, m12 = ey2 * inv_det, -ex2 * inv_det
    m21, m22 = -ey1 * inv_det, ex1 * inv_det
    s0 = src[:, 0]
    d1, d2 = src[:, 1] - s0, src[:, 2] - s0
    a = d1[:, :, None] * np.stack([m11, m12], axis=1)[:, None, :] + d2[:, :, None] * np.stack(
        [m21, m22], axis=1)[:, None, :]
    c = s0 - a[:, :, 0] * x0[:, None] - a[:, :, 1] * y0[:, None]
    out = np.zeros((len(triangles) + 1, 2, 3), np.float32)
    out[1:, :, :2] = a
    out[1:, :, 2] = c
    out[1:][~ok] = 0
    return out


def warp_maps(ids: np.ndarray, affines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel source coordinates for cv2.remap (or grid_sample); -1 where no triangle covers."""
    ys, xs = np.nonzero(ids)
    map_x = np.full(ids.shape, -1.0, np.float32)
    map_y = np.full(ids.shape, -1.0, np.float32)
    a = affines[ids[ys, xs]]
    xf, yf = xs.astype(np.float32), ys.astype(np.float32)
    map_x[ys, xs] = a[:, 0, 0] * xf + a[:, 0, 1] * yf + a[:, 0, 2]
    map_y[ys, xs] = a[:, 1, 0] * xf + a[:, 1, 1] * yf + a[:, 1, 2]
    return map_x, map_y


def polygon_mask(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], (255,))
    return mask
