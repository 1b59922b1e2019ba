"""A render of a template linked to a voice bank: the renders app hands the bank to the real engine, which
then has enough of the celebrity's speech to convert the line frame by frame (the render's notes say so)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from adstudio.catalog import jobs
from adstudio.catalog.management.commands.add_template import add_template
from adstudio.catalog.models import DialogueSlot, VoiceBank, VoiceRecording
from adstudio.renders import jobs as render_jobs
from adstudio.renders.models import Render

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
READING = ("The quick brown fox jumps over the lazy dog. Happy Diwali to you and your family, from all of us. "
           "Please buy a bar of chocolate today, and share it with someone you love. Thank you for watching, "
           "and remember: every good day begins with a warm cup of tea and a kind word for a neighbour. "
           "My brother bought six yellow umbrellas at the market, but the shopkeeper only had change for five. "
           "Join us this weekend for music, food and fireworks by the river; bring your whole family along.")


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ENGINE_CACHE_DIR = tmp_path / "media" / "analysis"
    settings.RENDER_WORK_DIR = tmp_path / "media" / "work"
    return tmp_path / "media"


def render_notes(template_pk: int) -> tuple[str, list[str]]:
    render = Render.objects.create(template_id=template_pk, name="Asha", owner_session="s" * 32,
                                   consent_at=timezone.now())
    claimed = Render.objects.claim(render.pk, "test")
    assert claimed is not None
    done = render_jobs.run_render(claimed)
    return done.state, list(done.notes)


def test_the_bank_reaches_the_engine_and_makes_a_frame_level_conversion(speech_clip: Path, tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): no speech for the bank")
    template = add_template(speech_clip, "Diwali voice")
    template.swap_face = False
    template.save()
    DialogueSlot.objects.create(template=template, start=1.2, end=2.4, line="{name}", speaker_track=0)
    jobs.run_analysis(template)
    assert template.is_ready, template.analysis_error

    state, without = render_notes(template.pk)
    assert state == "done" and any("pitch and average voice colour only" in n for n in without), without

    wav = tmp_path / "reading.wav"
    subprocess.run([espeak, "-s", "140", "-w", str(wav), READING], check=True, capture_output=True, timeout=60)
    bank = VoiceBank.objects.create(celebrity="Asha Rao", licence="Contract AR-2026-7")
    recording = VoiceRecording(bank=bank, original_name="reading.wav", size=wav.stat().st_size)
    with wav.open("rb") as fh:
        recording.audio.save("reading.wav", File(fh), save=False)
    recording.save()
    assert recording.claim()
    recording = jobs.run_voice_analysis(recording)
    assert recording.state == VoiceRecording.State.DONE and recording.report["usable"], recording.error
    assert recording.report["speech_s"] > 20
    template.voice_bank = bank
    template.save()

    state, notes = render_notes(template.pk)
    assert state == "done", notes
    assert any("frame by frame towards the celebrity's own speech (kNN" in n for n in notes), notes
