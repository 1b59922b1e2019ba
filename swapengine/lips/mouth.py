"""Lip geometry with the head pose taken out: the shape space the lip-sync model predicts in.

Every frame of a track is aligned (rotation, scale, shift) to the track's mean face on points that do not
move when speaking (eye corners, nose bridge, forehead, temples), so what is left of the lip landmarks is
the mouth's own motion. Canonical units: inter-ocular distance (outer eye corners) = 1, the eyes' midpoint
at the origin, eyes level. Lip shapes are the 40 inner and outer lip points of mediapipe's mesh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial import Delaunay

from swapengine import media
from swapengine.errors import EngineError
from swapengine.faces.analysis import TemplateAnalysis
from swapengine.faces.tracks import FaceTrack
from swapengine.lips import jaw, mouthbank

OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
LIPS = OUTER_LIPS + INNER_LIPS
N_LIPS = len(LIPS)
# Rows of the (40, 2) lip shape: the inner lip's top and bottom middle, for mouth opening.
INNER_TOP, INNER_BOTTOM = LIPS.index(13), LIPS.index(14)
EYE_OUTER = (33, 263)
STABLE = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 10, 151, 9, 8, 127, 356, 234, 454, 70, 300)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The (d, d+1) least-squares similarity (no reflection) taking src points onto dst (Umeyama), d = 2 or 3."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    dims = src.shape[1]
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.ones(dims)
    d[-1] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag(d) @ vt
    scale = float((sv * d).sum() / max(float((a * a).sum()), 1e-12))
    return np.hstack([scale * rot, (md - scale * rot @ ms)[:, None]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return pts @ matrix[:, :-1].T + matrix[:, -1]


def invert(matrix: np.ndarray) -> np.ndarray:
    lin = np.linalg.inv(matrix[:, :-1])
    return np.hstack([lin, (-lin @ matrix[:, -1])[:, None]])


def inter_ocular(landmarks: np.ndarray) -> float:
    a, b = landmarks[EYE_OUTER[0], :2], landmarks[EYE_OUTER[1], :2]
    return float(np.linalg.norm(np.asarray(a, np.float64) - b))


def _normalise(points: np.ndarray) -> np.ndarray:
    """Canonical units: the outer eye corners' midpoint at the origin, their distance 1."""
    left, right = points[STABLE.index(33)], points[STABLE.index(263)]
    return (points - (left + right) / 2) / max(float(np.linalg.norm(right - left)), 1e-9)


def mean_face(landmarks: np.ndarray, dims: int = 3) -> np.ndarray:
    """(len(STABLE), dims) canonical reference: generalised Procrustes mean of the track's stable points.

    In 3-D (mediapipe's z is in pixel scale too) the alignment also takes out nodding and turning, which
    a 2-D alignment would leave in the lip shape as fake mouth motion.
    """
    stable = np.asarray(landmarks, np.float64)[:, list(STABLE), :dims]
    ref = _normalise(np.median(stable, axis=0))
    for _ in range(3):
        aligned = np.stack([apply(similarity(s, ref), s) for s in stable])
        ref = _normalise(aligned.mean(axis=0))
    return ref


def to_canonical(landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(d, d+1) matrix from this frame's landmark space to canonical units (d = the reference's dims)."""
    dims = reference.shape[1]
    return similarity(np.asarray(landmarks, np.float64)[list(STABLE), :dims], reference)


def lip_shape(landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(40, d) canonical lip points of one frame (head pose removed)."""
    dims = reference.shape[1]
    return apply(to_canonical(landmarks, reference), np.asarray(landmarks, np.float64)[list(LIPS), :dims])


