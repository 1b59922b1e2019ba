"""The speaker's mouth in a slot's frames, re-animated to the slot's new line (models from swapengine.lipsync).

The per-template model is trained at template analysis (`ensure_mouth_model`); a render only loads it,
predicts the lip shapes for the new line and warps the celebrity's own mouth patches onto those frames.
Frames outside the slots are never touched, and the first and last frames of a slot ease between the
real and the new mouth, so the cut in and out does not jump.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from swapengine import lipsync
from swapengine.analysis import TemplateAnalysis
from swapengine.dialogue import SlotAudio
from swapengine.errors import BadInput
from swapengine.mouth import LIPS, MouthRenderer, SlotPlan, to_frame
from swapengine.progress import ProgressCallback

log = logging.getLogger(__name__)
EASE_FRAMES = 4


def has_mouth_model(analysis: TemplateAnalysis, track_id: int) -> bool:
    return (lipsync.model_directory(analysis, track_id) / "model.json").is_file()


def ensure_mouth_model(clip: Path, analysis: TemplateAnalysis, track_id: int,
                       progress: ProgressCallback | None = None) -> lipsync.MouthModel:
    """The track's lip model, trained now (and saved beside the analysis) if it is not there yet."""
    if has_mouth_model(analysis, track_id):
        return lipsync.load_mouth_model(lipsync.model_directory(analysis, track_id))
    return lipsync.train_mouth_model(clip, analysis, track_id, progress=progress)


@dataclass
class SlotMouth:
    """A render's frame hook for one slot: new mouth on frames [start, end), the frame itself elsewhere."""

    renderer: MouthRenderer
    plan: SlotPlan
    start: int
    end: int

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if self.start <= index < self.end:
            return self.renderer.render(frame, index, self.plan)
        return frame

    def moved_lips(self, index: int, track_id: int, landmarks: np.ndarray) -> np.ndarray:
        """The track's landmarks with the lips where this slot puts them, so a face swap on the speaker
        follows the new mouth; the landmarks themselves outside the slot or for another track."""
        if track_id != self.renderer.track.id or not self.start <= index < self.end:
            return landmarks
        k = index - self.start
        target = self.plan.targets[k].astype(np.float64)
        placed = to_frame(target, landmarks, self.renderer.reference)
        weight = float(self.plan.weights[k])
        out = np.array(landmarks, copy=True)
        lips = list(LIPS)
        out[lips, :2] = (weight * placed + (1 - weight) * out[lips, :2]).astype(out.dtype)
        return out


def slot_frames(start: float, end: float, fps: float, frame_count: int) -> tuple[int, int]:
    """The video frames whose time lies in [start, end)."""
    first = max(int(np.ceil(start * fps - 1e-6)), 0)
    last = min(int(np.ceil(end * fps - 1e-6)), frame_count)
    return first, max(first, last)


def mouth_hooks(clip: Path, analysis: TemplateAnalysis, slots: list[SlotAudio]) -> list[SlotMouth]:
    """One hook per slot with a speaker; a speaker whose face is too rarely seen to learn keeps their lips."""
    hooks: list[SlotMouth] = []
    renderers: dict[int, MouthRenderer] = {}
    info = analysis.info
    for slot in slots:
        track_id = slot.line.speaker_track
        if track_id is None:
            continue
        try:
            model = ensure_mouth_model(clip, analysis, track_id)
        except BadInput as exc:  # too little footage of this face: the line is said, the lips stay as filmed
            log.warning("no lip model for track %s: %s", track_id, exc)
            continue
        renderer = renderers.get(track_id)
        if renderer is None:
            renderer = renderers[track_id] = MouthRenderer(clip, analysis, track_id)
        start, end = slot_frames(slot.line.start, slot.line.end, info.fps, info.frame_count)
        if end <= start:
            continue
        # The line's audio starts at slot.line.start; the first slot frame may start a little after it.
        offset = int(round((start / info.fps - slot.line.start) * slot.sr))
        shapes = model.predict(slot.samples[max(offset, 0):], slot.sr, end - start)
        plan = renderer.plan(start, shapes, lipsync.ease_weights(end - start, EASE_FRAMES))
        hooks.append(SlotMouth(renderer, plan, start, end))
    return hooks
