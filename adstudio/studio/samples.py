"""Built-in sample selfies for the admin's test render, made from images that ship in scikit-image.

Each candidate is kept only if the engine's own selfie check accepts it (exactly one clear, big enough
face), so the set never offers a picture that would fail for a reason that is not the template's. The set
is built once per MEDIA_ROOT and engine version, into MEDIA_ROOT/samples/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

import swapengine
from swapengine import BadInput, EngineContext, FaceAnalyzer, analyse_selfie


@dataclass(frozen=True)
class Sample:
    key: str
    title: str

    @property
    def path(self) -> Path:
        return folder() / f"{self.key}.jpg"


def folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "samples"


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def _camera() -> np.ndarray:
    from skimage import data

    grey = cv2.resize(data.camera(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def _close_up(image: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray:
    """A square portrait around the face, as a fan's selfie would frame it."""
    face = analyse_selfie(image, analyzer)
    x0, y0, x1, y1 = face.box
    scale = image.shape[1] / face.image.shape[1]  # the check may have downscaled the picture
    cx, cy = (x0 + x1) / 2 * scale, (y0 + y1) / 2 * scale
    half = 1.6 * max(x1 - x0, y1 - y0) * scale
    h, w = image.shape[:2]
    left, top = int(max(cx - half, 0)), int(max(cy - half, 0))
    right, bottom = int(min(cx + half, w)), int(min(cy + half, h))
    crop = image[top:bottom, left:right]
    return cv2.resize(crop, (512, 512), interpolation=cv2.INTER_CUBIC)


# (key, title, how to make it from the source image); close-ups are cropped from their source.
CANDIDATES: list[tuple[str, str, Callable[[], np.ndarray], bool]] = [
    ("astronaut", "Astronaut (scikit-image)", _astronaut, False),
    ("astronaut-close", "Astronaut, close up", _astronaut, True),
    ("cameraman", "Cameraman, close up (scikit-image)", _camera, True),
]


def _build(target: Path) -> list[Sample]:
    kept: list[Sample] = []
    with EngineContext(Path(settings.ENGINE_CACHE_DIR)) as ctx:
        for key, title, make, close_up in CANDIDATES:
            try:
                image = make()
                if close_up:
                    image = _close_up(image, ctx.analyzer)
                analyse_selfie(image, ctx.analyzer)
            except BadInput:
                continue  # no usable face: not offered
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            if ok:
                tmp = target / f".{key}.jpg.tmp"
                tmp.write_bytes(encoded.tobytes())
                os.replace(tmp, target / f"{key}.jpg")
                kept.append(Sample(key, title))
    return kept


def available() -> list[Sample]:
    """The samples with a usable face, building the set the first time it is asked for."""
    target = folder()
    manifest = target / "manifest.json"
    try:
        saved = json.loads(manifest.read_text())
        if saved.get("engine_version") == swapengine.ENGINE_VERSION:
            samples = [Sample(s["key"], s["title"]) for s in saved["samples"]]
            if all(s.path.is_file() for s in samples):
                return samples
    except (OSError, ValueError, KeyError, TypeError):
        pass
    target.mkdir(parents=True, exist_ok=True)
    samples = _build(target)
    tmp = target / ".manifest.json.tmp"
    body = {"engine_version": swapengine.ENGINE_VERSION, "samples": [s.__dict__ for s in samples]}
    tmp.write_text(json.dumps(body))
    os.replace(tmp, manifest)
    return samples


def get(key: str) -> Sample | None:
    return next((s for s in available() if s.key == key), None)
