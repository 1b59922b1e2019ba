"""The jaw follows the new mouth: the chin moves with the lower lip, nothing above the nose or outside
the face's lower outline moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swapengine.lips import jaw
from swapengine.lips.mouth import LIPS
from swapengine.pipeline.context import EngineContext


@pytest.fixture(scope="module")
def face(astronaut_bgr: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    with EngineContext(Path(tmp_path_factory.mktemp("jaw"))) as ctx:
        faces = ctx.analyzer.detect_image(astronaut_bgr)
    assert faces
    return np.asarray(faces[0].landmarks, np.float64)


def vertical_shift(before: np.ndarray, after: np.ndarray, x: int, y0: int, y1: int) -> int:
    """The downward shift (pixels) that best maps a column strip of `before` onto `after`."""
    a = before[:, x - 6:x + 6].astype(np.float64).mean(axis=(1, 2))
    b = after[:, x - 6:x + 6].astype(np.float64).mean(axis=(1, 2))
    errors = {s: float(np.mean((b[y0 + s:y1 + s] - a[y0:y1]) ** 2)) for s in range(-4, 15)}
    return min(errors, key=lambda s: errors[s])


def test_the_chin_follows_the_lower_lip(astronaut_bgr: np.ndarray, face: np.ndarray) -> None:
    drop = 10.0
    lips_px = face[list(LIPS), :2] + (0.0, drop)
    out = jaw.follow(astronaut_bgr, face, LIPS, lips_px)
    assert out is not astronaut_bgr and out.shape == astronaut_bgr.shape
    chin_x, chin_y = face[152, :2].round().astype(int)
    lip_y = int(face[17, 1])
    moved = vertical_shift(astronaut_bgr, out, chin_x, lip_y + 4, chin_y + 2)
    assert 5 <= moved <= 11  # the chin line takes 80-95% of the lip's 10 px
    nose_y = int(face[4, 1])
    assert np.array_equal(out[:nose_y - 2], astronaut_bgr[:nose_y - 2])  # eyes, forehead, background above
    changed = np.abs(out.astype(int) - astronaut_bgr.astype(int)).max(axis=2) > 8
    ys, xs = np.nonzero(changed)
    iod = float(np.linalg.norm(face[263, :2] - face[33, :2]))
    assert ys.max() < chin_y + 0.5 * iod  # not past the ring below the chin
    assert face[234, 0] - 0.5 * iod < xs.min() and xs.max() < face[454, 0] + 0.5 * iod


def test_the_jaw_line_moves_less_towards_the_ears(face: np.ndarray) -> None:
    lips_px = face[list(LIPS), :2] + (0.0, 10.0)
    indices, moved = jaw.moved_points(face, LIPS, lips_px)
    shift = dict(zip(indices.tolist(), (moved - face[indices, :2])[:, 1], strict=True))
    assert shift[17] == pytest.approx(10.0)
    assert shift[152] == pytest.approx(8.0)
    assert shift[152] > shift[148] > shift[172] > shift[234] == pytest.approx(0.0)


def test_lips_that_stay_put_leave_the_frame_alone(astronaut_bgr: np.ndarray, face: np.ndarray) -> None:
    assert jaw.follow(astronaut_bgr, face, LIPS, face[list(LIPS), :2] + 0.2) is astronaut_bgr
