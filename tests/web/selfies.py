"""Selfies for web tests, with no shared media: scikit-image's astronaut (a real frontal photo that passes
the engine's screen) and, drawn over it with the check set's own generators, one picture per refusal."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import cv2
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from evals import selfie_checkset as drawn
from swapengine.faces.detect import FaceAnalyzer

FACE_SIZE = (512, 512)  # the astronaut's width and height


@cache
def astronaut() -> np.ndarray:
    """The astronaut, BGR (read-only: callers copy before drawing)."""
    from skimage import data

    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    image.flags.writeable = False
    return image


@cache
def astronaut_landmarks() -> np.ndarray:
    analyzer = FaceAnalyzer()
    try:
        return analyzer.detect_image(astronaut())[0].landmarks
    finally:
        analyzer.close()


def encode(image_bgr: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)).save(buffer, fmt, **({"quality": 95} if fmt != "PNG"
                                                                                      else {}))
    return buffer.getvalue()


@cache
def face_bytes(fmt: str = "JPEG") -> bytes:
    """A selfie the screen accepts (JPEG, PNG or WEBP)."""
    return encode(astronaut(), fmt)


def face_upload(name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, face_bytes(), content_type="image/jpeg")


def _two_people(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.hstack([a, a[:, ::-1]]))


def _no_face(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a[-140:, :])  # the suit and the flag below the chin


def _mask(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return drawn.surgical_mask(a, lm, (215, 185, 130), "web/mask")


def _cut_off(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return drawn.cut(a, lm, "left", 0.3)


def _sunglasses(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return drawn.sunglasses(a, lm, "web/sun")


def _drawing(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return drawn.cartoon(a)  # flat posterised colours and inked edges


def _black_and_white(a: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return drawn.grey(a)


# refusal code -> how the picture is made from the astronaut
REFUSED: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "no_face": _no_face,
    "several_faces": _two_people,
    "face_covered": _mask,
    "face_cut_off": _cut_off,
    "eyes_hidden": _sunglasses,
    "not_a_photo": _drawing,
}
ACCEPTED: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "black_and_white": _black_and_white,
    "mirrored": lambda a, lm: np.ascontiguousarray(a[:, ::-1]),
}


@cache
def variant_bytes(kind: str) -> bytes:
    """The astronaut made into `kind` (a key of REFUSED or ACCEPTED), as a JPEG."""
    make = REFUSED.get(kind) or ACCEPTED[kind]
    return encode(make(astronaut().copy(), astronaut_landmarks()))
