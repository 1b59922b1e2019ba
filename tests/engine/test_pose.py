"""Head pose: known rotations of a real face's 3D mesh, projected through a camera, are recovered."""

from __future__ import annotations

import numpy as np
import pytest

from swapengine.faces import pose
from swapengine.faces.detect import FaceAnalyzer


@pytest.fixture(scope="module")
def reference(astronaut_bgr: np.ndarray) -> np.ndarray:
    analyzer = FaceAnalyzer()
    try:
        lm = analyzer.detect_image(astronaut_bgr)[0].landmarks
    finally:
        analyzer.close()
    return pose.reference_shape(lm[None])


def project(reference: np.ndarray, yaw: float, pitch: float, roll: float, w: int = 1280, h: int = 720) -> np.ndarray:
    """The reference face turned by the given angles, 2.5 m-ish in front of the camera, seen in pixels."""
    pts = reference * 60.0 @ pose.rotation(yaw, pitch, roll).T + np.array([30.0, -20.0, 900.0])
    k = pose.camera_matrix(w, h)
    uv = (pts @ k.T)[:, :2] / pts[:, 2:3]
    depth = (pts[:, 2:3] - 900.0) * k[0, 0] / 900.0  # like the mesh's z: relative depth in pixels
    return np.concatenate([uv, depth], axis=1).astype(np.float32)


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(0, 0, 0), (30, 0, 0), (-25, 10, 0), (0, -15, 12), (40, 5, -8)])
def test_known_rotation_recovered(reference: np.ndarray, yaw: float, pitch: float, roll: float) -> None:
    seen = project(reference, yaw, pitch, roll)
    got = pose.head_pose(seen[None], 1280, 720, reference)[0]
    np.testing.assert_allclose(got, [yaw, pitch, roll], atol=1.0)


def test_reference_from_frontal_frames(reference: np.ndarray) -> None:
    """Built from a sequence, the reference comes from its frontal frames, so a turn reads as a turn."""
    frames = np.stack([project(reference, yaw, 0, 0) for yaw in (35, 0, 2, -1, 30, 40)])
    order = np.argsort(pose.frontality(frames))
    assert set(order[:3].tolist()) == {1, 2, 3}
    angles = pose.head_pose(frames, 1280, 720)
    assert abs(angles[1, 0]) < 3 and angles[5, 0] == pytest.approx(40, abs=4)
    assert angles[0, 0] == pytest.approx(35, abs=4)


def test_euler_round_trip() -> None:
    for angles in [(10.0, -20.0, 5.0), (-45.0, 30.0, -60.0)]:
        np.testing.assert_allclose(pose.euler_degrees(pose.rotation(*angles)), angles, atol=1e-4)
