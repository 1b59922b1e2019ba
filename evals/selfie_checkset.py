"""A labelled check set for the selfie screen, made deterministically from real selfies.

Bad variants: masks drawn over the lower face (surgical shapes, scarves, a skin-coloured hand), crops that
cut the face at a frame edge, dark sunglasses over the eyes, and non-photographic restylings (cartoon,
watercolour, sketch, smooth "render"). Good variants: black and white, darker (within the too_dark limit),
mild rotations, flips, JPEG recompression, a tight crop and clear glasses frames.

Every drawing is placed with the face mesh's landmarks of the untouched source. Each generation *style*
is either "tuned" (looked at while the thresholds in swapengine.selfiescreen were set) or "held_out" (never
looked at while tuning): report both, the held-out numbers are the honest ones.

    python -m evals.selfie_checkset OUT_DIR [--media ../shared/media]

writes OUT_DIR/<case>.png and OUT_DIR/labels.csv. Never write it inside the repository: the sources are
third-party pictures (see ../shared/media/MANIFEST.md).
"""

from __future__ import annotations

import argparse
import csv
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from swapengine.faces.detect import FACE_OVAL, FaceAnalyzer, load_image

DEFAULT_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
MAX_SIDE = 1024  # sources are downscaled to this first: generation stays quick on 2400 px photos

OK = "ok"


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    variant: str
    expected: str  # "ok" or the refusal code the screen should give
    style: str  # "tuned" | "held_out" | "real"
    image: np.ndarray


# --- geometry --------------------------------------------------------------------------------------------

def _pt(lm: np.ndarray, i: int) -> np.ndarray:
    return lm[i, :2].astype(np.float64)


def _box(lm: np.ndarray) -> tuple[float, float, float, float]:
    oval = lm[list(FACE_OVAL), :2]
    x0, y0 = oval.min(axis=0)
    x1, y1 = oval.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _rng(*keys: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(keys).encode()))


def _poly_mask(shape: tuple[int, ...], pts: np.ndarray, soft: float = 1.0) -> np.ndarray:
    """Antialiased 0..1 mask of a polygon (drawn at 4x, then reduced)."""
    h, w = shape[:2]
    big = np.zeros((h * 4, w * 4), np.uint8)
    cv2.fillPoly(big, [np.round(np.asarray(pts) * 4).astype(np.int32)], (255,), lineType=cv2.LINE_8)
    m = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return cv2.GaussianBlur(m, (0, 0), soft) if soft > 0 else m


