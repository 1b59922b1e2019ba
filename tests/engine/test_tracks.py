"""Face tracks: detections linked by overlap across gaps, noise dropped, landmarks interpolated."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from swapengine.faces.detect import Face
from swapengine.faces.tracks import build_tracks, link, merge, merge_groups


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


def test_cut_ends_a_fragment_even_at_the_same_place() -> None:
    frames = [[face(100, 100, 80)] for _ in range(40)]
    fragments = link(frames, max_gap=5, cuts=[20])
    assert [(f.frames[0], f.frames[-1]) for f in fragments] == [(0, 19), (20, 39)]
    assert len(build_tracks(frames, cuts=[20])) == 2


def test_fragments_of_one_person_merge_by_embedding() -> None:
    """A leaves, B (someone else) is on screen, A comes back somewhere else: A's pieces form one track."""
    frames: list[list[Face]] = []
    for i in range(90):
        if i < 30:
            frames.append([face(100, 100, 80)])
        elif i < 60:
            frames.append([face(300, 100, 90)])
        else:
            frames.append([face(500, 120, 80)])
    fragments = link(frames, max_gap=5, cuts=[30, 60])
    assert len(fragments) == 3
    a, b = np.eye(128)[0].astype(np.float32), np.eye(128)[1].astype(np.float32)
    tracks = merge(fragments, 90, [a, b, a + 0.01])
    assert len(tracks) == 2
    lead = tracks[0]
    assert len(lead.frames) == 60 and lead.spans() == [(0, 29), (60, 89)]
    assert lead.segment_starts is not None and lead.segment_starts.tolist() == [30]
    assert lead.landmarks_at(45) is None  # the other person's shot: nothing to swap
    assert tracks[1].spans() == [(30, 59)]


def test_no_merge_when_faces_share_a_frame_or_differ() -> None:
    frames = [[face(100, 100, 80), face(400, 100, 80)] for _ in range(30)]
    fragments = link(frames)
    same = np.ones(128, np.float32)
    assert merge_groups(fragments, [same, same]) == [[0], [1]]  # on screen together: two people
    solo = [[face(100, 100, 80)] if i < 10 or i >= 20 else [] for i in range(30)]
    pieces = link(solo, max_gap=5)
    far = np.eye(128)[:2].astype(np.float32)  # distance 1.41, well over the threshold
    assert len(merge(pieces, 30, list(far))) == 2
    assert len(merge(pieces, 30, None)) == 2
    assert len(merge(pieces, 30, [far[0], None])) == 2


def test_landmarks_not_interpolated_across_a_re_entry() -> None:
    solo = [[face(100, 100, 80)] if i < 10 or i >= 13 else [] for i in range(30)]
    pieces = link(solo, max_gap=1)
    assert len(pieces) == 2
    same = np.ones(128, np.float32)
    (track,) = merge(pieces, 30, [same, same], max_gap=5)
    assert track.landmarks_at(11) is None and track.landmarks_at(13) is not None
    assert build_tracks(solo, max_gap=5)[0].landmarks_at(11) is not None  # one fragment: bridged


def test_cut_detector_on_real_frames(carphone_clip: Path) -> None:
    from swapengine import media
    from swapengine.faces.tracks import CutDetector

    info = media.probe(carphone_clip)
    detector = CutDetector()
    with media.FrameReader(carphone_clip, info) as reader:
        frames = [f.copy() for f, _ in zip(reader, range(40), strict=False)]
    assert not any(detector.is_cut(f) for f in frames)  # a talking man in a moving car: no cut
    assert detector.is_cut(np.ascontiguousarray(frames[0][::-1, ::-1] // 2 + 100))
    assert not detector.is_cut(np.ascontiguousarray(frames[0][::-1, ::-1] // 2 + 100))
