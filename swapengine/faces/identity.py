"""Face identity embeddings (dlib ResNet, 128-d): an objective check that a swap shows the fan's face.

The models ship in the face_recognition_models package. Its __init__ imports pkg_resources, which the
installed setuptools no longer has, so the package's folder is located without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from swapengine.errors import EngineError

SAME_PERSON = 0.6
"""dlib's own threshold: distances below it are usually the same person."""


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("face_recognition_models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceIdentity:
    """Loads the dlib detector, 68-point predictor and embedding network on first use."""

    def __init__(self) -> None:
        self._models: tuple[Any, Any, Any] | None = None

    def _load(self) -> tuple[Any, Any, Any]:
        if self._models is None:
            import dlib

            folder = models_dir()
            self._models = (
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat")),
                dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
            )
        return self._models

    def embedding(
        self, frame_bgr: np.ndarray, box: tuple[float, float, float, float] | None = None
    ) -> np.ndarray | None:
        """128-d descriptor of the face in box, or of the largest face dlib finds; None if there is none."""
        import dlib

        detector, predictor, encoder = self._load()
        rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        if box is None:
            found = list(detector(rgb, 1))
            if not found:
                return None
            rect = max(found, key=lambda r: r.width() * r.height())
        else:
            rect = dlib.rectangle(int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        shape = predictor(rgb, rect)
        return np.asarray(encoder.compute_face_descriptor(rgb, shape, 1), dtype=np.float32)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