def _composite(image: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    out = image.astype(np.float32) * (1 - a) + layer.astype(np.float32) * a
    return np.clip(out, 0, 255).astype(np.uint8)


def _sensor_noise(layer: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    """Drawn surfaces get photo-like noise, so a detector cannot cheat on 'perfectly flat'."""
    return layer + rng.normal(0.0, sigma, layer.shape).astype(np.float32)


def _lower_face(lm: np.ndarray, top: float, chin_drop: float, widen: float) -> np.ndarray:
    """The face oval below the height `top` (pixels), chin pushed down and sides widened."""
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    ring = lm[list(FACE_OVAL), :2].astype(np.float64)
    below = [p for p in ring if p[1] >= top]
    cx = (x0 + x1) / 2
    pts = []
    for p in below:
        q = p.copy()
        q[0] = cx + (q[0] - cx) * (1 + widen)
        t = (q[1] - top) / max(y1 - top, 1.0)
        q[1] += chin_drop * h * t
        pts.append(q)
    pts.sort(key=lambda p: np.arctan2(p[1] - top, p[0] - cx))  # from the right, round under the chin
    left = [x0 - widen * w / 2, top]
    right = [x1 + widen * w / 2, top]
    nose = _pt(lm, 195)
    return np.array([right, *pts, left, [nose[0] - 0.08 * w, top - 0.02 * h], [nose[0], nose[1] - 0.02 * h],
                     [nose[0] + 0.08 * w, top - 0.02 * h]])


# --- bad variants ---------------------------------------------------------------------------------------

def surgical_mask(image: np.ndarray, lm: np.ndarray, colour: tuple[int, int, int], key: str,
                  pattern: bool = False) -> np.ndarray:
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    rng = _rng(key, "mask")
    top = float(_pt(lm, 195)[1])
    poly = _lower_face(lm, top, 0.08, 0.06)
    alpha = _poly_mask(image.shape, poly)
    layer = np.empty(image.shape, np.float32)
    layer[:] = colour
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    if pattern:  # held-out style: dots of a second colour
        period = max(w / 7, 4.0)
        dots = (np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)) > 0.55
        layer[dots] = (180, 120, 240)
    # soft shading from the nose down, and three horizontal pleats
    shade = 1.0 - 0.15 * np.clip((yy - top) / max(h * 0.6, 1), 0, 1)
    for k in (0.25, 0.45, 0.65):
        yk = top + k * (y1 - top)
        shade -= 0.12 * np.exp(-((yy - yk) ** 2) / (2 * (0.012 * h) ** 2))
    layer *= shade[..., None]
    layer = _sensor_noise(layer, rng)
    out = _composite(image, layer, alpha)
    for side, ear in ((poly[0], _pt(lm, 356)), (poly[-4], _pt(lm, 127))):  # ear loops
        cv2.line(out, tuple(int(v) for v in side), tuple(int(v) for v in ear), tuple(int(c * 0.9) for c in colour),
                 max(int(0.012 * w), 1), cv2.LINE_AA)
    return out


def scarf(image: np.ndarray, lm: np.ndarray, key: str, plaid: bool = False) -> np.ndarray:
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    rng = _rng(key, "scarf")
    top = float(_pt(lm, 1)[1] + 0.02 * h)  # just under the nose tip
    hh = image.shape[0]
    poly = np.array([[x0 - 0.25 * w, top + 0.04 * h], [(x0 + x1) / 2, top - 0.03 * h], [x1 + 0.25 * w, top + 0.04 * h],
                     [x1 + 0.35 * w, min(y1 + 0.6 * h, hh + 10)], [x0 - 0.35 * w, min(y1 + 0.6 * h, hh + 10)]])
    alpha = _poly_mask(image.shape, poly, soft=1.5)
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    layer = np.empty(image.shape, np.float32)
    if plaid:  # held-out style: grey and green checks
        period = max(w / 5, 6.0)
        a = (np.sin(xx * 2 * np.pi / period) > 0.3)[..., None]
        b = (np.sin(yy * 2 * np.pi / period) > 0.3)[..., None]
        layer[:] = (90, 100, 95)
        layer = np.where(a, layer * 0.6 + np.array((40, 110, 40)) * 0.4, layer)
        layer = np.where(b, layer * 0.7 + np.array((200, 200, 200)) * 0.3, layer)
    else:  # tuned style: a red rib knit
        rib = max(w / 30, 2.0)
        knit = 0.8 + 0.2 * np.abs(np.sin(xx * np.pi / rib)) * (0.85 + 0.15 * np.sin(yy * np.pi / (rib * 0.7)))
        layer[:] = (40, 40, 170)
        layer *= knit[..., None]
    layer = _sensor_noise(layer, rng, 5.0)
    return _composite(image, layer, alpha)


def hand_over_mouth(image: np.ndarray, lm: np.ndarray, key: str, from_right: bool = False) -> np.ndarray:
    """Four fingers and a palm in the face's own skin colour, laid across the mouth."""
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    rng = _rng(key, "hand")
    cheeks = [_pt(lm, i) for i in (50, 280, 117, 346)]
    r = max(int(0.04 * w), 2)
    samples = np.concatenate([image[int(c[1]) - r:int(c[1]) + r, int(c[0]) - r:int(c[0]) + r].reshape(-1, 3)
                              for c in cheeks]).astype(np.float32)
    skin = np.median(samples, axis=0) * (np.array((0.95, 1.0, 1.06)) if from_right else 1.0)
    top, bottom = float(_pt(lm, 2)[1]) + 0.01 * h, float(_pt(lm, 17)[1]) + 0.1 * h
    n = 4
    fh = (bottom - top) / n
    mouth_l, mouth_r = _pt(lm, 61)[0], _pt(lm, 291)[0]
    tilt = -12.0 if from_right else 8.0
    alpha = np.zeros(image.shape[:2], np.float32)
    gaps = np.zeros(image.shape[:2], np.float32)
    for k in range(n):
        cy = top + fh * (k + 0.5)
        length = (0.55 + 0.08 * (1.5 - abs(k - 1.5))) * w
        if from_right:
            start, end = x1 + 0.3 * w, mouth_l - 0.12 * w
        else:
            start, end = x0 - 0.3 * w, mouth_r + 0.12 * w
        cx = (start + end) / 2
        half = max(abs(end - start) / 2, length / 2)
        box = cv2.boxPoints(((cx, cy), (2 * half, fh * 1.02), tilt))
        alpha = np.maximum(alpha, _poly_mask(image.shape, box, soft=1.2))
        edge = cv2.boxPoints(((cx, cy + fh / 2), (2 * half * 0.9, max(fh * 0.06, 1.0)), tilt))
        gaps = np.maximum(gaps, _poly_mask(image.shape, edge, soft=1.0))
    palm_x = x1 + 0.3 * w if from_right else x0 - 0.3 * w
    cv2.ellipse(alpha, (int(palm_x), int((top + bottom) / 2)), (int(0.25 * w), int(0.45 * h)), 0, 0, 360, (1.0,), -1)
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    layer = np.empty(image.shape, np.float32)
    layer[:] = skin
    side = (xx - x0) / max(w, 1) if not from_right else (x1 - xx) / max(w, 1)
    layer *= (1.05 - 0.12 * np.clip(side, 0, 1))[..., None]
    layer *= (1.0 - 0.35 * gaps)[..., None]
    layer = _sensor_noise(layer, rng, 2.5)
    return _composite(image, layer, np.clip(alpha, 0, 1))


def _eye_centres(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    a = np.mean([_pt(lm, i) for i in (33, 133, 159, 145)], axis=0)
    b = np.mean([_pt(lm, i) for i in (263, 362, 386, 374)], axis=0)
    eye_w = float(np.linalg.norm(_pt(lm, 33) - _pt(lm, 133)) + np.linalg.norm(_pt(lm, 263) - _pt(lm, 362))) / 2
    angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))
    return a, b, eye_w, angle


