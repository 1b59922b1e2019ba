"""The speaker's mouth in a slot's frames, re-animated to the slot's new line.

Three drivers, chosen per slot: the celebrity's own recording drives the per-template lip model
(swapengine.lips.lipsync, trained at template analysis by `ensure_mouth_model`); a synthesised line with
phoneme timings (Piper) is articulated from them (swapengine.lips.visemes); a line without timings (espeak-ng)
opens the mouth with its loudness (`loudness_shapes`), and says so in the log. Either way the celebrity's
own mouth patches are warped onto the slot's frames. Frames outside the slots are never touched, and the
first and last frames of a slot ease between the real and the new mouth, so the cut does not jump.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from swapengine.errors import BadInput
from swapengine.faces.analysis import TemplateAnalysis
from swapengine.lips import jaw, lipsync, visemes
from swapengine.lips.mouth import LIPS, MouthRenderer, SlotPlan, opening, to_frame
from swapengine.progress import ProgressCallback
from swapengine.voice import audiofeat
from swapengine.voice.slots import SlotAudio

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


def ensure_mouth_bank(clip: Path, analysis: TemplateAnalysis, track_id: int) -> MouthRenderer:
    """The track's mouth bank, decoded now (and saved beside the analysis) if it is not there yet, so a
    render only maps it (swapengine.lips.mouthbank)."""
    return MouthRenderer(clip, analysis, track_id)


@dataclass
class SlotMouth:
    """A render's frame hook for one slot: new mouth on frames [start, end), the frame itself elsewhere."""

    renderer: MouthRenderer
    plan: SlotPlan
    start: int
    end: int
    driver: str = "loudness"  # what moved the lips: "lip model", "phonemes" or "loudness"
    slot: SlotAudio | None = None

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if self.start <= index < self.end:
            return self.renderer.render(frame, index, self.plan)
        return frame

    def moved_lips(self, index: int, track_id: int, landmarks: np.ndarray) -> np.ndarray:
        """The track's landmarks with the lips and jaw line where this slot puts them, so a face swap on the
        speaker follows the new mouth; the landmarks themselves outside the slot or for another track."""
        if track_id != self.renderer.track.id or not self.start <= index < self.end:
            return landmarks
        k = index - self.start
        target = self.plan.targets[k].astype(np.float64)
        placed = to_frame(target, landmarks, self.renderer.reference)
        weight = float(self.plan.weights[k])
        out = np.array(landmarks, copy=True)
        lips_px = weight * placed + (1 - weight) * out[list(LIPS), :2]
        indices, moved = jaw.moved_points(landmarks, LIPS, lips_px)  # the chin goes where render() puts it
        out[indices, :2] = moved.astype(out.dtype)
        return out


def slot_frames(start: float, end: float, fps: float, frame_count: int) -> tuple[int, int]:
    """The video frames whose time lies in [start, end)."""
    first = max(int(np.ceil(start * fps - 1e-6)), 0)
    last = min(int(np.ceil(end * fps - 1e-6)), frame_count)
    return first, max(first, last)


def loudness_shapes(samples: np.ndarray, sr: int, fps: float, n: int, bank: np.ndarray,
                    quiet_db: float = 35.0) -> np.ndarray:
    """(n, 40, d) lip shapes from the track's own bank that open as the line gets louder.

    Each frame's loudness rank within the line is mapped onto the same quantile of the track's own
    mouth openings (silence: a nearly closed mouth); the three bank shapes nearest that opening are
    averaged. The fallback for a synthesised line without phoneme timings (espeak-ng), on which the
    learned model (trained on the celebrity's own voice) measured no better than the filmed mouth.
    """
    envelope = audiofeat.smooth_envelope_db(samples, sr, fps, n)
    openings = opening(bank)
    loud = envelope > envelope.max() - quiet_db
    rank = np.zeros(n)
    if loud.sum() > 1:
        order = np.argsort(np.argsort(envelope[loud]))
        rank[loud] = 0.15 + 0.8 * order / (loud.sum() - 1)
    targets = np.quantile(openings, rank)
    nearest = np.argsort(np.abs(openings[None, :] - targets[:, None]), axis=1)[:, :3]
    return bank[nearest].mean(axis=1).astype(np.float32)


def slot_shapes(clip: Path, analysis: TemplateAnalysis, slot: SlotAudio, renderer: MouthRenderer,
                start: int, n: int) -> tuple[np.ndarray, str]:
    """The slot's `n` lip shapes from its first frame `start`, and the driver that made them."""
    fps = analysis.info.fps
    # The line's audio starts at slot.line.start; the first slot frame may start a little after it.
    offset_s = start / fps - slot.line.start
    samples = slot.samples[max(int(round(offset_s * slot.sr)), 0):]
    track_id = renderer.track.id
    if slot.phonemes:
        shapes = visemes.viseme_shapes(slot.phonemes, samples, slot.sr, fps, n, renderer.shapes, offset_s)
        return shapes, "phonemes" if slot.source == "voice" else "aligned phonemes"
    if slot.source == "recording":
        try:
            model = ensure_mouth_model(clip, analysis, track_id)
            return model.predict(samples, slot.sr, n), "lip model"
        except BadInput as exc:  # too little footage of this face to learn from
            log.warning("no lip model for track %s, the mouth follows loudness: %s", track_id, exc)
    else:
        log.info("slot at %.2f s: the voice gave no phoneme timings, the mouth follows loudness", slot.line.start)
    return loudness_shapes(samples, slot.sr, fps, n, renderer.shapes), "loudness"


def mouth_hooks(clip: Path, analysis: TemplateAnalysis, slots: list[SlotAudio]) -> list[SlotMouth]:
    """One hook per slot with a speaker (see the module's docstring for which driver moves the lips)."""
    hooks: list[SlotMouth] = []
    renderers: dict[int, MouthRenderer] = {}
    info = analysis.info
    for slot in slots:
        track_id = slot.line.speaker_track
        if track_id is None:
            continue
        renderer = renderers.get(track_id)
        if renderer is None:
            renderer = renderers[track_id] = MouthRenderer(clip, analysis, track_id)
        start, end = slot_frames(slot.line.start, slot.line.end, info.fps, info.frame_count)
        if end <= start:
            continue
        shapes, driver = slot_shapes(clip, analysis, slot, renderer, start, end - start)
        plan = renderer.plan(start, shapes, lipsync.ease_weights(end - start, EASE_FRAMES))
        hooks.append(SlotMouth(renderer, plan, start, end, driver, slot))
    return hooks
