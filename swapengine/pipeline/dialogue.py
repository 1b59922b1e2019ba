"""A render's dialogue: every slot's new line in the soundtrack (swapengine.voice.slots) and the
speaker's mouth moved to it in the slot frames (swapengine.lips.slotmouth).

This is the one module that needs both voice and lips, so it sits in the pipeline layer above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from swapengine.faces.analysis import TemplateAnalysis
from swapengine.voice.slots import CONVERSIONS, KNN_MIN_SECONDS, SlotAudio, SlotLine, Stems, build_soundtrack
from swapengine.voice.tts import Voice


@dataclass(frozen=True)
class DialogueRequest:
    """The optional dialogue part of a render: the slots' lines, and the stems when the template has them."""

    lines: list[SlotLine]
    stems: Stems | None = None
    lips: bool = True  # re-animate each speaker's mouth in the slot frames (swapengine.lips.slotmouth)
    # Extra licensed recordings of the celebrity (any audio ffmpeg reads): conversion material beside the
    # template's own speech outside the slots (swapengine.voice.knnvc). Check each with assess_voice_recording.
    voice_bank: tuple[Path, ...] = ()


LIP_DRIVERS = {
    "lip model": "from the lip model learnt on the celebrity's footage",
    "phonemes": "articulated from the voice's phoneme timings",
    "aligned phonemes": "articulated from phoneme timings aligned to the recording",
    "loudness": "following the line's loudness (fallback: no phoneme timings or no lip model)",
}


class FrameHook(Protocol):
    """A slot's mouth: the frame re-animated (or itself), and the landmarks with its new lips."""

    slot: SlotAudio | None  # the line it moves the lips to
    driver: str  # a key of LIP_DRIVERS

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray: ...

    def moved_lips(self, index: int, track_id: int, landmarks: np.ndarray) -> np.ndarray: ...


@dataclass
class PreparedDialogue:
    """A render's new soundtrack (a WAV beside the output) and the frame hook for the slots' mouths."""

    audio_path: Path
    slots: list[SlotAudio]
    poster_frame: int
    mouths: list[FrameHook]

    def apply(self, index: int, frame: np.ndarray) -> np.ndarray:
        for hook in self.mouths:
            frame = hook(index, frame)
        return frame

    def landmarks(self, index: int, track_id: int, landmarks: np.ndarray) -> np.ndarray:
        """A face track's landmarks with a speaking slot's new lips (for a swap on the speaker)."""
        for hook in self.mouths:
            landmarks = hook.moved_lips(index, track_id, landmarks)
        return landmarks

    def notes(self) -> list[str]:
        """Per slot, what said the line and what moved the lips: an admin sees when a fallback was used."""
        out = []
        for slot in self.slots:
            hook = next((h for h in self.mouths if h.slot is slot), None)
            lips = LIP_DRIVERS.get(hook.driver, hook.driver) if hook is not None else "as filmed"
            said = slot.voice or slot.source
            note = f"Slot {slot.line.start:.2f}-{slot.line.end:.2f} s: said by {said}; lips {lips}."
            if slot.conversion:
                note += " Voice " + CONVERSIONS.get(slot.conversion, slot.conversion).format(
                    material=slot.material_s, need=KNN_MIN_SECONDS) + "."
            out.append(note)
        return out

    def close(self) -> None:
        self.audio_path.unlink(missing_ok=True)


def prepare_dialogue(
    request: DialogueRequest, clip: Path, analysis: TemplateAnalysis, out_wav: Path,
    english: Voice | None = None,
) -> PreparedDialogue:
    """Make every slot's line and the new soundtrack before the first frame is decoded."""
    slots = build_soundtrack(clip, analysis, request.lines, out_wav, stems=request.stems, english=english,
                             voice_bank=request.voice_bank)
    first = slots[0].line
    middle = int((first.start + first.end) / 2 * analysis.info.fps)
    mouths: list[FrameHook] = []
    if request.lips:
        from swapengine.lips.slotmouth import mouth_hooks  # torch is imported only when lips are wanted

        try:
            mouths.extend(mouth_hooks(clip, analysis, slots))
        except BaseException:
            out_wav.unlink(missing_ok=True)
            raise
    return PreparedDialogue(out_wav, slots, min(middle, analysis.info.frame_count - 1), mouths)