def sunglasses(image: np.ndarray, lm: np.ndarray, key: str, aviator: bool = False) -> np.ndarray:
    a, b, eye_w, angle = _eye_centres(lm)
    rng = _rng(key, "sun")
    alpha = np.zeros(image.shape[:2], np.float32)
    layer = np.empty(image.shape, np.float32)
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    if aviator:  # held-out style: brown teardrops with a gradient and a reflection streak
        layer[:] = (35, 55, 75)
        grad = np.clip((yy - min(a[1], b[1]) + eye_w) / (2.4 * eye_w), 0, 1)
        layer *= (1.0 - 0.55 * grad)[..., None]
        sx, sy = 1.15, 0.9
    else:  # tuned style: round black lenses
        layer[:] = (22, 22, 24)
        sx, sy = 1.05, 0.85
    for c in (a, b):
        ax = (int(sx * eye_w * 1.0), int(sy * eye_w * 1.0))
        lens = np.zeros(image.shape[:2], np.float32)
        cv2.ellipse(lens, (int(c[0]), int(c[1] + 0.1 * eye_w)), ax, angle, 0, 360, (1.0,), -1, cv2.LINE_AA)
        if aviator:  # drop the lower outer part a little further: teardrop
            cv2.ellipse(lens, (int(c[0]), int(c[1] + 0.35 * eye_w)), (int(ax[0] * 0.8), int(ax[1] * 0.8)), angle,
                        0, 360, (1.0,), -1, cv2.LINE_AA)
        alpha = np.maximum(alpha, lens)
    layer = _sensor_noise(layer, rng, 2.0)
    out = _composite(image, layer, alpha * 0.97)
    if aviator:
        streak = np.zeros(image.shape[:2], np.float32)
        for c in (a, b):
            cv2.line(streak, (int(c[0] - 0.5 * eye_w), int(c[1] - 0.1 * eye_w)),
                     (int(c[0] + 0.1 * eye_w), int(c[1] - 0.5 * eye_w)), (1.0,), max(int(0.12 * eye_w), 1), cv2.LINE_AA)
        glint = cv2.GaussianBlur(streak * alpha, (0, 0), 1.5) * 0.35
        out = _composite(out, np.full(image.shape, 235, np.float32), glint)
    thick = max(int(0.08 * eye_w), 1)
    frame = (15, 15, 15) if not aviator else (60, 150, 190)
    cv2.line(out, (int(a[0] + sx * eye_w), int(a[1])), (int(b[0] - sx * eye_w), int(b[1])), frame, thick, cv2.LINE_AA)
    cv2.line(out, (int(a[0] - sx * eye_w), int(a[1])), tuple(int(v) for v in _pt(lm, 127)), frame, thick, cv2.LINE_AA)
    cv2.line(out, (int(b[0] + sx * eye_w), int(b[1])), tuple(int(v) for v in _pt(lm, 356)), frame, thick, cv2.LINE_AA)
    return out


