"""Per-frame detections grouped into face tracks, so a fan can pick one person for a whole clip.

Two steps. `link` joins detections frame to frame by box overlap into fragments, never across a scene
cut and never over more than max_gap missing frames. `merge` then joins fragments of the same person
(after a cut, or when they leave and come back) by face embedding, when the caller has embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from swapengine.faces.detect import Face

MIN_IOU = 0.3
MIN_TRACK_FRAMES = 5
MIN_TRACK_SHARE = 0.05
SAME_PERSON_IN_CLIP = 0.5
"""dlib distance under which two fragments of one clip are one person (stricter than dlib's 0.6: the
lighting and camera are shared, and a wrong merge swaps a second person)."""


@dataclass
class FaceTrack:
    id: int
    frames: np.ndarray
    landmarks: np.ndarray
    boxes: np.ndarray
    max_gap: int = 5
    pose: np.ndarray | None = None
    """(n, 3) yaw, pitch, roll in degrees (pose.py), or None for analyses made before it existed."""
    occlusion: np.ndarray | None = None
    """(n,) share of the face's skin points that do not look like this face's skin (hand, mic, hair)."""
    segment_starts: np.ndarray | None = None
    """Rows where a new fragment starts (after a cut or a re-entry): never interpolated across."""
    detections: np.ndarray | None = field(default=None, repr=False)
    """(n,) index of each row's face in its frame's detection list; only while analysing."""

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    def spans(self) -> list[tuple[int, int]]:
        """(first, last) frame of every fragment: where this person is on screen."""
        starts = [0, *(int(s) for s in (self.segment_starts if self.segment_starts is not None else []))]
        ends = [*(s - 1 for s in starts[1:]), len(self.frames) - 1]
        return [(int(self.frames[a]), int(self.frames[b])) for a, b in zip(starts, ends, strict=True)]

    def landmarks_at(self, frame_index: int) -> np.ndarray | None:
        """The track's landmarks, linearly interpolated inside a gap of up to max_gap missing frames
        within one fragment."""
        if frame_index < self.start or frame_index > self.end:
            return None
        i = int(np.searchsorted(self.frames, frame_index))
        if self.frames[i] == frame_index:
            return self.landmarks[i]
        f0, f1 = int(self.frames[i - 1]), int(self.frames[i])
        if f1 - f0 - 1 > self.max_gap:
            return None
        if self.segment_starts is not None and i in self.segment_starts:
            return None
        t = np.float32((frame_index - f0) / (f1 - f0))
        return (self.landmarks[i - 1] * (1 - t) + self.landmarks[i] * t).astype(np.float32)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Fragment:
    """Detections linked by overlap: one person, one uninterrupted stretch of one shot."""

    frames: list[int]
    faces: list[Face]
    detections: list[int]

    @property
    def last_box(self) -> np.ndarray:
        return np.asarray(self.faces[-1].box, dtype=np.float32)


def link(per_frame: Sequence[Sequence[Face]], max_gap: int = 5, cuts: Sequence[int] = ()) -> list[Fragment]:
    """Greedy IoU linking, best overlaps first; a fragment survives a gap of up to max_gap frames but
    ends at a scene cut (the next shot's face at the same place is not evidence of the same person)."""
    cut_set = {int(c) for c in cuts}
    live: list[Fragment] = []
    done: list[Fragment] = []
    for index, faces in enumerate(per_frame):
        if index in cut_set:
            done.extend(live)
            live = []
        still: list[Fragment] = []
        for t in live:
            (still if index - t.frames[-1] - 1 <= max_gap else done).append(t)
        live = still
        pairs = sorted(
            ((_iou(t.last_box, np.asarray(f.box, np.float32)), ti, fi)
             for ti, t in enumerate(live) for fi, f in enumerate(faces)),
            reverse=True,
        )
        used_t: set[int] = set()
        used_f: set[int] = set()
        for iou, ti, fi in pairs:
            if iou < MIN_IOU or ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            live[ti].frames.append(index)
            live[ti].faces.append(faces[fi])
            live[ti].detections.append(fi)
        live.extend(Fragment([index], [f], [fi]) for fi, f in enumerate(faces) if fi not in used_f)
    done.extend(live)
    return sorted(done, key=lambda t: t.frames[0])


def merge_groups(fragments: Sequence[Fragment], embeddings: Sequence[np.ndarray | None]) -> list[list[int]]:
    """Indices of fragments grouped by person: closest pairs first, never two fragments that share a
    frame (two faces on screen at once are two people)."""
    group = list(range(len(fragments)))
    members: dict[int, set[int]] = {i: {i} for i in group}
    frames: dict[int, set[int]] = {i: set(f.frames) for i, f in enumerate(fragments)}
    pairs = sorted(
        (float(np.linalg.norm(embeddings[i] - embeddings[j])), i, j)  # type: ignore[operator]
        for i in range(len(fragments)) for j in range(i + 1, len(fragments))
        if embeddings[i] is not None and embeddings[j] is not None
    )
    for dist, i, j in pairs:
        gi, gj = group[i], group[j]
        if dist >= SAME_PERSON_IN_CLIP or gi == gj or frames[gi] & frames[gj]:
            continue
        for k in members[gj]:
            group[k] = gi
        members[gi] |= members.pop(gj)
        frames[gi] |= frames.pop(gj)
    return [sorted(m) for m in sorted(members.values(), key=min)]


def merge(fragments: Sequence[Fragment], n_frames: int, embeddings: Sequence[np.ndarray | None] | None = None,
          max_gap: int = 5) -> list[FaceTrack]:
    """Fragments joined by person (when embeddings are given), noise dropped, biggest screen time first.

    Tracks shorter than MIN_TRACK_FRAMES or MIN_TRACK_SHARE of the clip are detector noise (an audience
    face for two frames, a false hit on a pattern) and are dropped.
    """
    groups = merge_groups(fragments, embeddings) if embeddings is not None else [[i] for i in range(len(fragments))]
    min_len = max(MIN_TRACK_FRAMES, int(MIN_TRACK_SHARE * n_frames))
    built = []
    for g in groups:
        parts = sorted((fragments[i] for i in g), key=lambda f: f.frames[0])
        frames = [x for p in parts for x in p.frames]
        if len(frames) < min_len:
            continue
        faces = [x for p in parts for x in p.faces]
        starts = np.cumsum([len(p.frames) for p in parts])[:-1].astype(np.int32)
        built.append((frames, faces, [x for p in parts for x in p.detections], starts))
    built.sort(key=lambda b: (len(b[0]), float(np.mean([f.width for f in b[1]]))), reverse=True)
    return [
        FaceTrack(
            id=n,
            frames=np.asarray(frames, dtype=np.int32),
            landmarks=np.stack([f.landmarks for f in faces]).astype(np.float32),
            boxes=np.asarray([f.box for f in faces], dtype=np.float32),
            max_gap=max_gap,
            segment_starts=starts,
            detections=np.asarray(dets, dtype=np.int32),
        )
        for n, (frames, faces, dets, starts) in enumerate(built)
    ]


def build_tracks(per_frame: Sequence[Sequence[Face]], max_gap: int = 5, cuts: Sequence[int] = (),
                 embeddings: Sequence[np.ndarray | None] | None = None) -> list[FaceTrack]:
    """link() then merge(); `embeddings`, when given, holds one entry per fragment of link()'s output."""
    return merge(link(per_frame, max_gap, cuts), len(per_frame), embeddings, max_gap)


CUT_MIN_DIFF = 18.0
CUT_JUMP = 3.0


class CutDetector:
    """Scene cuts from a 32x18 colour thumbnail: a cut is a frame-to-frame change both large in absolute
    terms and several times the recent typical change (so a pan or a flash of motion is not a cut)."""

    def __init__(self, history: int = 12) -> None:
        self._prev: np.ndarray | None = None
        self._recent: list[float] = []
        self._history = history

    def is_cut(self, frame: np.ndarray) -> bool:
        import cv2

        small = cv2.resize(frame[::4, ::4], (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
        prev, self._prev = self._prev, small
        if prev is None:
            return False
        diff = float(np.abs(small - prev).mean())
        typical = float(np.median(self._recent)) if self._recent else 0.0
        self._recent = [*self._recent[-(self._history - 1):], diff]
        return diff > CUT_MIN_DIFF and diff > CUT_JUMP * max(typical, 2.0)
