"""Per-frame face swap: the fan's selfie texture, warped onto the template's dense landmarks.

The warp is one cv2.remap over the target face box: triangle ids are rasterised far-to-near (so the
hidden side of a turned head is covered by its near side), each pixel takes its triangle's affine map
back into the selfie. Colour is matched in LAB, the seam is removed by a multi-band blend, and the
template's own mouth interior (teeth, tongue) is kept because a still selfie cannot supply it.
"""

from __future__ import annotations

import cv2
import numpy as np

from swapengine.faces import FACE_OVAL, SelfieFace

# Inner lip ring, in drawing order: the template's mouth opening, kept as is.
INNER_MOUTH = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
N_MESH = 468
BROW_CENTRE = 168
# How far each face-oval point is pulled towards the brow centre to form the blend outline: the mesh's
# top reaches the hairline, and a fan's fringe pasted onto a bald forehead is the worst artefact.
_PULL = {10: 0.38, 338: 0.36, 109: 0.36, 297: 0.32, 67: 0.32, 332: 0.26, 103: 0.26, 284: 0.18, 54: 0.18,
         251: 0.1, 21: 0.1, 389: 0.04, 162: 0.04}
OVAL_PULL = np.array([_PULL.get(i, 0.0) for i in FACE_OVAL], dtype=np.float64)[:, None]


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def shape_weights(points: np.ndarray, strength: float) -> np.ndarray:
    """How much of the fan's own face shape each landmark takes: eyes, brows and nose fully, fading to
    nothing at the face outline (the template's head keeps its silhouette) and at the lips (the
    template's mouth interior is kept, so the lips must stay around it)."""
    import mediapipe as mp

    lips = sorted({i for edge in mp.solutions.face_mesh.FACEMESH_LIPS for i in edge})
    xy = points[:N_MESH, :2]
    width = float(np.ptp(xy[:, 0])) or 1.0
    d_oval = np.linalg.norm(xy[:, None] - xy[list(FACE_OVAL)][None], axis=2).min(axis=1) / width
    d_lips = np.linalg.norm(xy[:, None] - xy[lips][None], axis=2).min(axis=1) / width
    return (strength * _smoothstep(d_oval, 0.0, 0.12) * _smoothstep(d_lips, 0.02, 0.1))[:, None]


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares scale, rotation and translation taking src points onto dst (Umeyama)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.ones(len(sv))
    d[-1] = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag(d) @ vt
    scale = float((sv * d).sum() / max((a * a).sum(), 1e-9))
    return scale, rot, md - scale * ms @ rot.T


def blend_outline(points: np.ndarray) -> np.ndarray:
    """The face oval with its forehead lowered: where the selfie is allowed to show."""
    oval = points[list(FACE_OVAL), :2]
    return oval + (points[BROW_CENTRE, :2] - oval) * OVAL_PULL


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


def _polygon_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], (255,))
    return mask


