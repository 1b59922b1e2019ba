"""Selfie screening: refuse, with one line the fan can act on, a face that is covered, cut off by the frame,
hidden behind sunglasses, or not a photograph at all.

Everything is measured on pixels at the face mesh's landmark positions of the one accepted face: under a
mask or dark lenses mediapipe still places (hallucinates) the mouth and the eyes, so the question asked is
"do these pixels look like lips, skin and eyes?". Features are simple and printed by `measure` so a refusal
can be explained; the thresholds were set on evals.selfie_checkset's "tuned" styles and the real dev media
and are reported against its held-out styles in docs/eval/selfie_screening.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from swapengine.errors import BadInput

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
    176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
NORM_W = 128  # the face is resampled to this width (ear to ear) before any pixel is read

# Reference skin: forehead and the cheeks just under the eyes (above any mask's top edge).
UPPER_SKIN = (67, 109, 10, 338, 297, 108, 151, 337, 69, 299, 117, 118, 346, 347, 111, 340)
FOREHEAD = (67, 109, 10, 338, 297, 108, 151, 337, 69, 299)
# Skin around the mouth that a mask, scarf or hand covers: beside and under the lips, the chin.
LOWER_SKIN = (164, 57, 287, 212, 432, 200, 199, 18, 175, 152, 214, 434, 204, 424, 211, 431)
SIDE_OF_MOUTH = (172, 136, 397, 365)  # jaw points at mouth and chin height, both sides
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
EYES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)
# Just under each lower lid and at the outer corner: bare skin unless dark lenses cover it.
UNDER_EYES = ((110, 24, 23, 22, 226, 130), (339, 254, 253, 252, 446, 359))

# Thresholds, set on the real dev media and the check set's tuned styles (docs/eval/selfie_screening.md).
CUT_OFF = 0.06  # face-oval landmarks this share of the face width beyond the frame (real: 0; 15% cut: >= 0.10)
COVERED = 0.7  # share of lower-face samples unlike the forehead's skin (real max 0.56, a beard; masks ~1)
PATCHWORK = 1.0  # ... and alike among themselves: (L MAD / 7 + chroma MAD / 4); masks < 1, beards > 1.5
LIPS_FLAT = 0.06  # lips' lightness std over the skin's lightness: no lip edge under a hand (real min 0.074)
LIPS_PALE = 6.0  # ... and no lip red (a*, over the skin's) either
LIPS_FAINT = 0.12  # a faint lip edge is enough when skin also continues beyond the jaw at mouth height
SIDE_SKIN = 0.5  # (share of 4 points outside the jaw that match the face's skin: a hand's palm or wrist)
EYES_DARK = 0.5  # brightest tenth of either eye over the forehead's lightness (real min 0.61; lenses ~0.25)
UNDER_EYES_DARK = 0.5  # ... with the skin just under the eyes dark too (a lens covers it)
FLAT_SHADES = 0.5  # share of upper-face pixels in its 5 commonest shades (real max 0.37; cartoons 0.53-0.95)
YELLOWED = 28.0  # skin b* minus a*: varnished-painting yellow (real max 16, the Mona Lisa 37)


class ScreenMessage:
    face_cut_off = ("Part of your face is outside the photo. Please take it again with your whole face, chin "
                    "and forehead inside the frame.")
    face_covered = ("Something is covering your mouth or nose (a mask, scarf or hand?). Please take the photo "
                    "again with your whole face uncovered.")
    eyes_hidden = "Your eyes are hidden. Please take off your sunglasses and take the photo again."
    not_a_photo = ("This looks like a drawing, painting or computer image, not a photo. Please send a real photo "
                   "of your face.")


def _normalised(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face and a margin resampled so the oval is NORM_W wide; landmarks mapped along."""
    pts = landmarks[:, :2].astype(np.float64)
    oval = pts[list(FACE_OVAL)]
    x0, y0 = oval.min(axis=0)
    x1, y1 = oval.max(axis=0)
    s = NORM_W / max(x1 - x0, 1.0)
    mx, my = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
    m = np.array([[s, 0, -(x0 - mx) * s], [0, s, -(y0 - my) * s]])
    size = (int(round((x1 - x0 + 2 * mx) * s)), int(round((y1 - y0 + 2 * my) * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(image, m, size, flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return crop, pts * s + m[:, 2]


def _discs(lab: np.ndarray, pts: np.ndarray, ids: tuple[int, ...], r: int = 3) -> np.ndarray:
    """(n, 3) median LAB of a small disc at each landmark (inside the crop)."""
    h, w = lab.shape[:2]
    out = []
    for i in ids:
        x, y = int(round(pts[i, 0])), int(round(pts[i, 1]))
        x0, x1, y0, y1 = max(x - r, 0), min(x + r + 1, w), max(y - r, 0), min(y + r + 1, h)
        if x1 > x0 and y1 > y0:
            out.append(np.median(lab[y0:y1, x0:x1].reshape(-1, 3), axis=0))
    return np.array(out, np.float32).reshape(-1, 3)


def _poly(shape: tuple[int, ...], pts: np.ndarray, ids: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(pts[list(ids)]).astype(np.int32)], (255,))
    return mask > 0


def cut_off(image_shape: tuple[int, ...], landmarks: np.ndarray) -> float:
    """How far (share of the face width) the face oval reaches beyond the frame; 0 when it is all inside."""
    h, w = image_shape[:2]
    oval = landmarks[list(FACE_OVAL), :2].astype(np.float64)
    face_w = max(float(np.ptp(oval[:, 0])), 1.0)
    beyond = np.maximum.reduce([-oval[:, 0], oval[:, 0] - (w - 1), -oval[:, 1], oval[:, 1] - (h - 1)])
    return round(max(float(beyond.max()), 0.0) / face_w, 3)


def measure(image: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """The screen's features for one face (see the thresholds above for what each means)."""
    crop, pts = _normalised(image, landmarks)
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    light = lab[..., 0]
    upper = _discs(lab, pts, UPPER_SKIN)
    centre = np.median(upper, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(upper - centre), axis=0), (8.0, 3.0, 3.0))

    # Covered: lower-face samples unlike the skin (other colour, brighter, or darker and smooth: a black
    # mask; a beard is darker but textured) and alike among themselves (one material: a beard, stubble
    # and lips make a patchwork, a mask or scarf does not).
    foreign, samples = [], []
    h, w = light.shape
    for i in LOWER_SKIN:
        x, y = int(round(pts[i, 0])), int(round(pts[i, 1]))
        patch = lab[max(y - 4, 0):min(y + 5, h), max(x - 4, 0):min(x + 5, w)].reshape(-1, 3)
        if len(patch) == 0:
            continue
        m = np.median(patch, axis=0)
        samples.append(m)
        d_l = (m[0] - centre[0]) / spread[0]
        d_c = float(np.hypot((m[1] - centre[1]) / spread[1], (m[2] - centre[2]) / spread[2]))
        foreign.append(d_c > 3 or d_l > 3 or (d_l < -3 and float(patch[:, 0].std()) < 6.0))
    covered = float(np.mean(foreign)) if foreign else 0.0
    lower = np.array(samples, np.float32).reshape(-1, 3)
    mix = np.median(np.abs(lower - np.median(lower, axis=0)), axis=0) if len(lower) else np.zeros(3)
    patchwork = float(mix[0] / 7.0 + max(mix[1], mix[2]) / 4.0)
    # Beside the jaw at mouth height, outside the face: background, hair or collar, unless a hand (its
    # palm, its wrist) reaches in from there.
    side = []
    for i in SIDE_OF_MOUTH:
        out = pts[i] + (pts[i] - pts[1]) / max(float(np.linalg.norm(pts[i] - pts[1])), 1.0) * 0.12 * NORM_W
        x, y = int(round(out[0])), int(round(out[1]))
        patch = lab[max(y - 3, 0):min(y + 4, h), max(x - 3, 0):min(x + 4, w)].reshape(-1, 3)
        if len(patch):
            m = np.median(patch, axis=0)
            d_l = abs(m[0] - centre[0]) / spread[0]
            d_c = float(np.hypot((m[1] - centre[1]) / spread[1], (m[2] - centre[2]) / spread[2]))
            side.append(d_l < 2.5 and d_c < 2.5)
    side_skin = float(np.mean(side)) if side else 0.0
    lips = _poly(crop.shape, pts, OUTER_LIPS)
    lip_red = float(np.median(lab[..., 1][lips]) - centre[1]) if lips.any() else 0.0
    lip_spread = float(light[lips].std()) / max(float(centre[0]), 1.0) if lips.any() else 0.0

    # Eyes: a dark lens has no bright sclera or catch-light, and darkens the skin under the eye too.
    forehead = float(np.median(_discs(lab, pts, FOREHEAD)[:, 0]))
    eyes, under = [], []
    for contour, lids in zip(EYES, UNDER_EYES, strict=True):
        eye = _poly(crop.shape, pts, contour)
        if eye.sum() >= 4:
            eyes.append(float(np.percentile(light[eye], 90)) / max(forehead, 1.0))
        u = _discs(lab, pts, lids, r=2)
        if len(u):
            under.append(float(np.median(u[:, 0])) / max(forehead, 1.0))

    # Not a photo: flat fills (few shades) or varnish-yellow skin, read on the face above the nose tip and
    # away from the eyes (no mask or lens reaches there). `grain` (fine texture) is reported but not used:
    # video frames and small upscaled faces (real photos) have as little of it as smooth renders.
    skin = _poly(crop.shape, pts, FACE_OVAL)
    skin[int(pts[1, 1]):] = False
    k = max(int(0.12 * NORM_W), 3)
    for group in EYES:
        skin &= ~cv2.dilate(_poly(crop.shape, pts, group).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    vals = grey[skin].astype(np.float32) if skin.any() else np.zeros(1, np.float32)
    # Shades in bins of 1/50 of the region's own range, so a dim photo (fewer grey levels) is not "flat".
    width = max(1.0, float(np.percentile(vals, 95) - np.percentile(vals, 5)) / 50.0)
    counts = np.bincount(np.floor(vals / width).astype(np.int64))
    flat = float(np.sort(counts)[-5:].sum() / max(counts.sum(), 1))
    g = grey.astype(np.float32) * (100.0 / 255.0)
    resid = g - cv2.GaussianBlur(g, (0, 0), 1.0)
    grain = float(np.median(np.abs(resid[skin]))) if skin.any() else 0.0
    return {
        "cut_off": cut_off(image.shape, landmarks),
        "covered": round(covered, 3),
        "patchwork": round(patchwork, 3),
        "lip_red": round(lip_red, 2),
        "side_skin": round(side_skin, 3),
        "lip_spread": round(lip_spread, 4),
        "eyes": round(max(eyes) if eyes else 1.0, 3),
        "under_eyes": round(max(under) if under else 1.0, 3),
        "flat_shades": round(flat, 3),
        "grain": round(grain, 3),
        "yellow": round(float(centre[2] - centre[1]), 2),
    }


def verdict(m: dict[str, float]) -> str | None:
    """The refusal code for these measurements, or None. Cut off first (nothing else is reliable then),
    eyes before mouth (dark lenses also darken the cheeks the mouth is compared with)."""
    if m["cut_off"] > CUT_OFF:
        return "face_cut_off"
    if m["eyes"] < EYES_DARK and m["under_eyes"] < UNDER_EYES_DARK:
        return "eyes_hidden"
    no_lips = m["lip_red"] < LIPS_PALE and (
        m["lip_spread"] < LIPS_FLAT or (m["lip_spread"] < LIPS_FAINT and m["side_skin"] >= SIDE_SKIN))
    if (m["covered"] > COVERED and m["patchwork"] < PATCHWORK) or no_lips:
        return "face_covered"
    if m["flat_shades"] > FLAT_SHADES or m["yellow"] > YELLOWED:
        return "not_a_photo"
    return None


class ScreenRefusal(BadInput):
    """A selfie the screen refused; `measurements` say why (for logs and the evaluation)."""

    def __init__(self, code: str, measurements: dict[str, float]) -> None:
        super().__init__(getattr(ScreenMessage, code), code)
        self.measurements = measurements


def screen(image: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """The measurements, or ScreenRefusal (a BadInput) with the reason the selfie cannot be used."""
    m = measure(image, landmarks)
    code = verdict(m)
    if code is not None:
        raise ScreenRefusal(code, m)
    return m
