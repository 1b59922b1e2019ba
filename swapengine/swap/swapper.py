"""Per-frame face swap: the fan's selfie texture, warped onto the template's dense landmarks.

The warp is one remap over the target face box: triangle ids are rasterised far-to-near (so the hidden
side of a turned head is covered by its near side, and triangles seen edge-on fade out instead of
smearing), each pixel takes its triangle's affine map back into the selfie. The selfie's own lighting is
flattened once; each frame then takes the template's low-frequency shading and colour, keeps the
template's eyes (moved into the fan's eye place: blinks and gaze) and mouth opening (teeth, tongue), keeps
what is not skin in front of the face (a microphone, hair), and a multi-band blend removes the seam.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from swapengine.faces.detect import FACE_OVAL, SelfieFace
from swapengine.swap.blend import LIGHT_RATIO, Job, feathered, finish_batch, multiband, pyramid_levels
from swapengine.swap.colour import (
    MIN_SKIN_PX,
    SkinModel,
    even_lighting,
    low_frequency,
    low_frequency_small,
    skin_zone,
    weak_reasons,
)
from swapengine.swap.expression import RestOffset
from swapengine.swap.occluders import OccluderFinder
from swapengine.swap.warp import (
    EYES,
    INNER_MOUTH,
    N_MESH,
    eye_moves,
    eye_scales,
    facing,
    mesh_triangles,
    polygon_mask,
    rasterise,
    signed_area,
    similarity,
    triangle_affines,
    warp_maps,
)

if TYPE_CHECKING:
    import torch

__all__ = ["INNER_MOUTH", "FaceSwapper", "blend_outline", "mesh_triangles", "shape_weights", "weak_reasons"]

BROW_CENTRE = 168
# How far each face-oval point is pulled towards the brow centre to form the blend outline: the mesh's
# top reaches the hairline, and a fan's fringe pasted onto a bald forehead is the worst artefact.
_PULL = {10: 0.38, 338: 0.36, 109: 0.36, 297: 0.32, 67: 0.32, 332: 0.26, 103: 0.26, 284: 0.18, 54: 0.18,
         251: 0.1, 21: 0.1, 389: 0.04, 162: 0.04}
OVAL_PULL = np.array([_PULL.get(i, 0.0) for i in FACE_OVAL], dtype=np.float64)[:, None]
# Triangles whose normal is this close to perpendicular to the view (|cos|) are faded out, not stretched.
GRAZING = (0.12, 0.35)
# Per-frame colour statistics follow the template at this rate (EMA), so the face does not flicker.
COLOUR_RATE = 0.3
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


def blend_outline(points: np.ndarray) -> np.ndarray:
    """The face oval with its forehead lowered: where the selfie is allowed to show."""
    oval = points[list(FACE_OVAL), :2]
    return oval + (points[BROW_CENTRE, :2] - oval) * OVAL_PULL


def prepare_selfie(selfie: SelfieFace) -> SelfieFace:
    """The selfie with its lighting evened out; quality gains `side_light` and `occluded` (the share of
    its bare-skin zone that does not look like its own skin), which `weak_reasons` reads."""
    image, side = even_lighting(selfie.image, selfie.landmarks)
    pts = selfie.landmarks[:, :2]
    face_w = float(np.ptp(pts[:, 0])) or 1.0
    face = polygon_mask(image.shape[:2], blend_outline(selfie.landmarks[:N_MESH]))
    # Not pulled in from the face edge: that is where a ball or a hand usually covers a selfie.
    zone = skin_zone(image.shape[:2], pts, face, face_w, inset=False)
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    model = SkinModel.measure(lab, zone)
    occluded = 0.0
    if model is not None:
        shade = low_frequency(lab, face.astype(np.float32) / 255.0, face_w)[..., 0]
        occluded = float((model.foreign(lab, shade)[zone] > 0.5).mean())
    quality = {**selfie.quality, "side_light": round(side, 3), "occluded": round(occluded, 3)}
    return replace(selfie, image=image, quality=quality)


class FaceSwapper:
    """Holds everything about the selfie that does not change from frame to frame, and the colour
    statistics of the track being swapped (call `reset()` before another track)."""

    _occluders: OccluderFinder | None = None  # made by `occluders()`
    last_occluder: np.ndarray | None = None

    def __init__(
        self, selfie: SelfieFace, margin: float = 0.12, shape_strength: float = 1.0, keep_occluders: bool = True,
        device: str | None = None,
    ) -> None:
        self.keep_occluders = keep_occluders
        self.device = device
        self.triangles = mesh_triangles()
        self.selfie = prepare_selfie(selfie)
        lm = selfie.landmarks
        self._selfie_3d = lm[:N_MESH].astype(np.float64)
        self._shape_w = shape_weights(self._selfie_3d, shape_strength)
        h, w = selfie.image.shape[:2]
        x0, y0 = lm[:, :2].min(axis=0)
        x1, y1 = lm[:, :2].max(axis=0)
        pad = margin * max(x1 - x0, y1 - y0)
        cx0, cy0 = int(max(x0 - pad, 0)), int(max(y0 - pad, 0))
        cx1, cy1 = int(min(x1 + pad, w)), int(min(y1 + pad, h))
        self.texture = np.ascontiguousarray(self.selfie.image[cy0:cy1, cx0:cx1])
        self.src = (lm[:N_MESH, :2] - (cx0, cy0)).astype(np.float64)
        tri = self.src[self.triangles]
        self._src_sign = np.sign(signed_area(tri))
        self._src_facing = facing(self._selfie_3d[self.triangles])
        self._textures: dict[str, torch.Tensor] = {}
        self._rest: RestOffset | None = None
        self.reset()

    def start_track(self, track_landmarks: np.ndarray) -> None:
        """Learn the template person's rest shape from the whole track's landmarks (n, 468+, 3), so each
        frame carries the fan's proportions as an offset and keeps its own expression; also `reset()`."""
        self._rest = RestOffset(self._selfie_3d, track_landmarks) if len(track_landmarks) else None
        self.reset()

    def texture_tensor(self, device: torch.device) -> torch.Tensor:
        """The selfie texture as a (1, 3, h, w) float tensor, kept per device."""
        import torch

        key = str(device)
        if key not in self._textures:
            arr = np.ascontiguousarray(self.texture.transpose(2, 0, 1)[None]).astype(np.float32)
            self._textures[key] = torch.from_numpy(arr).to(device)
        return self._textures[key]

    def reset(self) -> None:
        """Forget the smoothed colour statistics and eye sizes (a new track or a scene cut)."""
        self._tmean: np.ndarray | None = None
        self._skin: SkinModel | None = None
        self._eye_scales: np.ndarray | None = None
        if self._occluders is not None:
            self._occluders.reset()

    def apply(self, frame: np.ndarray, target_landmarks: np.ndarray) -> np.ndarray:
        """Return a copy of frame with the selfie face on the target; pixels outside the oval are kept."""
        return self.apply_batch([frame], [target_landmarks])[0]

    def apply_batch(self, frames: list[np.ndarray], landmarks: list[np.ndarray | None]) -> list[np.ndarray]:
        """Frames of one track in order, each with its target landmarks (None: left as it is). The
        geometry is per frame in numpy/OpenCV; warp, light and blend run per frame in OpenCV, or for the
        whole batch at once in torch when the swapper has a device."""
        outs = [f.copy() for f in frames]
        jobs = [(i, job) for i, (f, lm) in enumerate(zip(frames, landmarks, strict=True))
                if lm is not None and (job := self._prepare(f, lm)) is not None]
        if not jobs:
            return outs
        if self.device is None:
            results = [self._finish(job) for _, job in jobs]
        else:
            results = finish_batch(self, [job for _, job in jobs], self.device)
        for (i, job), result in zip(jobs, results, strict=True):
            x0, y0, x1, y1 = job.box
            outs[i][y0:y1, x0:x1] = result
        return outs

    def reshape(self, tgt: np.ndarray) -> np.ndarray:
        """Target landmarks with the fan's proportions, so identity survives the warp: after `start_track`,
        the fan's offset from the template person's rest shape is added to the frame (its expression
        plays at full amplitude); without it, the inner features move towards the selfie's posed mesh. The eye
        rings keep the template's shape (open, shut, looking aside), moved to where the fan's eyes sit."""
        if self._rest is not None:  # the frame's expression, the fan's rest proportions
            posed = self._rest.fan_shape(tgt)
        else:  # no track known: the selfie's own mesh (and its expression) posed like the frame
            scale, rot, shift = similarity(self._selfie_3d, tgt)
            posed = scale * self._selfie_3d @ rot.T + shift
        out = tgt + (posed - tgt) * self._shape_w
        scales = eye_scales(tgt, posed)
        if self._eye_scales is not None:  # smoothed: the corners' noise would make the eyes pulse
            scales = self._eye_scales + COLOUR_RATE * (scales - self._eye_scales)
        self._eye_scales = scales
        for ring, move in zip(EYES, eye_moves(tgt, posed, scales), strict=True):
            out[list(ring), :2] = tgt[list(ring), :2] @ move[:, :2].T + move[:, 2]
        return out

    def _geometry(
        self, shape: tuple[int, int], pts: np.ndarray, tgt: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source maps and per-pixel weight of the fan's face (0 off the mesh, fading on edge-on parts)."""
        facing_w = _smoothstep(np.minimum(facing(tgt[self.triangles]), self._src_facing), *GRAZING)
        front = np.sign(signed_area(pts[self.triangles])) == self._src_sign
        ids = rasterise(self.triangles, shape, pts, tgt[:, 2], front & (facing_w > 0))
        map_x, map_y = warp_maps(ids, triangle_affines(self.triangles, pts, self.src))
        weight = np.concatenate([[0.0], facing_w]).astype(np.float32)[ids]
        return map_x, map_y, weight

    def _prepare(self, frame: np.ndarray, target_landmarks: np.ndarray) -> Job | None:
        """Everything about one frame that is geometry: the face box, warp maps, masks, template eyes."""
        fh, fw = frame.shape[:2]
        raw = target_landmarks[:N_MESH].astype(np.float64)
        tgt = self.reshape(raw)
        oval = tgt[list(FACE_OVAL), :2]
        fx0, fy0 = oval.min(axis=0)
        fx1, fy1 = oval.max(axis=0)
        face_w = float(max(fx1 - fx0, fy1 - fy0))
        if face_w < 8:
            return None
        pad = 0.1 * face_w + 4
        x0, y0 = int(max(fx0 - pad, 0)), int(max(fy0 - pad, 0))
        x1, y1 = int(min(fx1 + pad + 1, fw)), int(min(fy1 + pad + 1, fh))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        shape = (y1 - y0, x1 - x0)
        crop = frame[y0:y1, x0:x1]
        pts = tgt[:, :2] - (x0, y0)
        tpts = raw[:, :2] - (x0, y0)
        map_x, map_y, weight = self._geometry(shape, pts, tgt)
        outline = polygon_mask(shape, blend_outline(pts))
        k = max(int(round(face_w * 0.012)), 1)
        mouth = cv2.dilate(polygon_mask(shape, tpts[list(INNER_MOUTH)]), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
        eyes = np.zeros(shape, np.uint8)
        for ring in EYES:
            eyes |= polygon_mask(shape, pts[list(ring)])
        eyes = cv2.dilate(eyes, np.ones((3, 3), np.uint8)) & outline
        hard = outline.copy()
        hard[(weight == 0) | (mouth > 0) | (eyes > 0)] = 0
        if not hard.any():
            return None
        feather = max(int(face_w * 0.04), 2)
        alpha = feathered(outline, feather, feather * 0.6)
        alpha *= 1.0 - feathered(cv2.dilate(mouth | eyes, np.ones((3, 3), np.uint8)), 0, face_w * 0.01)
        alpha *= cv2.GaussianBlur(weight, (0, 0), max(feather * 0.5, 1.0)) * (weight > 0)
        zone = skin_zone(shape, tpts, hard, face_w) if self.keep_occluders else hard > 0
        # Glasses frames and hands (skin-coloured too) found in front of the template's face stay in front.
        keep = self.occluders().keep_mask(frame, (x0, y0, x1, y1), tpts, face_w) if self.keep_occluders else None
        return Job((x0, y0, x1, y1), face_w, crop, self._template_eyes(crop, tpts, pts, eyes, face_w),
                   map_x, map_y, alpha, hard > 0, zone, (hard > 0) | (eyes > 0), keep)

    def _finish(self, job: Job) -> np.ndarray:
        """Warp, light and blend one frame in OpenCV."""
        warped = cv2.remap(self.texture, job.map_x, job.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lab_t = cv2.cvtColor(job.crop, cv2.COLOR_BGR2LAB).astype(np.float32)
        lab_w = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32)
        zone = job.zone.astype(np.float32)
        size = (zone.shape[1], zone.shape[0])
        low_t = low_frequency_small(job.crop, zone, job.face_w)
        low_w = low_frequency_small(warped, zone, job.face_w)
        occluder = np.zeros(zone.shape, np.float32)
        if self.keep_occluders and (skin := self.follow_skin(SkinModel.measure(lab_t, job.zone))) is not None:
            shade = cv2.resize(low_t[..., 0], size, interpolation=cv2.INTER_LINEAR)
            hued = (skin.skin_hued(lab_t) & job.zone).astype(np.float32)
            skin_shade = None
            if hued.sum() >= MIN_SKIN_PX:
                low_s = low_frequency_small(job.crop, hued, job.face_w)
                skin_shade = cv2.resize(low_s[..., 0], size, interpolation=cv2.INTER_LINEAR)
            occluder = occluder_mask(skin.foreign(lab_t, shade, skin_shade) * zone, job.face_w)
        if job.keep is not None:
            occluder = np.maximum(occluder, job.keep)
        self.last_occluder = occluder  # what was kept in front on the last frame (evals.occlusion_eval)
        inside = zone * (1.0 - occluder) > 0.5
        if inside.any():
            low_t = low_t + self.follow_mean(lab_t[inside].mean(axis=0))
        ratio = np.clip(low_t[..., 0] / np.maximum(low_w[..., 0], 1.0), *LIGHT_RATIO)
        change = np.dstack([ratio, low_t[..., 1:] - low_w[..., 1:]])
        change = cv2.resize(change, size, interpolation=cv2.INTER_LINEAR)
        out = lab_w
        out[..., 0] *= change[..., 0]
        out[..., 1:] += change[..., 1:]
        coloured = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
        # Off the warped face the fan's layer shows the template, so no band carries a false edge there.
        fan = np.where(job.hard[..., None], coloured, job.base).astype(np.float32)
        alpha = job.alpha * (1.0 - occluder)
        blended = np.clip(multiband(fan, job.base.astype(np.float32), alpha, pyramid_levels(job.face_w)), 0, 255)
        if job.keep is not None:  # exactly the template where something is in front (not its moved eyes)
            blended = blended * (1.0 - job.keep[..., None]) + job.crop * job.keep[..., None]
        return np.where(job.region[..., None], blended, job.crop).astype(np.uint8)

    def occluders(self) -> OccluderFinder:
        """The track's glasses and hand detectors (made on first use: the hand tracker starts a graph)."""
        if self._occluders is None:
            self._occluders = OccluderFinder()
        return self._occluders

    def follow_skin(self, model: SkinModel | None) -> SkinModel | None:
        """The track's skin model, moved towards this frame's measurement."""
        if model is not None:
            if self._skin is None:
                self._skin = model
            else:
                self._skin.follow(model, COLOUR_RATE)
        return self._skin

    def follow_mean(self, mean: np.ndarray) -> np.ndarray:
        """Offset from this frame's mean face colour to the smoothed one (a jump of a cut is taken at once)."""
        if self._tmean is None or abs(float(mean[0] - self._tmean[0])) > 25:
            self._tmean = mean.astype(np.float32)
        else:
            self._tmean = self._tmean + COLOUR_RATE * (mean - self._tmean)
        return (self._tmean - mean).astype(np.float32)

    def _template_eyes(
        self, crop: np.ndarray, tpts: np.ndarray, pts: np.ndarray, eyes: np.ndarray, face_w: float
    ) -> np.ndarray:
        """The crop with the template's eyes (lids, eyeball, gaze) moved into the fan's eye places."""
        base = crop.copy()
        h, w = eyes.shape
        margin = int(face_w * 0.03) + 2
        for ring in EYES:
            new = pts[list(ring)]
            ex0, ey0 = np.maximum(np.floor(new.min(axis=0)).astype(int) - margin, 0)
            ex1, ey1 = np.minimum(np.ceil(new.max(axis=0)).astype(int) + margin, (w, h))
            if ex1 <= ex0 or ey1 <= ey0:
                continue
            # Affine from the new eye place back to the template's eye, both in crop pixels.
            scale, rot, shift = similarity(new, tpts[list(ring)])
            m = np.hstack([scale * rot, shift[:, None]])
            m[:, 2] += m[:, :2] @ (ex0, ey0)
            patch = cv2.warpAffine(crop, m, (int(ex1 - ex0), int(ey1 - ey0)),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            sub = eyes[ey0:ey1, ex0:ex1]
            a = cv2.GaussianBlur(sub.astype(np.float32) / 255.0, (0, 0), max(face_w * 0.006, 0.6))[..., None]
            base[ey0:ey1, ex0:ex1] = (patch * a + base[ey0:ey1, ex0:ex1] * (1 - a)).astype(np.uint8)
        return base


def occluder_mask(foreign: np.ndarray, face_w: float) -> np.ndarray:
    """Non-skin evidence cleaned of specks (opening) and softened: 1 keeps the template pixel in front."""
    k = max(int(face_w * 0.02), 1) * 2 + 1
    opened = cv2.morphologyEx(foreign.astype(np.float32), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    return np.clip(cv2.GaussianBlur(opened, (0, 0), face_w * 0.01 + 0.5) * 1.5, 0.0, 1.0)
