"""What a render says: each dialogue slot's line filled with the fan's words, for the engine."""

from __future__ import annotations

from pathlib import Path

from adstudio.catalog.models import PhraseRecording, Template
from adstudio.renders.models import Render
from swapengine import BadInput, DialogueRequest, SlotLine, Stems


def dialogue_request(
    template: Template, render: Render, slot_audio: Path | None = None
) -> DialogueRequest | None:
    """Each slot's filled line, a phrase-bank take when one matches the whole line, the stems, and the
    celebrity's voice-bank recordings (the usable ones, while the licence runs) for the voice to learn from."""
    slots = list(template.slots.all())
    if not slots:
        return None
    if slot_audio is not None and len(slots) != 1:
        raise BadInput(f"This ad has {len(slots)} dialogue slots; a recording can replace only a single slot.",
                       "slot_audio_ambiguous")
    try:
        values = template.fill(render.name, render.fields or {})
    except ValueError:
        raise BadInput("Some of the words this ad needs are missing. Please fill in the form again.",
                       "fields_missing") from None
    lines = []
    for slot in slots:
        text = slot.text(values)
        recording = slot_audio
        if recording is None and (phrase := PhraseRecording.objects.matching(template, text)) is not None:
            recording = Path(phrase.audio.path)
        lines.append(SlotLine(slot.start, slot.end, text, slot.speaker_track, recording))
    stems = None
    if template.dialogue_stem and template.music_stem:
        stems = Stems(Path(template.dialogue_stem.path), Path(template.music_stem.path))
    bank = template.voice_bank.recording_paths() if template.voice_bank else ()
    return DialogueRequest(lines, stems, voice_bank=bank)