def clear_glasses(image: np.ndarray, lm: np.ndarray, round_frames: bool = False) -> np.ndarray:
    """Frames only: the eyes stay visible through the lenses."""
    a, b, eye_w, angle = _eye_centres(lm)
    out = image.copy()
    thick = max(int(0.07 * eye_w), 1)
    colour = (20, 20, 20) if not round_frames else (60, 120, 160)
    for c in (a, b):
        centre = (int(c[0]), int(c[1] + 0.05 * eye_w))
        if round_frames:
            cv2.ellipse(out, centre, (int(0.8 * eye_w), int(0.75 * eye_w)), angle, 0, 360, colour, thick, cv2.LINE_AA)
        else:
            box = cv2.boxPoints((centre, (1.8 * eye_w, 1.15 * eye_w), angle))
            cv2.polylines(out, [np.round(box).astype(np.int32)], True, colour, thick, cv2.LINE_AA)
    cv2.line(out, (int(a[0] + 0.85 * eye_w), int(a[1])), (int(b[0] - 0.85 * eye_w), int(b[1])), colour, thick,
             cv2.LINE_AA)
    return out


def cut(image: np.ndarray, lm: np.ndarray, side: str, fraction: float) -> np.ndarray:
    """Crop so that the frame edge runs through the face, `fraction` of the face lost on `side`."""
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    if side == "left":
        out = image[:, int(x0 + fraction * w):]
    elif side == "right":
        out = image[:, :int(x1 - fraction * w)]
    elif side == "top":
        out = image[int(y0 + fraction * h):]
    else:
        out = image[:int(y1 - fraction * h)]
    return np.ascontiguousarray(out)


def cartoon(image: np.ndarray) -> np.ndarray:
    """Tuned style: flat posterised colours with inked edges."""
    smooth = image
    for _ in range(4):
        smooth = cv2.bilateralFilter(smooth, 9, 40, 7)
    flat = (smooth // 48) * 48 + 24
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 7)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    return cv2.bitwise_and(flat.astype(np.uint8), cv2.cvtColor(edges, cv2.COLOR_GRAY2BGR))


def watercolour(image: np.ndarray) -> np.ndarray:
    return cv2.stylization(image, sigma_s=60, sigma_r=0.45)


def sketch(image: np.ndarray) -> np.ndarray:
    _, colour = cv2.pencilSketch(image, sigma_s=50, sigma_r=0.07, shade_factor=0.05)
    return colour


def smooth_render(image: np.ndarray) -> np.ndarray:
    """A CG-like look: edge-preserving smoothing, no grain, a little extra contrast."""
    smooth = cv2.edgePreservingFilter(image, flags=1, sigma_s=80, sigma_r=0.35)
    return cv2.convertScaleAbs(smooth, alpha=1.1, beta=-8)


# --- good variants ---------------------------------------------------------------------------------------