def lip_shapes(landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.stack([lip_shape(lm, reference) for lm in landmarks]).astype(np.float32)


def to_frame(shape: np.ndarray, landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A canonical lip shape placed on a frame with this frame's head pose: (40, 2) pixels."""
    return apply(invert(to_canonical(landmarks, reference)), shape)[:, :2]


def frame_error(shapes: np.ndarray, landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per frame: mean pixel distance of the shapes placed on the frames to the real lips, / inter-ocular."""
    out = []
    for shape, lm in zip(np.asarray(shapes), landmarks, strict=True):
        px = to_frame(shape, lm, reference)
        out.append(np.linalg.norm(px - lm[list(LIPS), :2], axis=1).mean() / max(inter_ocular(lm), 1e-9))
    return np.asarray(out)


def opening(shapes: np.ndarray) -> np.ndarray:
    """Inner-lip gap (top middle to bottom middle) in canonical units, per shape."""
    s = np.asarray(shapes)
    return np.linalg.norm(s[..., INNER_BOTTOM, :] - s[..., INNER_TOP, :], axis=-1)


@dataclass
class LipPCA:
    """A few principal components of the lip shape: the model predicts their coefficients."""

    mean: np.ndarray  # (80,)
    components: np.ndarray  # (k, 80)
    scales: np.ndarray  # (k,) standard deviation of each coefficient

    @classmethod
    def fit(cls, shapes: np.ndarray, max_components: int = 8, variance: float = 0.97) -> LipPCA:
        flat = np.asarray(shapes, np.float64).reshape(len(shapes), -1)
        mean = flat.mean(axis=0)
        _, sv, vt = np.linalg.svd(flat - mean, full_matrices=False)
        var = sv**2 / max(len(flat) - 1, 1)
        share = np.cumsum(var) / max(float(var.sum()), 1e-12)
        k = min(max_components, int(np.searchsorted(share, variance)) + 1, len(var))
        return cls(mean.astype(np.float32), vt[:k].astype(np.float32), np.sqrt(var[:k]).astype(np.float32))

    def encode(self, shapes: np.ndarray) -> np.ndarray:
        flat = np.asarray(shapes, np.float32).reshape(len(shapes), -1)
        return (flat - self.mean) @ self.components.T

    def decode(self, coeffs: np.ndarray) -> np.ndarray:
        flat = np.asarray(coeffs, np.float32) @ self.components + self.mean
        return flat.reshape(len(flat), N_LIPS, -1)


def usable_rows(track: FaceTrack, rows: np.ndarray, max_occlusion: float = 0.25,
                max_turn: float = 35.0) -> np.ndarray:
    """Rows whose mouth is seen clearly: not covered (hand, mic) and not turned far away, when the analysis
    measured it; all rows if that would leave too few to learn from."""
    keep = np.ones(len(rows), bool)
    if track.occlusion is not None:
        keep &= track.occlusion[rows] <= max_occlusion
    if track.pose is not None:
        keep &= np.abs(track.pose[rows, :2]).max(axis=1) <= max_turn
    return rows[keep] if keep.sum() >= max(20, len(rows) // 2) else rows


def track_rows(frames: np.ndarray, wanted: Sequence[int] | np.ndarray | None) -> np.ndarray:
    """Rows of a track's arrays whose frame index is in `wanted` (all rows when None)."""
    if wanted is None:
        return np.arange(len(frames))
    return np.flatnonzero(np.isin(frames, np.asarray(list(wanted))))


# --- Mouth texture: the celebrity's own mouth, retrieved from the clip and warped to the new lip shape ---

BORDER_STEPS = 5
BANK_GEOMETRY = ("reference", "plane", "shapes", "flat_shapes")  # kept with the cached bank


@dataclass
class SlotPlan:
    """Decided once per slot: the eased target shape and the bank crop for every slot frame."""

    start: int
    targets: np.ndarray  # (n, 40, 2) canonical
    weights: np.ndarray  # (n,) how much of the new mouth shows (ease-in/out)
    bank_rows: np.ndarray  # (n,) rows of the bank


class MouthRenderer:
    """A bank of the track's own mouth patches, and the warp-and-blend that puts one on a slot frame.

    Patches are kept raw (the frame's own pixels around the mouth) with the map from canonical units into
    them, so rendering resamples each patch exactly once (bicubic): teeth and lip edges stay sharp.
    The full bank (`frames` None) is decoded once per template and then loaded from beside the analysis.
    """

    def __init__(self, clip: Path | str, analysis: TemplateAnalysis, track_id: int,
                 frames: Sequence[int] | np.ndarray | None = None, max_bank: int = 600,
                 max_bytes: int = 256 << 20) -> None:
        track = analysis.track(track_id)
        self.track = track
        self.move_jaw = True  # swapengine.lips.jaw; off only to measure what it adds
        limits = {"track_id": int(track_id), "max_bank": int(max_bank), "max_bytes": int(max_bytes)}
        rows = usable_rows(track, track_rows(track.frames, frames))
        if len(rows) == 0:
            raise EngineError("no frames of this track to build a mouth bank from")
        iod = float(np.median([inter_ocular(lm) for lm in track.landmarks[rows]]))
        max_bank = int(min(max_bank, max_bytes // max(int(3 * 3.0 * 2.4 * iod * iod), 1)))
        if len(rows) > max_bank:
            rows = rows[np.linspace(0, len(rows) - 1, max_bank).round().astype(int)]
        directory = mouthbank.bank_directory(analysis, track_id)
        bank = None if frames is not None else mouthbank.load_bank(directory, limits, rows, BANK_GEOMETRY)
        if bank is None:
            self.reference = mean_face(track.landmarks)  # the model's pose-free shape space (3-D)
            self.plane = mean_face(track.landmarks, dims=2)  # the image-plane space patches are cut in
            self.shapes = lip_shapes(track.landmarks[rows], self.reference)
            self.flat_shapes = lip_shapes(track.landmarks[rows], self.plane)
        else:  # the cache also spares the Procrustes fits (0.3 s on a 1000-frame track)
            self.reference, self.plane, self.shapes, self.flat_shapes = (bank.geometry[k] for k in BANK_GEOMETRY)
        self.bank_frames = track.frames[rows].astype(np.int64)
        self.bank_pose = track.pose[rows] if track.pose is not None else None
        lo, hi = self.flat_shapes.reshape(-1, 2).min(axis=0), self.flat_shapes.reshape(-1, 2).max(axis=0)
        self.box = np.array([lo[0] - 0.45, lo[1] - 0.4, hi[0] + 0.45, hi[1] + 0.55])
        self.scale = float(np.clip(np.median([inter_ocular(lm) for lm in track.landmarks[rows]]), 32, 256))
        self.grid = (int(np.ceil((self.box[3] - self.box[1]) * self.scale)) + 1,
                     int(np.ceil((self.box[2] - self.box[0]) * self.scale)) + 1)
        x0, y0, x1, y1 = self.box
        t = np.linspace(0.0, 1.0, BORDER_STEPS + 1)[:-1]
        self.border = np.concatenate([
            np.stack([x0 + (x1 - x0) * t, np.full_like(t, y0)], 1),
            np.stack([np.full_like(t, x1), y0 + (y1 - y0) * t], 1),
            np.stack([x1 - (x1 - x0) * t, np.full_like(t, y1)], 1),
            np.stack([np.full_like(t, x0), y1 - (y1 - y0) * t], 1),
        ])
        self.simplices = Delaunay(np.concatenate([self.flat_shapes.mean(axis=0), self.border])).simplices
        self.patches: list[np.ndarray] = []
        self.patch_maps: list[np.ndarray] = []  # canonical -> patch pixels
        if bank is not None:
            self.patches, self.patch_maps = bank.patches, bank.patch_maps
            return
        self._fill_bank(Path(clip), analysis.info, rows)
        if frames is None:  # a subset (evaluation) is not worth keeping
            geometry = dict(zip(BANK_GEOMETRY, (self.reference, self.plane, self.shapes, self.flat_shapes),
                                strict=True))
            mouthbank.save_bank(directory, limits, mouthbank.MouthBank(rows, self.patches, self.patch_maps, geometry))

    def _fill_bank(self, clip: Path, info: media.VideoInfo, rows: np.ndarray) -> None:
        wanted = {int(self.track.frames[r]): i for i, r in enumerate(rows)}
        self.patches = [np.zeros((0, 0, 3), np.uint8)] * len(rows)
        self.patch_maps = [np.zeros((2, 3))] * len(rows)
        corners = self._box_corners()
        last = max(wanted)
        with media.FrameReader(clip, info) as reader:
            for index, frame in enumerate(reader):
                i = wanted.get(index)
                if i is not None:
                    to_px = invert(to_canonical(self.track.landmarks[rows[i]], self.plane))
                    x0, y0, x1, y1 = _roi(apply(to_px, corners), frame.shape, pad=4)
                    self.patches[i] = frame[y0:y1, x0:x1].copy()
                    self.patch_maps[i] = to_px - np.array([[0, 0, x0], [0, 0, y0]], np.float64)
                if index >= last:
                    break

    def _box_corners(self) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])

    def plan(self, start: int, shapes: np.ndarray, weights: np.ndarray) -> SlotPlan:
        """Eased targets (the real mouth at the slot's edges) and bank choices by Viterbi over top matches."""
        targets = np.array(shapes, np.float64)
        for k in range(len(targets)):
            lm = self.track.landmarks_at(start + k)
            if lm is not None:
                targets[k] = weights[k] * targets[k] + (1 - weights[k]) * lip_shape(lm, self.reference)
        pose = None
        if self.bank_pose is not None and self.track.pose is not None:
            rows = np.clip(np.searchsorted(self.track.frames, np.arange(start, start + len(targets))), 0,
                           len(self.track.frames) - 1)
            pose = self.track.pose[rows]
        return SlotPlan(start, targets.astype(np.float32), np.asarray(weights, np.float64),
                        self._retrieve(targets, pose))

    def _retrieve(self, targets: np.ndarray, pose: np.ndarray | None, candidates: int = 12) -> np.ndarray:
        """Nearest lip shapes, preferring runs of consecutive source frames (real motion, no flicker)."""
        w = np.ones(N_LIPS)
        w[len(OUTER_LIPS):] = 2.0  # the inner lips decide how much teeth and mouth interior show
        diff: np.ndarray = targets[:, None] - self.shapes[None].astype(np.float64)
        cost = ((diff**2).sum(axis=3) * w).sum(axis=2)  # (n, bank)
        if pose is not None and self.bank_pose is not None:
            # A mouth seen from another angle is shaded and foreshortened differently: prefer the same view.
            turn = ((pose[:, None, :2] - self.bank_pose[None, :, :2]) / 15.0) ** 2
            cost = cost + float(np.median(cost.min(axis=1))) * turn.sum(axis=2)
        k = min(candidates, cost.shape[1])
        cand = np.argsort(cost, axis=1)[:, :k]
        data = np.take_along_axis(cost, cand, axis=1)
        switch = 2.0 * float(np.median(data[:, 0])) + 1e-9
        total = data[0].copy()
        back = np.zeros_like(cand)
        for t in range(1, len(cand)):
            prev_frames = self.bank_frames[cand[t - 1]]
            cur_frames = self.bank_frames[cand[t]]
            step = cur_frames[None, :] - prev_frames[:, None]  # (prev, cur)
            trans = np.where((step == 1) | (step == 0), 0.0, switch)
            scores = total[:, None] + trans
            back[t] = scores.argmin(axis=0)
            total = scores.min(axis=0) + data[t]
        path = np.zeros(len(cand), np.int64)
        path[-1] = int(total.argmin())
        for t in range(len(cand) - 1, 0, -1):
            path[t - 1] = back[t, path[t]]
        return cand[np.arange(len(cand)), path]

    def render(self, frame: np.ndarray, index: int, plan: SlotPlan) -> np.ndarray:
        """A new frame with the planned mouth; the input frame is never written to."""
        out = frame.copy()
        k = index - plan.start
        lm = self.track.landmarks_at(index)
        if lm is None or not 0 <= k < len(plan.targets) or plan.weights[k] <= 0:
            return out
        row = int(plan.bank_rows[k])
        to_can = to_canonical(lm, self.plane)
        x0, y0, x1, y1 = _roi(apply(invert(to_can), self._box_corners()), frame.shape, pad=0)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return out
        target_px = to_frame(plan.targets[k], lm, self.reference)
        if self.move_jaw:  # the chin moves with the new lower lip
            out = jaw.follow(out, lm, LIPS, target_px)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        qx = to_can[0, 0] * xs + to_can[0, 1] * ys + to_can[0, 2]
        qy = to_can[1, 0] * xs + to_can[1, 1] * ys + to_can[1, 2]
        target = np.concatenate([apply(to_can, target_px), self.border])
        source = np.concatenate([self.flat_shapes[row].astype(np.float64), self.border])
        tri = self._triangle_index(target, qx, qy)
        affines = _triangle_affines(target, source, self.simplices)
        a = affines[np.maximum(tri, 0)]
        sx = a[..., 0, 0] * qx + a[..., 0, 1] * qy + a[..., 0, 2]
        sy = a[..., 1, 0] * qx + a[..., 1, 1] * qy + a[..., 1, 2]
        m = self.patch_maps[row]
        map_x = (m[0, 0] * sx + m[0, 1] * sy + m[0, 2]).astype(np.float32)
        map_y = (m[1, 0] * sx + m[1, 1] * sy + m[1, 2]).astype(np.float32)
        warped = cv2.remap(self.patches[row], map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        roi = out[y0:y1, x0:x1]
        iod = inter_ocular(lm)
        lips_px = [target_px[:len(OUTER_LIPS)], np.asarray(lm[list(OUTER_LIPS), :2], np.float64)]
        mask, ring = _mouth_mask((y1 - y0, x1 - x0), [p - (x0, y0) for p in lips_px], iod)
        mask *= (tri >= 0)
        warped = _match_colour(warped, roi, ring & (tri >= 0))
        alpha = (mask * plan.weights[k])[..., None]
        out[y0:y1, x0:x1] = np.clip(alpha * warped + (1 - alpha) * roi + 0.5, 0, 255).astype(np.uint8)
        return out

    def _triangle_index(self, target: np.ndarray, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
        """Which target triangle each canonical point falls in (-1: outside the box), via a raster."""
        h, w = self.grid
        raster = np.zeros((h, w), np.int32)
        grid_pts = ((target - self.box[:2]) * self.scale * 16).round().astype(np.int32)
        for i, simplex in enumerate(self.simplices):
            cv2.fillConvexPoly(raster, grid_pts[simplex], (i + 1,), lineType=cv2.LINE_8, shift=4)
        gx = np.round((qx - self.box[0]) * self.scale).astype(np.int64)
        gy = np.round((qy - self.box[1]) * self.scale).astype(np.int64)
        inside = (gx >= 0) & (gx < w) & (gy >= 0) & (gy < h)
        return np.where(inside, raster[np.clip(gy, 0, h - 1), np.clip(gx, 0, w - 1)], 0) - 1


def _roi(points: np.ndarray, shape: tuple[int, ...], pad: int) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad + 1
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)


def _triangle_affines(dst: np.ndarray, src: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    """(t, 2, 3) affine maps taking each dst triangle onto its src triangle."""
    d = np.concatenate([dst[simplices], np.ones((len(simplices), 3, 1))], axis=2)  # (t, 3, 3)
    s = src[simplices]  # (t, 3, 2)
    d = d + np.eye(3)[None] * 1e-9 * (np.abs(np.linalg.det(d)) < 1e-12)[:, None, None]
    return np.linalg.solve(d, s).transpose(0, 2, 1)


def _mouth_mask(shape: tuple[int, int], polygons: list[np.ndarray], iod: float) -> tuple[np.ndarray, np.ndarray]:
    """Feathered mask over both mouths (new and original) and a skin ring around them for colour."""
    hull = np.zeros(shape, np.uint8)
    for poly in polygons:
        cv2.fillConvexPoly(hull, cv2.convexHull(poly.round().astype(np.int32)), (255,))
    r = max(int(round(0.16 * iod)), 2)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    grown = cv2.dilate(hull, kernel)
    inner = cv2.dilate(hull, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r + 1, r + 1)))
    sigma = max(r / 2.5, 1.0)
    mask = cv2.GaussianBlur(grown.astype(np.float32) / 255.0, (0, 0), sigma)
    return mask, (grown > 0) & (inner == 0)


def _match_colour(patch: np.ndarray, frame_roi: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Shift the patch's colour so its skin ring matches the frame's: the slot frame's own lighting."""
    out = patch.astype(np.float32)
    if ring.sum() >= 20:
        out += frame_roi[ring].astype(np.float32).mean(axis=0) - out[ring].mean(axis=0)
    return out
