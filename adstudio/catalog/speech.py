"""What a template's analysis learns for its dialogue slots: speech on the timeline, speakers, lip models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from adstudio.catalog.models import DialogueSlot, Template
from swapengine import (
    BadInput,
    EngineError,
    ProgressCallback,
    TemplateAnalysis,
    default_speaker,
    ensure_mouth_bank,
    ensure_mouth_model,
    load_audio,
    music_under_slot,
    speech_regions,
    waveform_peaks,
)

log = logging.getLogger(__name__)

PEAKS = 600  # waveform columns stored for the admin's timeline
ANALYSIS_SR = 16000


def speech_summary(clip: Path) -> dict[str, Any]:
    """Speech regions and waveform peaks of the clip's sound, for the admin to place slots by eye."""
    try:
        samples = load_audio(clip, ANALYSIS_SR)
    except BadInput:
        return {"regions": [], "peaks": [], "duration": 0.0}
    regions = speech_regions(samples, ANALYSIS_SR)
    return {
        "regions": [[round(a, 2), round(b, 2)] for a, b in regions],
        "peaks": [round(p, 3) for p in waveform_peaks(samples, PEAKS)],
        "duration": round(len(samples) / ANALYSIS_SR, 3),
    }


def assign_speakers(template: Template, analysis: TemplateAnalysis) -> list[DialogueSlot]:
    """Slots without a speaker get the face whose mouth moves most in their span (saved on the slot)."""
    slots = list(template.slots.all())
    known = {t.id for t in analysis.tracks}
    for slot in slots:
        if slot.speaker_track is None or slot.speaker_track not in known:
            slot.speaker_track = default_speaker(analysis, slot.start, slot.end)
            slot.save(update_fields=["speaker_track"])
    return slots


def music_warnings(template: Template) -> list[str]:
    """One line per slot whose span has music or effects under it while the template has no stems."""
    if template.dialogue_stem and template.music_stem:
        return []
    slots = list(template.slots.all())
    if not slots or not template.clip:
        return []
    try:
        samples = load_audio(Path(template.clip.path), ANALYSIS_SR)
    except (BadInput, EngineError, OSError, ValueError) as exc:  # a page must not die of a bad clip
        log.info("no music check for template %s: %s", template.pk, exc)
        return []
    return [
        f"Slot {slot.start:.2f}-{slot.end:.2f} s: there seems to be music or other sound under the line. "
        "Without stems it is replaced together with the line; upload a dialogue stem and a music stem."
        for slot in slots
        if music_under_slot(samples, ANALYSIS_SR, slot.start, slot.end)
    ]


def prepare_slots(template: Template, analysis: TemplateAnalysis, ctx: object = None,
                  progress: ProgressCallback | None = None) -> dict[str, str]:
    """At template analysis: each slot's speaker, then each speaker's mouth bank and lip model (built once,
    cached beside the analysis by content hash and engine version). Returns a note per speaker for the admin."""
    slots = assign_speakers(template, analysis)
    notes: dict[str, str] = {}
    for track_id in sorted({s.speaker_track for s in slots if s.speaker_track is not None}):
        ensure_mouth_bank(Path(template.clip.path), analysis, track_id)  # needed with or without a model
        try:
            ensure_mouth_model(Path(template.clip.path), analysis, track_id, progress)
            notes[str(track_id)] = "lip model ready"
        except BadInput as exc:  # the line is still replaced; this face's lips stay as filmed
            notes[str(track_id)] = f"no lip model: {exc.user_message}"
    return notes
