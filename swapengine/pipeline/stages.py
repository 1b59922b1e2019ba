"""The render's frame loop as a list of stages, all called the same way.

A stage takes a batch (the frames' indices in the clip and the frames, in order) and returns the frames
to pass on, changed in place or new. Batches exist for the swap, which runs a whole batch in one torch
call on a GPU worker; every other step works one frame at a time, `(index, frame) -> frame`, and
`EachFrame` lifts it into a stage. Order matters and is the render's: mouths, swap, label, watermark,
then the poster and preview stills are taken.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from swapengine.faces.tracks import FaceTrack
from swapengine.media.frames import encode_jpeg
from swapengine.pipeline.dialogue import PreparedDialogue
from swapengine.swap.swapper import FaceSwapper

FrameStep = Callable[[int, np.ndarray], np.ndarray]


class FrameStage(Protocol):
    def __call__(self, indices: Sequence[int], frames: list[np.ndarray]) -> list[np.ndarray]: ...


class EachFrame:
    """A per-frame step as a stage."""

    def __init__(self, step: FrameStep) -> None:
        self.step = step

    def __call__(self, indices: Sequence[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        return [self.step(index, frame) for index, frame in zip(indices, frames, strict=True)]


class SwapStage:
    """The fan's face on the track's frames; with dialogue, on the lips the slot moved (the fan speaks)."""

    def __init__(self, swapper: FaceSwapper, track: FaceTrack, spoken: PreparedDialogue | None) -> None:
        self.swapper, self.track, self.spoken = swapper, track, spoken
        swapper.start_track(track.landmarks)  # the template person's rest shape: expression plays on top

    def landmarks(self, index: int) -> np.ndarray | None:
        landmarks = self.track.landmarks_at(index)
        if landmarks is not None and self.spoken is not None:
            landmarks = self.spoken.landmarks(index, self.track.id, landmarks)
        return landmarks

    def covers(self, index: int) -> bool:
        return self.track.landmarks_at(index) is not None

    def __call__(self, indices: Sequence[int], frames: list[np.ndarray]) -> list[np.ndarray]:
        marks = [self.landmarks(index) for index in indices]
        if not any(mark is not None for mark in marks):
            return frames
        return self.swapper.apply_batch(frames, marks)


class KeepPoster:
    """A copy of the finished frame `index` (the ring buffer and the encoder reuse the original)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.frame: np.ndarray | None = None

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if index == self.index:
            self.frame = frame.copy()
        return frame


def write_still(frame: np.ndarray, path: Path) -> None:
    """A JPEG that readers see whole or not at all (written aside, then renamed)."""
    part = path.with_name(path.name + ".part.jpg")
    encode_jpeg(frame, part)
    os.replace(part, path)


class Preview:
    """The first finished frame that `shows` (the fan's face, when there is a swap), as a still, once."""

    def __init__(self, path: Path, shows: Callable[[int], bool]) -> None:
        self.path, self.shows = path, shows
        self.done = False

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if not self.done and self.shows(index):
            write_still(frame, self.path)
            self.done = True
        return frame
