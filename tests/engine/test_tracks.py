"""Face tracks: detections linked by overlap across gaps, noise dropped, landmarks interpolated."""

from __future__ import annotations

import numpy as np

from swapengine.faces import Face
from swapengine.tracks import build_tracks


def face(x: float, y: float, size: float) -> Face:
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0] = x + np.linspace(0, size, 478)
    lm[:, 1] = y + np.linspace(0, size, 478)
    return Face(lm, (x, y, x + size, y + size), 1.0)


def scene(n: int = 60) -> list[list[Face]]:
    frames: list[list[Face]] = []
    for i in range(n):
        faces = [face(100 + i, 50, 80)]  # the lead, moving right, present throughout except a gap
        if 20 <= i < 23:
            faces = []
        if i >= 10:
            faces.append(face(400, 60 + i * 0.5, 50))  # a second person from frame 10
        if i in (30, 31):
            faces.append(face(250, 300, 30))  # a two-frame false detection
        frames.append(faces)
    return frames


def test_two_people_and_noise() -> None:
    tracks = build_tracks(scene(), max_gap=5)
    assert len(tracks) == 2
    lead, second = tracks
    assert (lead.id, lead.start, lead.end, len(lead.frames)) == (0, 0, 59, 57)
    assert (second.start, second.end, len(second.frames)) == (10, 59, 50)
    assert lead.landmarks.shape == (57, 478, 3) and lead.landmarks.dtype == np.float32
    assert lead.boxes.shape == (57, 4) and lead.frames.dtype == np.int32


def test_long_gap_splits_the_track() -> None:
    tracks = build_tracks(scene(), max_gap=2)
    starts = sorted((t.start, t.end) for t in tracks)
    assert (0, 19) in starts and (23, 59) in starts


def test_landmarks_interpolated_over_a_short_gap() -> None:
    lead = build_tracks(scene(), max_gap=5)[0]
    before, after = lead.landmarks_at(19), lead.landmarks_at(23)
    middle = lead.landmarks_at(21)
    assert before is not None and after is not None and middle is not None
    np.testing.assert_allclose(middle, (before + after) / 2, atol=1e-4)
    assert lead.landmarks_at(60) is None and lead.landmarks_at(-1) is None


def test_gap_longer_than_allowed_has_no_landmarks() -> None:
    frames = [[face(100, 100, 80)] if i < 10 or i > 30 else [] for i in range(40)]
    tracks = build_tracks(frames, max_gap=30)
    assert len(tracks) == 1 and tracks[0].landmarks_at(20) is not None
    tracks[0].max_gap = 5
    assert tracks[0].landmarks_at(20) is None


def test_no_faces_no_tracks() -> None:
    assert build_tracks([[] for _ in range(30)]) == []
