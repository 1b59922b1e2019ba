"""Face detection, dense landmarks and selfie checks, on mediapipe models shipped inside the wheel.

Everything outside this module sees BGR frames and (478, 3) landmark arrays in pixels; the RGB and
normalised-coordinate conventions of mediapipe stay here.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from swapengine.errors import BadInput
from swapengine.faces import screening

N_LANDMARKS = 478
# Landmark width (ear to ear). Calibrated: scikit-image astronaut 92 px, an LFW 250x250 portrait 99 px,
# the 112x112 face crop b07 82 px (too little texture for a sharp swap).
MIN_FACE_PX = 88
SELFIE_FACE_MAX_PX = 512
# Variance of the Laplacian on the face normalised to NORM_FACE_PX wide (downscaling nearly every face,
# so sensor noise and JPEG blocks average out). Calibrated on 12 real selfies: 898-28900; the
# motion-blurred b09 sample: 316; the astronaut blurred with sigma 2: 218.
BLUR_THRESHOLD = 500.0
NORM_FACE_PX = 96
DARK_THRESHOLD = 45.0
SECOND_FACE_RATIO = 0.35
# Face oval in drawing order (mediapipe FACEMESH_FACE_OVAL walked as a ring).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
    176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)


@dataclass
class Face:
    landmarks: np.ndarray
    box: tuple[float, float, float, float]
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass
class SelfieFace:
    landmarks: np.ndarray
    box: tuple[float, float, float, float]
    image: np.ndarray
    quality: dict[str, float] = field(default_factory=dict)


register_heif_opener()  # HEIC/HEIF selfies (the iPhone's default), by content like any other picture


def eight_bit(img: Image.Image) -> Image.Image:
    """16-bit greyscale (PNG's I;16) scaled to 8 bits; Pillow's convert("RGB") would clip it to white."""
    if img.mode.startswith("I;16") or img.mode == "I":
        deep = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(deep / 257.0 + 0.5, 0, 255).astype(np.uint8))
    return img


def load_image(
    path: str | os.PathLike[str], max_pixels: int = 40_000_000, max_bytes: int = 30_000_000
) -> np.ndarray:
    """Decode an uploaded picture by its content; a name or extension proves nothing."""
    p = Path(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise BadInput(f"This photo is too big ({size // 1_000_000} MB). Please send one under "
                       f"{max_bytes // 1_000_000} MB.", "image_too_large")
    if size == 0:
        raise BadInput("This file is empty. Please choose a photo of your face.", "not_image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(p) as img:
                if img.width * img.height > max_pixels:
                    raise BadInput("This photo has too many pixels. Please send a normal phone photo.",
                                   "image_too_large")
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = np.asarray(eight_bit(upright).convert("RGB"))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadInput("This photo has too many pixels. Please send a normal phone photo.",
                           "image_too_large") from exc
        except UnidentifiedImageError as exc:
            raise BadInput("This file is not a photo we can read. Please send a JPEG or PNG picture.",
                           "not_image") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise BadInput("This photo is damaged or incomplete. Please take or upload it again.",
                           "corrupt_image") from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _to_face(norm: Any, width: int, height: int, score: float) -> Face:
    pts = np.array([(lm.x, lm.y, lm.z) for lm in norm.landmark], dtype=np.float32)
    pts[:, 0] *= width
    pts[:, 1] *= height
    pts[:, 2] *= width
    x0, y0 = pts[:, :2].min(axis=0)
    x1, y1 = pts[:, :2].max(axis=0)
    return Face(pts, (float(x0), float(y0), float(x1), float(y1)), score)


def _rgb(frame: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    rgb.flags.writeable = False
    return rgb


class VideoSession:
    """Face mesh in tracking mode: landmarks of frame n seed frame n+1, so frames must come in order."""

    def __init__(self, max_faces: int = 4) -> None:
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=max_faces, refine_landmarks=True,
            min_detection_confidence=0.5, min_tracking_confidence=0.5,
        )

    def process(self, frame: np.ndarray) -> list[Face]:
        h, w = frame.shape[:2]
        result = self._mesh.process(_rgb(frame))
        return [_to_face(lm, w, h, 1.0) for lm in (result.multi_face_landmarks or [])]

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> VideoSession:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FaceAnalyzer:
    """Owns the static-image mediapipe graphs, built on first use. Not thread-safe: one per job."""

    def __init__(self) -> None:
        self._mesh: Any = None
        self._detector: Any = None
        self.mesh_calls = 0

    def _static_mesh(self) -> Any:
        if self._mesh is None:
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=4, refine_landmarks=True, min_detection_confidence=0.5)
        return self._mesh

    def detect_image(self, frame: np.ndarray) -> list[Face]:
        h, w = frame.shape[:2]
        self.mesh_calls += 1
        result = self._static_mesh().process(_rgb(frame))
        faces = [_to_face(lm, w, h, 1.0) for lm in (result.multi_face_landmarks or [])]
        return sorted(faces, key=lambda f: -f.width)

    def detect_boxes(self, frame: np.ndarray) -> list[Face]:
        """Full-range face detector: finds small or partial faces the mesh misses (group photos)."""
        if self._detector is None:
            import mediapipe as mp

            self._detector = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=0.6)
        h, w = frame.shape[:2]
        result = self._detector.process(_rgb(frame))
        faces = []
        for det in result.detections or []:
            bb = det.location_data.relative_bounding_box
            box = (bb.xmin * w, bb.ymin * h, (bb.xmin + bb.width) * w, (bb.ymin + bb.height) * h)
            faces.append(Face(np.zeros((0, 3), np.float32), box, float(det.score[0])))
        return sorted(faces, key=lambda f: -f.width)

    def video_session(self, max_faces: int = 4) -> VideoSession:
        self.mesh_calls += 1
        return VideoSession(max_faces)

    def close(self) -> None:
        for graph in (self._mesh, self._detector):
            if graph is not None:
                graph.close()
        self._mesh = self._detector = None


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def face_quality(image: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """Sharpness and brightness measured on the face normalised to a fixed width, so scale cancels out."""
    pts = landmarks[:, :2]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    face_px = float(x1 - x0)
    scale = NORM_FACE_PX / max(face_px, 1.0)
    m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
    size = (NORM_FACE_PX, max(int((y1 - y0) * scale), 1))
    crop = cv2.warpAffine(image, m, size, flags=cv2.INTER_AREA)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    mask = np.zeros(gray.shape, np.uint8)
    oval = (pts[list(FACE_OVAL)] - (x0, y0)) * scale
    cv2.fillPoly(mask, [np.round(oval).astype(np.int32)], (255,))
    inside = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    sharpness = float(lap[inside].var()) if inside.any() else 0.0
    brightness = float(gray[inside].mean()) if inside.any() else 0.0
    nose, left, right = pts[1], pts[234], pts[454]
    dl, dr = float(np.linalg.norm(nose - left)), float(np.linalg.norm(right - nose))
    yaw = (dl - dr) / max(dl + dr, 1e-6)
    return {"sharpness": round(sharpness, 2), "brightness": round(brightness, 2),
            "face_px": round(face_px, 1), "yaw": round(yaw, 3)}


def _mesh_in_box(image: np.ndarray, box: tuple[float, ...], analyzer: FaceAnalyzer) -> list[Face]:
    """Re-run the mesh on a crop around a detector box: the mesh's own detector is short-range only."""
    h, w = image.shape[:2]
    cx, cy, size = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 2.0 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(cx - size / 2, 0)), int(max(cy - size / 2, 0))
    x1, y1 = int(min(cx + size / 2, w)), int(min(cy + size / 2, h))
    faces = analyzer.detect_image(np.ascontiguousarray(image[y0:y1, x0:x1]))
    for f in faces:
        f.landmarks[:, 0] += x0
        f.landmarks[:, 1] += y0
        f.box = (f.box[0] + x0, f.box[1] + y0, f.box[2] + x0, f.box[3] + y0)
    return faces


