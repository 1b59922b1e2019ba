"""Per-frame detections grouped into face tracks, so a fan can pick one person for a whole clip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swapengine.faces import Face

MIN_IOU = 0.3
MIN_TRACK_FRAMES = 5
MIN_TRACK_SHARE = 0.05


@dataclass
class FaceTrack:
    id: int
    frames: np.ndarray
    landmarks: np.ndarray
    boxes: np.ndarray
    max_gap: int = 5

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    def landmarks_at(self, frame_index: int) -> np.ndarray | None:
        """The track's landmarks, linearly interpolated inside a gap of up to max_gap missing frames."""
        if frame_index < self.start or frame_index > self.end:
            return None
        i = int(np.searchsorted(self.frames, frame_index))
        if self.frames[i] == frame_index:
            return self.landmarks[i]
        f0, f1 = int(self.frames[i - 1]), int(self.frames[i])
        if f1 - f0 - 1 > self.max_gap:
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
class _Open:
    frames: list[int]
    faces: list[Face]

    @property
    def last_box(self) -> np.ndarray:
        return np.asarray(self.faces[-1].box, dtype=np.float32)


def build_tracks(per_frame: list[list[Face]], max_gap: int = 5) -> list[FaceTrack]:
    """Greedy IoU linking, best overlaps first; a track survives a gap of up to max_gap frames.

    Tracks shorter than MIN_TRACK_FRAMES or MIN_TRACK_SHARE of the clip are detector noise (an audience
    face for two frames, a false hit on a pattern) and are dropped.
    """
    live: list[_Open] = []
    done: list[_Open] = []
    for index, faces in enumerate(per_frame):
        still: list[_Open] = []
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
        live.extend(_Open([index], [f]) for fi, f in enumerate(faces) if fi not in used_f)
    done.extend(live)
    min_len = max(MIN_TRACK_FRAMES, int(MIN_TRACK_SHARE * len(per_frame)))
    kept = [t for t in done if len(t.frames) >= min_len]

    kept.sort(key=lambda t: (len(t.frames), float(np.mean([f.width for f in t.faces]))), reverse=True)
    return [
        FaceTrack(
            id=n,
            frames=np.asarray(t.frames, dtype=np.int32),
            landmarks=np.stack([f.landmarks for f in t.faces]).astype(np.float32),
            boxes=np.asarray([f.box for f in t.faces], dtype=np.float32),
            max_gap=max_gap,
        )
        for n, t in enumerate(kept)
    ]
