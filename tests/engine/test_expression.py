"""Expression transfer: the template's expression plays at full amplitude on the fan's proportions, and the
selfie's own expression does not leak into the output. Synthetic tracks built from a real face mesh."""

from __future__ import annotations

import numpy as np
import pytest

from swapengine.faces.detect import FaceAnalyzer, SelfieFace, analyse_selfie
from swapengine.swap.expression import BROW_POINTS, RestOffset, rest_shape
from swapengine.swap.swapper import FaceSwapper
from swapengine.swap.warp import N_MESH

BROWS = list(BROW_POINTS)
NOSE = [1, 4, 5, 195, 197, 6]


@pytest.fixture(scope="module")
def selfie(astronaut_bgr: np.ndarray) -> SelfieFace:
    analyzer = FaceAnalyzer()
    try:
        return analyse_selfie(astronaut_bgr, analyzer)
    finally:
        analyzer.close()


def _up(mesh: np.ndarray) -> np.ndarray:
    """Unit vector from the mesh's chin towards its brow centre (image 'up' of the face)."""
    v = mesh[168, :2] - mesh[152, :2]
    return np.array([*(v / np.linalg.norm(v)), 0.0])


def _pose(mesh: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return scale * mesh @ rot.T + np.array([*shift, 0.0])


def _raise_brows(mesh: np.ndarray, d: float) -> np.ndarray:
    out = mesh.copy()
    out[BROWS] += d * _up(mesh)
    return out


def _track(person: np.ndarray, lift: float, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A talking head that turns a little and moves; its brows rise by `lift` on every third frame."""
    rng = np.random.default_rng(3)
    raised = np.arange(n) % 3 == 0
    frames = [
        _pose(_raise_brows(person, lift) if up else person, rng.normal(0, 0.05), 1 + rng.normal(0, 0.05),
              (rng.normal(0, 5), rng.normal(0, 5)))
        for up in raised
    ]
    return np.stack(frames), raised


def _brow_height(mesh: np.ndarray) -> float:
    """Brows above the eye corners, along the face's up axis, over the eye-corner distance."""
    eyes = mesh[[33, 133, 362, 263], :2].mean(axis=0)
    width = np.linalg.norm(mesh[33, :2] - mesh[263, :2])
    return float((mesh[BROWS, :2].mean(axis=0) - eyes) @ _up(mesh)[:2] / width)


def test_rest_shape_ignores_moves_and_occasional_expression(selfie: SelfieFace) -> None:
    person = selfie.landmarks[:N_MESH].astype(np.float64)
    track, _ = _track(person, lift=0.06 * np.ptp(person[:, 0]))
    rest, stable, aligned = rest_shape(track)
    assert aligned.shape == (len(track), N_MESH, 3)
    assert len(stable) > 100 and not set(stable.tolist()) & set(BROWS)
    assert abs(_brow_height(rest) - _brow_height(person)) < 0.005


def test_template_brow_raise_reaches_the_output_in_full(selfie: SelfieFace) -> None:
    width = np.ptp(selfie.landmarks[:, 0])
    template = selfie.landmarks[:N_MESH].astype(np.float64).copy()
    template[NOSE, 0] += 0.05 * width  # another person: a different nose
    lift = 0.06 * width
    track, raised = _track(template, lift)
    frame_up, frame_rest = track[np.argmax(raised)], track[np.argmin(raised)]
    rise_template = _brow_height(frame_up) - _brow_height(frame_rest)

    swapper = FaceSwapper(selfie)
    old_rise = _brow_height(swapper.reshape(frame_up)) - _brow_height(swapper.reshape(frame_rest))
    swapper.start_track(track)
    new_rise = _brow_height(swapper.reshape(frame_up)) - _brow_height(swapper.reshape(frame_rest))
    assert abs(new_rise / rise_template - 1) < 0.1
    assert old_rise < 0.5 * rise_template  # the selfie's still brows damped the performance before


def test_selfie_raised_brows_do_not_leak_but_its_shape_does(selfie: SelfieFace) -> None:
    width = np.ptp(selfie.landmarks[:, 0])
    template = selfie.landmarks[:N_MESH].astype(np.float64)
    track, raised = _track(template, lift=0.06 * width)
    fan = template.copy()
    fan[NOSE, 0] += 0.04 * width  # the fan's own nose
    surprised = _raise_brows(fan, 0.08 * width)
    at_rest = track[np.argmin(raised)]

    out = RestOffset(surprised, track, neutralise=1.0).fan_shape(at_rest)
    half = RestOffset(surprised, track, neutralise=0.5).fan_shape(at_rest)
    assert abs(_brow_height(out) - _brow_height(at_rest)) < 0.1 * 0.08 * width / np.linalg.norm(
        template[33, :2] - template[263, :2])
    leaked = RestOffset(surprised, track, neutralise=0.0).fan_shape(at_rest)
    assert _brow_height(leaked) - _brow_height(at_rest) > 0.05
    halfway = (_brow_height(half) - _brow_height(at_rest)) / (_brow_height(leaked) - _brow_height(at_rest))
    assert halfway == pytest.approx(0.5, abs=0.1)
    scale = np.linalg.norm(at_rest[33, :2] - at_rest[263, :2]) / np.linalg.norm(template[33, :2] - template[263, :2])
    nose_shift = (out[NOSE, :2] - at_rest[NOSE, :2]).mean(axis=0)
    assert np.linalg.norm(nose_shift) == pytest.approx(0.04 * width * scale, rel=0.25)


def test_empty_track_keeps_the_selfie_mesh(selfie: SelfieFace) -> None:
    swapper = FaceSwapper(selfie)
    target = _pose(selfie.landmarks[:N_MESH].astype(np.float64), 0.1, 0.8, (20.0, 10.0))
    before = swapper.reshape(target)
    swapper.start_track(np.zeros((0, N_MESH, 3)))
    swapper.reset()
    assert np.allclose(swapper.reshape(target), before)