def _lab_stats(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = cv2.meanStdDev(lab, mask=mask)
    return mean.reshape(3).astype(np.float32), np.maximum(std.reshape(3), 1.0).astype(np.float32)


def _multiband(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int) -> np.ndarray:
    """Laplacian-pyramid blend of a over b: fine detail switches sharply, colour and light gradually."""
    ga, gb, gm = [a], [b], [mask]
    for _ in range(levels):
        ga.append(cv2.pyrDown(ga[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out = ga[-1] * gm[-1][..., None] + gb[-1] * (1 - gm[-1][..., None])
    for i in range(levels - 1, -1, -1):
        size = (ga[i].shape[1], ga[i].shape[0])
        la = ga[i] - cv2.pyrUp(ga[i + 1], dstsize=size)
        lb = gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        m = gm[i][..., None]
        out = cv2.pyrUp(out, dstsize=size) + la * m + lb * (1 - m)
    return out


class FaceSwapper:
    """Holds everything about the selfie that does not change from frame to frame."""

    def __init__(self, selfie: SelfieFace, margin: float = 0.12, shape_strength: float = 1.0) -> None:
        self.triangles = mesh_triangles()
        lm = selfie.landmarks
        self._selfie_3d = lm[:N_MESH].astype(np.float64)
        self._shape_w = shape_weights(self._selfie_3d, shape_strength)
        h, w = selfie.image.shape[:2]
        x0, y0 = lm[:, :2].min(axis=0)
        x1, y1 = lm[:, :2].max(axis=0)
        pad = margin * max(x1 - x0, y1 - y0)
        cx0, cy0 = int(max(x0 - pad, 0)), int(max(y0 - pad, 0))
        cx1, cy1 = int(min(x1 + pad, w)), int(min(y1 + pad, h))
        self.texture = np.ascontiguousarray(selfie.image[cy0:cy1, cx0:cx1])
        self.src = (lm[:N_MESH, :2] - (cx0, cy0)).astype(np.float64)
        tri = self.src[self.triangles]
        self._src_sign = np.sign(_signed_area(tri))
        # Selfie colour statistics are fixed: measure them once, on the skin the warp will show.
        tshape = (self.texture.shape[0], self.texture.shape[1])
        smask = _polygon_mask(tshape, blend_outline(self.src))
        smask[_polygon_mask(tshape, self.src[list(INNER_MOUTH)]) > 0] = 0
        lab = cv2.cvtColor(self.texture, cv2.COLOR_BGR2LAB).astype(np.float32)
        self._src_mean, self._src_std = _lab_stats(lab, smask)

    def apply(self, frame: np.ndarray, target_landmarks: np.ndarray) -> np.ndarray:
        """Return a copy of frame with the selfie face on the target; pixels outside the oval are kept."""
        out = frame.copy()
        fh, fw = frame.shape[:2]
        tgt = self.reshape(target_landmarks[:N_MESH].astype(np.float64))
        oval = tgt[list(FACE_OVAL), :2]
        fx0, fy0 = oval.min(axis=0)
        fx1, fy1 = oval.max(axis=0)
        face_w = max(fx1 - fx0, fy1 - fy0)
        if face_w < 8:
            return out
        pad = 0.1 * face_w + 4
        x0, y0 = int(max(fx0 - pad, 0)), int(max(fy0 - pad, 0))
        x1, y1 = int(min(fx1 + pad + 1, fw)), int(min(fy1 + pad + 1, fh))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return out
        shape = (y1 - y0, x1 - x0)
        pts = tgt[:, :2] - (x0, y0)
        ids = self._rasterise(shape, pts, tgt[:, 2])
        warped, covered = self._warp(ids, pts)
        hard = _polygon_mask(shape, blend_outline(pts))
        hard[covered == 0] = 0
        mouth = _polygon_mask(shape, pts[list(INNER_MOUTH)])
        mouth = cv2.dilate(mouth, np.ones((3, 3), np.uint8))
        hard[mouth > 0] = 0
        if not hard.any():
            return out
        crop = frame[y0:y1, x0:x1]
        warped = self._match_colour(warped, crop, hard)
        feather = max(int(face_w * 0.04), 2)
        soft = cv2.erode(hard, np.ones((2 * feather + 1, 2 * feather + 1), np.uint8))
        soft_f = cv2.GaussianBlur(soft.astype(np.float32) / 255.0, (0, 0), feather * 0.6)
        levels = int(np.clip(np.log2(face_w / 24.0), 1, 5))
        blended = _multiband(warped.astype(np.float32), crop.astype(np.float32), soft_f, levels)
        keep = (hard > 0)[..., None]
        result = np.where(keep, np.clip(blended, 0, 255), crop).astype(np.uint8)
        out[y0:y1, x0:x1] = result
        return out

    def reshape(self, tgt: np.ndarray) -> np.ndarray:
        """Target landmarks with the fan's proportions: the selfie's 3D mesh is posed like the target
        (similarity fit) and the inner features move towards it, so identity survives the warp."""
        scale, rot, shift = _similarity(self._selfie_3d, tgt)
        posed = scale * self._selfie_3d @ rot.T + shift
        return tgt + (posed - tgt) * self._shape_w

    def _rasterise(self, shape: tuple[int, int], pts: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Triangle id + 1 per pixel; far triangles first so near ones overwrite them; back faces culled."""
        tri_pts = pts[self.triangles]
        facing = np.sign(_signed_area(tri_pts)) == self._src_sign
        order = np.argsort(-depth[self.triangles].mean(axis=1))
        ids = np.zeros(shape, np.int32)
        fixed = np.round(tri_pts * 16).astype(np.int32)
        for t in order[facing[order]]:
            cv2.fillConvexPoly(ids, fixed[t], (int(t) + 1,), cv2.LINE_8, 4)
        return ids

    def _warp(self, ids: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One remap: every covered pixel is sent back through its triangle's affine map."""
        dst = pts[self.triangles]
        src = self.src[self.triangles]
        ones = np.ones((len(self.triangles), 3, 1))
        dst_h = np.concatenate([dst, ones], axis=2)
        ok = np.abs(np.linalg.det(dst_h)) > 1e-6
        affine = np.zeros((len(self.triangles) + 1, 2, 3), np.float32)
        inv = np.linalg.inv(np.where(ok[:, None, None], dst_h, np.eye(3)))
        affine[1:] = np.einsum("nik,nkj->nji", inv, src).astype(np.float32)
        affine[1:][~ok] = 0
        ys, xs = np.nonzero(ids)
        map_x = np.full(ids.shape, -1.0, np.float32)
        map_y = np.full(ids.shape, -1.0, np.float32)
        a = affine[ids[ys, xs]]
        xf, yf = xs.astype(np.float32), ys.astype(np.float32)
        map_x[ys, xs] = a[:, 0, 0] * xf + a[:, 0, 1] * yf + a[:, 0, 2]
        map_y[ys, xs] = a[:, 1, 0] * xf + a[:, 1, 1] * yf + a[:, 1, 2]
        warped = cv2.remap(self.texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        covered = (ids > 0).astype(np.uint8)
        return warped, covered

    def _match_colour(self, warped: np.ndarray, crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Reinhard transfer in LAB: the selfie takes the template's skin tone and exposure."""
        tgt_mean, tgt_std = _lab_stats(cv2.cvtColor(crop, cv2.COLOR_BGR2LAB), mask)
        gain = np.clip(tgt_std / self._src_std, 0.5, 2.0)
        lab = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32)
        lab = (lab - self._src_mean) * gain + tgt_mean
        return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _signed_area(tri: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