def analyse_selfie(image_bgr: np.ndarray, analyzer: FaceAnalyzer) -> SelfieFace:
    """Accept exactly one clear, big enough, lit face, or say precisely what the fan should change."""
    faces = analyzer.detect_image(image_bgr)
    boxes = analyzer.detect_boxes(image_bgr)
    if not faces and len(boxes) == 1:
        faces = _mesh_in_box(image_bgr, boxes[0].box, analyzer)
    several = BadInput("There is more than one person in this photo. Only one person in the photo, please: "
                       "crop it or take a selfie on your own.", "several_faces")
    if not faces:
        if len(boxes) >= 2 and boxes[1].width >= SECOND_FACE_RATIO * boxes[0].width:
            raise several
        raise BadInput("We could not find a face in this photo. Please send a clear, well-lit photo of your "
                       "face, looking at the camera, with nothing covering it.", "no_face")
    main = faces[0]
    others = [f for f in faces[1:] if f.width >= SECOND_FACE_RATIO * main.width]
    others += [b for b in boxes
               if all(_iou(b.box, f.box) < 0.1 for f in faces) and b.width >= SECOND_FACE_RATIO * main.width]
    if others:
        raise several
    quality = face_quality(image_bgr, main.landmarks)
    if quality["face_px"] < MIN_FACE_PX:
        raise BadInput("Your face is too small in this photo. Move closer to the camera, or crop the photo "
                       "around your face.", "face_too_small")
    if quality["brightness"] < DARK_THRESHOLD:
        raise BadInput("This photo is too dark. Please take it facing a window or a light.", "too_dark")
    if quality["sharpness"] < BLUR_THRESHOLD:
        raise BadInput("This photo is too blurry. Hold the phone still, tap to focus on your face and try "
                       "again.", "too_blurry")
    image, landmarks = image_bgr, main.landmarks
    extent = float(np.ptp(main.landmarks[:, :2], axis=0).max())
    if extent > SELFIE_FACE_MAX_PX:
        s = SELFIE_FACE_MAX_PX / extent
        image = cv2.resize(image_bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        landmarks = main.landmarks * np.float32(s)
    quality.update(screening.screen(image, landmarks))  # covered, cut off, sunglasses, not a photo
    x0, y0 = landmarks[:, :2].min(axis=0)
    x1, y1 = landmarks[:, :2].max(axis=0)
    box = (float(x0), float(y0), float(x1), float(y1))
    return SelfieFace(landmarks.astype(np.float32), box, image, quality)
