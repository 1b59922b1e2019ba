"""What a render asks the engine to say: filled lines, phrase-bank takes, the admin's recording, stems."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from adstudio.catalog.models import DialogueSlot, PhraseRecording
from adstudio.renders.dialogue import dialogue_request
from adstudio.renders.models import Render
from swapengine.errors import BadInput
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_lines_are_filled_and_a_whole_match_uses_the_phrase_bank() -> None:
    template = make_template()
    DialogueSlot.objects.create(template=template, start=2.0, end=3.0, line="{name}", speaker_track=0)
    DialogueSlot.objects.create(template=template, start=0.5, end=1.5, line="Happy Diwali, {name}!")
    take = PhraseRecording(text="Zoë", audio=ContentFile(b"RIFF", name="zoe.wav"))
    take.save()
    request = dialogue_request(template, Render(template=template, name="ZOE"))
    assert request is not None and request.stems is None
    first, second = request.lines
    assert (first.start, first.text, first.recording) == (0.5, "Happy Diwali, ZOE!", None)  # not a whole match
    assert (second.text, second.speaker_track) == ("ZOE", 0)
    assert second.recording == Path(take.audio.path)


def test_no_slots_no_dialogue() -> None:
    template = make_template()
    assert dialogue_request(template, Render(template=template, name="Asha")) is None


def test_slot_audio_needs_a_single_slot_and_fields_must_be_there(tmp_path: Path) -> None:
    template = make_template()
    DialogueSlot.objects.create(template=template, start=0.5, end=1.5, line="Order from {shop}")
    with pytest.raises(BadInput) as missing:
        dialogue_request(template, Render(template=template, name="Asha"))
    assert missing.value.code == "fields_missing"
    render = Render(template=template, fields={"shop": "Sharma"})
    request = dialogue_request(template, render, slot_audio=tmp_path / "take.wav")
    assert request is not None and request.lines[0].recording == tmp_path / "take.wav"
    DialogueSlot.objects.create(template=template, start=2.0, end=3.0, line="{shop}!")
    with pytest.raises(BadInput) as two:
        dialogue_request(template, render, slot_audio=tmp_path / "take.wav")
    assert two.value.code == "slot_audio_ambiguous"


def test_both_stems_are_used() -> None:
    template = make_template()
    DialogueSlot.objects.create(template=template, start=0.5, end=1.5, line="{name}")
    template.dialogue_stem.save("d.wav", ContentFile(b"RIFF"), save=False)
    template.save()
    assert dialogue_request(template, Render(template=template, name="Asha")).stems is None  # one is not enough
    template.music_stem.save("m.wav", ContentFile(b"RIFF"), save=False)
    template.save()
    stems = dialogue_request(template, Render(template=template, name="Asha")).stems
    assert stems is not None and stems.dialogue.name.startswith("d") and stems.music.name.startswith("m")
