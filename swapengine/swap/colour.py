"""Light and colour for the swap: the fan's skin under the template's light, and where it must not go.

Everything works on the face crop in OpenCV's 8-bit LAB scale (L, a, b in 0..255) as float32. Shading is
low frequency, so it is measured on a small copy of the crop and scaled back up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from swapengine.faces.detect import FACE_OVAL, SelfieFace
from swapengine.swap.warp import EYES, INNER_MOUTH, polygon_mask

if TYPE_CHECKING:
    import torch

# Shading blur, as a fraction of the face width: wide enough to average out eyes and brows, narrow
# enough to keep a side light's fall-off across the face.
SHADE_SIGMA = 0.2
SHADE_WORK_PX = 48.0
# Selfie weak-reason thresholds (on faces.face_quality and prepare_selfie's measures), set on the 12 dev
# selfies: side light flags the visibly side-lit s01/s06/s15 (0.24-0.45, the others <= 0.17); occlusion
# flags s04 (hair across the face, 0.048) and s14 (a ball over the cheek, 0.035), the others <= 0.003.
WEAK_YAW = 0.25
WEAK_DARK = 70.0
WEAK_BLUR = 900.0
WEAK_SIDE_LIGHT = 0.2
WEAK_OCCLUDED = 0.025
MIN_SKIN_PX = 50
OFF_HUE_LIGHT = 1.5  # for an off-hue pixel a lightness step counts 1/1.5 of a colour step (skin: 1/2.5)
HUE_LIMIT = 3.0  # skin spreads (a, b): beyond it a pixel is not skin in any light, so not in the shade estimate


def _per4(fn: Callable[[np.ndarray], np.ndarray], img: np.ndarray) -> np.ndarray:
    """Apply an OpenCV function to at most 4 channels at a time (cv2.resize's limit)."""
    parts = [fn(np.ascontiguousarray(img[..., i:i + 4])) for i in range(0, img.shape[2], 4)]
    return np.concatenate([p.reshape(p.shape[0], p.shape[1], -1) for p in parts], axis=2)


def low_frequency(lab: np.ndarray, mask: np.ndarray, face_w: float) -> np.ndarray:
    """Masked heavy blur (normalised convolution: what lies outside the mask does not count) of a LAB
    crop, computed at ~48 px per face width and resized back."""
    h, w = mask.shape
    s = min(1.0, SHADE_WORK_PX / max(face_w, 1.0))
    size = (max(int(round(w * s)), 4), max(int(round(h * s)), 4))
    sigma = max(SHADE_SIGMA * face_w * s, 0.8)
    stacked = np.concatenate([lab * mask[..., None], mask[..., None]], axis=2)
    small = _per4(lambda x: cv2.resize(x, size, interpolation=cv2.INTER_AREA), stacked)
    blurred = _per4(lambda x: cv2.GaussianBlur(x, (0, 0), sigma), small)
    low = blurred[..., :-1] / np.maximum(blurred[..., -1:], 1e-3)
    return _per4(lambda x: cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR), low)