def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def darker(image: np.ndarray, face_brightness: float, target: float = 60.0) -> np.ndarray:
    """Less light: encoded values scaled (ratios kept, as a shorter exposure does) aiming the face at
    `target` (the too_dark limit is 45), with the extra sensor noise of a dim photo."""
    if face_brightness <= target:
        return image.copy()
    k = target / face_brightness
    noisy = image.astype(np.float32) * k + np.random.default_rng(7).normal(0.0, 2.0, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def rotate(image: np.ndarray, lm: np.ndarray, degrees: float) -> np.ndarray:
    x0, y0, x1, y1 = _box(lm)
    m = cv2.getRotationMatrix2D(((x0 + x1) / 2, (y0 + y1) / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT101)


def jpeg(image: np.ndarray, quality: int = 45) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def tight(image: np.ndarray, lm: np.ndarray, margin: float = 0.12) -> np.ndarray:
    x0, y0, x1, y1 = _box(lm)
    w, h = x1 - x0, y1 - y0
    H, W = image.shape[:2]
    return np.ascontiguousarray(image[max(int(y0 - margin * h), 0):min(int(y1 + margin * h), H),
                                      max(int(x0 - margin * w), 0):min(int(x1 + margin * w), W)])


# --- the set ---------------------------------------------------------------------------------------------

Variant = tuple[str, str, str, Callable[[np.ndarray, np.ndarray, str, float], np.ndarray]]


def _cutter(side: str, fraction: float) -> Callable[[np.ndarray, np.ndarray, str, float], np.ndarray]:
    return lambda im, lm, k, b: cut(im, lm, side, fraction)


VARIANTS: list[Variant] = [
    # name, expected, style, make(image, landmarks, key, face_brightness)
    ("mask_white", "face_covered", "tuned", lambda im, lm, k, b: surgical_mask(im, lm, (235, 238, 240), k)),
    ("mask_blue", "face_covered", "tuned", lambda im, lm, k, b: surgical_mask(im, lm, (215, 185, 130), k)),
    ("scarf_knit", "face_covered", "tuned", lambda im, lm, k, b: scarf(im, lm, k)),
    ("hand_left", "face_covered", "tuned", lambda im, lm, k, b: hand_over_mouth(im, lm, k)),
    ("mask_black", "face_covered", "held_out", lambda im, lm, k, b: surgical_mask(im, lm, (28, 28, 30), k)),
    ("mask_pattern", "face_covered", "held_out",
     lambda im, lm, k, b: surgical_mask(im, lm, (90, 40, 30), k, pattern=True)),
    ("scarf_plaid", "face_covered", "held_out", lambda im, lm, k, b: scarf(im, lm, k, plaid=True)),
    ("hand_right", "face_covered", "held_out", lambda im, lm, k, b: hand_over_mouth(im, lm, k, from_right=True)),
    *[(f"cut_{side}_{int(frac * 100)}", "face_cut_off", "tuned" if side in ("left", "top") else "held_out",
       _cutter(side, frac)) for side in ("left", "top", "right", "bottom") for frac in (0.15, 0.3, 0.5)],
    ("sunglasses_round", "eyes_hidden", "tuned", lambda im, lm, k, b: sunglasses(im, lm, k)),
    ("sunglasses_aviator", "eyes_hidden", "held_out", lambda im, lm, k, b: sunglasses(im, lm, k, aviator=True)),
    ("cartoon", "not_a_photo", "tuned", lambda im, lm, k, b: cartoon(im)),
    ("watercolour", "not_a_photo", "held_out", lambda im, lm, k, b: watercolour(im)),
    ("sketch", "not_a_photo", "held_out", lambda im, lm, k, b: sketch(im)),
    ("smooth_render", "not_a_photo", "held_out", lambda im, lm, k, b: smooth_render(im)),
    ("bw", OK, "tuned", lambda im, lm, k, b: grey(im)),
    ("dark", OK, "tuned", lambda im, lm, k, b: darker(im, b)),
    ("rot_p12", OK, "tuned", lambda im, lm, k, b: rotate(im, lm, 12)),
    ("flip", OK, "tuned", lambda im, lm, k, b: np.ascontiguousarray(im[:, ::-1])),
    ("clear_glasses_rect", OK, "tuned", lambda im, lm, k, b: clear_glasses(im, lm)),
    ("tight_crop", OK, "tuned", lambda im, lm, k, b: tight(im, lm)),
    ("rot_m15", OK, "held_out", lambda im, lm, k, b: rotate(im, lm, -15)),
    ("jpeg_q45", OK, "held_out", lambda im, lm, k, b: jpeg(im)),
    ("clear_glasses_round", OK, "held_out", lambda im, lm, k, b: clear_glasses(im, lm, round_frames=True)),
    ("bw_dark", OK, "held_out", lambda im, lm, k, b: grey(darker(im, b, 70.0))),
]


def sources(media: Path) -> list[Path]:
    return sorted(p for p in (media / "selfies").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def _prepared(path: Path, analyzer: FaceAnalyzer) -> tuple[np.ndarray, np.ndarray, float] | None:
    from swapengine.faces.detect import face_quality

    image = load_image(path)
    s = MAX_SIDE / max(image.shape[:2])
    if s < 1:
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    faces = analyzer.detect_image(image)
    if not faces:
        return None
    lm = faces[0].landmarks
    return image, lm, face_quality(image, lm)["brightness"]


def generate(media: Path = DEFAULT_MEDIA, analyzer: FaceAnalyzer | None = None,
             only: set[str] | None = None) -> Iterator[Case]:
    """Every variant of every dev selfie, in a fixed order; `only` restricts the variant names."""
    own = analyzer is None
    analyzer = analyzer or FaceAnalyzer()
    try:
        for path in sources(media):
            prepared = _prepared(path, analyzer)
            if prepared is None:
                continue
            image, lm, brightness = prepared
            for name, expected, style, make in VARIANTS:
                if only is not None and name not in only:
                    continue
                out = make(image, lm, f"{path.stem}/{name}", brightness)
                yield Case(f"{path.stem}__{name}", path.name, name, expected, style, out)
    finally:
        if own:
            analyzer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="an empty folder outside the repository")
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "source", "variant", "expected", "style"])
        for case in generate(args.media):
            cv2.imwrite(str(args.out / f"{case.name}.png"), case.image)
            writer.writerow([f"{case.name}.png", case.source, case.variant, case.expected, case.style])
    print(args.out / "labels.csv")  # noqa: T201


if __name__ == "__main__":
    main()
