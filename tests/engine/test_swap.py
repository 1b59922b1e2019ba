"""Face swap: the output face is the fan's (dlib identity), the template's mouth and surroundings stay."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from swapengine import media
from swapengine.faces import FACE_OVAL, FaceAnalyzer, SelfieFace, analyse_selfie
from swapengine.identity import FaceIdentity
from swapengine.swap import INNER_MOUTH, FaceSwapper

SAMPLE_EVERY = 12


@pytest.fixture(scope="module")
def selfie(astronaut_bgr: np.ndarray) -> SelfieFace:
    analyzer = FaceAnalyzer()
    try:
        return analyse_selfie(astronaut_bgr, analyzer)
    finally:
        analyzer.close()


@pytest.fixture(scope="module")
def samples(talking_clip: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frame, landmarks) for every SAMPLE_EVERY-th frame, tracked as a render would."""
    info = media.probe(talking_clip)
    out = []
    analyzer = FaceAnalyzer()
    with media.FrameReader(talking_clip, info) as reader, analyzer.video_session(max_faces=1) as session:
        for index, frame in enumerate(reader):
            faces = session.process(frame)
            if faces and index % SAMPLE_EVERY == 3:
                out.append((frame.copy(), faces[0].landmarks))
    assert len(out) >= 9
    return out


def polygon(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[:, :2]).astype(np.int32)], (255,))
    return mask


def test_swapped_face_is_the_fans(selfie: SelfieFace, samples: list[tuple[np.ndarray, np.ndarray]]) -> None:
    swapper = FaceSwapper(selfie)
    identity = FaceIdentity()
    fan = identity.embedding(selfie.image)
    assert fan is not None
    wins, measured = 0, 0
    for frame, landmarks in samples:
        original = identity.embedding(frame)
        swapped = identity.embedding(swapper.apply(frame, landmarks))
        if original is None or swapped is None:
            continue
        measured += 1
        wins += identity.distance(swapped, fan) < identity.distance(swapped, original)
    assert measured >= 8
    assert wins >= 0.6 * measured, f"{wins}/{measured}"


def test_mouth_interior_and_outside_untouched(
    selfie: SelfieFace, samples: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    swapper = FaceSwapper(selfie)
    changed_inside = []
    for frame, landmarks in samples:
        before = frame.copy()
        out = swapper.apply(frame, landmarks)
        assert np.array_equal(frame, before)  # the input frame is not modified
        diff = np.abs(out.astype(int) - frame.astype(int)).max(axis=2)
        oval = cv2.dilate(polygon(frame.shape, landmarks[list(FACE_OVAL)]), np.ones((3, 3), np.uint8))
        assert diff[oval == 0].max() == 0
        mouth = cv2.erode(polygon(frame.shape, landmarks[list(INNER_MOUTH)]), np.ones((3, 3), np.uint8))
        if mouth.any():
            assert diff[mouth > 0].max() == 0
        changed_inside.append(float((diff[oval > 0] > 8).mean()))
    assert np.mean(changed_inside) > 0.35  # the face did change (the upper forehead is kept on purpose)


def test_frame_without_usable_face_box_is_untouched(selfie: SelfieFace) -> None:
    frame = np.full((200, 200, 3), 90, np.uint8)
    landmarks = np.full((478, 3), 100.0, np.float32)  # degenerate: a face collapsed to a point
    assert np.array_equal(FaceSwapper(selfie).apply(frame, landmarks), frame)


def test_speed_at_template_size(selfie: SelfieFace, samples: list[tuple[np.ndarray, np.ndarray]]) -> None:
    swapper = FaceSwapper(selfie)
    cv2.setNumThreads(1)
    try:
        times = []
        for _ in range(3):
            for frame, landmarks in samples:
                started = time.perf_counter()
                swapper.apply(frame, landmarks)
                times.append(time.perf_counter() - started)
    finally:
        cv2.setNumThreads(-1)
    assert samples[0][0].shape == (432, 528, 3)
    assert 1.0 / float(np.median(times)) >= 25.0