def low_frequency_small(bgr: np.ndarray, mask: np.ndarray, face_w: float) -> np.ndarray:
    """`low_frequency` of a BGR crop left at the working size (LAB of the shrunk crop: the same up to
    rounding, and far cheaper); scale it back with `cv2.resize` where full resolution is needed."""
    h, w = mask.shape
    s = min(1.0, SHADE_WORK_PX / max(face_w, 1.0))
    size = (max(int(round(w * s)), 4), max(int(round(h * s)), 4))
    # Shrink the masked pixels only: hair, eyes or the warp's empty border next to the zone would
    # otherwise tint its edge cells.
    small_m = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    shrunk = cv2.resize(bgr.astype(np.float32) * mask[..., None], size, interpolation=cv2.INTER_AREA)
    mean_bgr = np.clip(shrunk / np.maximum(small_m, 1e-3)[..., None] + 0.5, 0, 255).astype(np.uint8)
    small = cv2.cvtColor(mean_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    sigma = max(SHADE_SIGMA * face_w * s, 0.8)
    num = cv2.GaussianBlur(small * small_m[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(small_m, (0, 0), sigma)
    return np.asarray(num / np.maximum(den, 1e-3)[..., None])


def even_lighting(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """The selfie with its own shading divided out (a harsh side light flattened), and how strong the
    side light was (lightness step between the face's halves over the mean, 0 = even)."""
    pts = landmarks[:, :2]
    face_w = float(np.ptp(pts[:, 0])) or 1.0
    mask = polygon_mask(image.shape[:2], pts[list(FACE_OVAL)]).astype(np.float32) / 255.0
    for ring in EYES:
        mask[polygon_mask(image.shape[:2], pts[list(ring)]) > 0] = 0
    mask[polygon_mask(image.shape[:2], pts[list(INNER_MOUTH)]) > 0] = 0
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    low = low_frequency(lab, mask, face_w)[..., 0]
    inside = mask > 0.5
    if not inside.any():
        return image, 0.0
    mean_l = float(lab[..., 0][inside].mean())
    # Side light: the lightness step between the face's two halves (split at the nose), relative.
    left = inside & (np.arange(image.shape[1])[None, :] < pts[1, 0])
    right = inside & ~left
    strength = 0.0
    if left.any() and right.any():
        strength = abs(float(low[left].mean() - low[right].mean())) / max(mean_l, 1.0)
    # Divide only inside the face (feathered), so hair and background keep their look.
    gain = np.clip(mean_l / np.maximum(low, 1.0), 0.6, 2.5)
    feather = cv2.GaussianBlur(mask, (0, 0), max(face_w * 0.03, 1.0))
    lab[..., 0] = np.clip(lab[..., 0] * (1 + (gain - 1) * feather), 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2BGR), strength


def weak_reasons(selfie: SelfieFace) -> list[str]:
    """Why an accepted selfie may still swap poorly, as short codes a UI can turn into advice:
    'turned', 'dark', 'blurred', 'side_light', 'occluded' (hair, hand or glasses over the face)."""
    q = selfie.quality
    reasons = []
    if abs(q.get("yaw", 0.0)) > WEAK_YAW:
        reasons.append("turned")
    if q.get("brightness", 255.0) < WEAK_DARK:
        reasons.append("dark")
    if q.get("sharpness", 1e9) < WEAK_BLUR:
        reasons.append("blurred")
    if q.get("side_light", 0.0) > WEAK_SIDE_LIGHT:
        reasons.append("side_light")
    if q.get("occluded", 0.0) > WEAK_OCCLUDED:
        reasons.append("occluded")
    return reasons


@dataclass
class SkinModel:
    """Robust colour of one face's bare skin (median and spread in LAB), smoothed over the track."""

    centre: np.ndarray
    spread: np.ndarray

    @staticmethod
    def measure(lab: np.ndarray, zone: np.ndarray) -> SkinModel | None:
        px = lab[zone][::3]  # a third of the pixels gives the same median, three times sooner
        if len(px) < MIN_SKIN_PX // 3:
            return None
        centre = np.median(px, axis=0)
        return SkinModel.robust(centre, np.median(np.abs(px - centre), axis=0))

    @staticmethod
    def robust(median: np.ndarray, mad: np.ndarray) -> SkinModel:
        spread = np.maximum(1.4826 * mad, (6.0, 2.5, 2.5))
        return SkinModel(np.asarray(median, np.float32), spread.astype(np.float32))

    def follow(self, new: SkinModel, rate: float) -> None:
        self.centre += rate * (new.centre - self.centre)
        self.spread += rate * (new.spread - self.spread)

    def skin_hued(self, lab: np.ndarray) -> np.ndarray:
        """Pixels whose hue could be this skin. The shade an off-hue pixel is compared with is measured on
        these alone, so a dark grey or black occluder (a microphone) does not darken its own reference."""
        d_a = (lab[..., 1] - self.centre[1]) / self.spread[1]
        d_b = (lab[..., 2] - self.centre[2]) / self.spread[2]
        return np.asarray(d_a * d_a + d_b * d_b < HUE_LIMIT * HUE_LIMIT)

    def foreign(self, lab: np.ndarray, shade: np.ndarray, skin_shade: np.ndarray | None = None) -> np.ndarray:
        """0..1 per pixel: how surely it is not this skin. Lightness is compared with the local shading
        (a side-lit cheek is dark but still skin) and counts less than colour. Given `skin_shade` (the
        shading of skin-hued pixels only), a pixel already off the skin's hue is compared with it, and its
        lightness step counts more: a dark, grey thing on a face is not skin in shadow."""
        d_l = (lab[..., 0] - shade) / (2.5 * self.spread[0])
        d_a = (lab[..., 1] - self.centre[1]) / self.spread[1]
        d_b = (lab[..., 2] - self.centre[2]) / self.spread[2]
        if skin_shade is not None:
            off_hue = d_a * d_a + d_b * d_b >= HUE_LIMIT * HUE_LIMIT
            d_l = np.where(off_hue, (lab[..., 0] - skin_shade) / (OFF_HUE_LIGHT * self.spread[0]), d_l)
        d = np.sqrt(d_l * d_l + d_a * d_a + d_b * d_b)
        t = np.clip((d - 4.0) / 3.0, 0.0, 1.0)
        return t * t * (3 - 2 * t)


def skin_zone(
    shape: tuple[int, ...], pts: np.ndarray, face: np.ndarray, face_w: float, inset: bool = True
) -> np.ndarray:
    """Face pixels where only skin is expected: the face minus eyes, brows, lips and nostrils, widened."""
    from swapengine.swap.warp import BROWS, NOSTRILS, OUTER_LIPS

    holes = np.zeros(shape, np.uint8)
    for group in (*EYES, *BROWS, OUTER_LIPS, NOSTRILS):
        hull = cv2.convexHull(np.round(pts[list(group), :2]).astype(np.int32))
        cv2.fillConvexPoly(holes, hull, (255,))
    k = max(int(face_w * 0.04), 1) * 2 + 1
    widened = cv2.dilate(holes, np.ones((k, k), np.uint8))
    inner = cv2.erode(face, np.ones((k, k), np.uint8)) if inset else face
    return np.asarray((inner > 0) & (widened == 0))


# --- torch: the same light transfer for a batch of crops, (B, C, H, W) tensors on any device ---------

_RGB_XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_WHITE = (0.950456, 1.0, 1.088754)


def lab_from_bgr(bgr: torch.Tensor) -> torch.Tensor:
    import torch

    """BGR in 0..255 to LAB on OpenCV's 8-bit scale (L*255/100, a+128, b+128), sRGB/D65 like cv2."""
    rgb = bgr.flip(1) / 255.0
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp(min=0) ** 2.4)
    m = torch.tensor(_RGB_XYZ, dtype=bgr.dtype, device=bgr.device)
    white = torch.tensor(_WHITE, dtype=bgr.dtype, device=bgr.device).view(1, 3, 1, 1)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin) / white
    f = torch.where(xyz > 0.008856, xyz.clamp(min=1e-9) ** (1 / 3), 7.787 * xyz + 16 / 116)
    lab_l = 116 * f[:, 1] - 16
    return torch.stack([lab_l * 255 / 100, 500 * (f[:, 0] - f[:, 1]) + 128, 200 * (f[:, 1] - f[:, 2]) + 128], 1)


def bgr_from_lab(lab: torch.Tensor) -> torch.Tensor:
    import torch

    fy = (lab[:, 0] * 100 / 255 + 16) / 116
    f = torch.stack([fy + (lab[:, 1] - 128) / 500, fy, fy - (lab[:, 2] - 128) / 200], 1)
    white = torch.tensor(_WHITE, dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    xyz = torch.where(f > 6 / 29, f**3, (f - 16 / 116) / 7.787) * white
    m_inv = torch.linalg.inv(torch.tensor(_RGB_XYZ, dtype=torch.float64)).to(lab.dtype).to(lab.device)
    lin = torch.einsum("ij,bjhw->bihw", m_inv, xyz).clamp(0, 1)
    srgb = torch.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return (srgb * 255).flip(1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian per channel, zero padded (fine for normalised convolution)."""
    import torch
    import torch.nn.functional as F

    radius = max(int(3 * sigma + 0.5), 1)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, radius), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(radius, 0), groups=c)


def low_frequency_t(lab: torch.Tensor, mask: torch.Tensor, face_w: float) -> torch.Tensor:
    """Batched `low_frequency`: masked heavy blur at ~48 px per face width, resized back."""
    import torch
    import torch.nn.functional as F

    h, w = lab.shape[-2:]
    s = min(1.0, SHADE_WORK_PX / max(face_w, 1.0))
    size = (max(int(round(h * s)), 4), max(int(round(w * s)), 4))
    small = F.interpolate(torch.cat([lab * mask, mask], 1), size=size, mode="area")
    blurred = gaussian_blur(small, max(SHADE_SIGMA * face_w * s, 0.8))
    low = blurred[:, :-1] / blurred[:, -1:].clamp(min=1e-3)
    return F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
