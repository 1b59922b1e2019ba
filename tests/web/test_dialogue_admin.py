"""The admin places dialogue slots by eye on the clip's speech, and is warned about music under them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse

from adstudio.catalog import jobs
from adstudio.catalog.models import DialogueSlot, Template
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_CACHE_DIR = tmp_path / "analysis"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


def change_data(template: Template, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": template.title, "slug": template.slug, "label_corner": template.label_corner,
        "fan_track": template.fan_track, "swap_face": "on", "_save": "Save",
        "slots-TOTAL_FORMS": "0", "slots-INITIAL_FORMS": "0",
        "context_tables-TOTAL_FORMS": "0", "context_tables-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def with_clip(template: Template, clip: Path) -> Template:
    with clip.open("rb") as fh:
        template.clip.save("clip.mp4", File(fh), save=False)
    template.save()
    return template


def test_timeline_shows_waveform_speech_and_slots(admin_client) -> None:
    template = make_template()
    template.info = {**template.info, "speech": {"peaks": [0.1, 0.5, 0.9, 0.2] * 25, "duration": 4.0,
                                                 "regions": [[0.5, 1.75], [2.2, 3.6]]}}
    template.save()
    DialogueSlot.objects.create(template=template, start=1.0, end=1.5, line="Hi <b>{name}</b>")
    html = admin_client.get(reverse("admin:catalog_template_change", args=[template.pk])).content.decode()
    assert '<svg class="speech-timeline"' in html and html.count('fill="#555"') == 100
    assert "<title>slot 1.0-1.5 s: Hi &lt;b&gt;{name}&lt;/b&gt;</title>" in html  # escaped
    assert "Speech at 0.50-1.75 s, 2.20-3.60 s" in html
    assert 'name="slots-0-line"' in html  # the inline


def test_music_under_a_slot_is_flagged_without_stems(admin_client, talking_clip: Path) -> None:
    template = with_clip(make_template(), talking_clip)  # a steady tone all along: music-like
    DialogueSlot.objects.create(template=template, start=1.0, end=2.0, line="{name}")
    html = admin_client.get(reverse("admin:catalog_template_change", args=[template.pk])).content.decode()
    assert "Slot 1.00-2.00 s: there seems to be music" in html


def test_adding_a_slot_prepares_it_again(admin_client, django_capture_on_commit_callbacks) -> None:
    template = make_template()
    data = change_data(template, **{"slots-TOTAL_FORMS": "1", "slots-0-start": "1.0", "slots-0-end": "2.0",
                                    "slots-0-line": "Happy Diwali, {name}!", "slots-0-speaker_track": ""})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse("admin:catalog_template_change", args=[template.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert template.slots.get().line == "Happy Diwali, {name}!"
    assert len(callbacks) == 1 and Template.objects.get(pk=template.pk).analysis_status == "pending"


def test_a_bad_slot_line_is_refused_in_the_admin(admin_client) -> None:
    template = make_template()
    data = change_data(template, **{"slots-TOTAL_FORMS": "1", "slots-0-start": "1.0", "slots-0-end": "2.0",
                                    "slots-0-line": "Hi {First Name}", "slots-0-speaker_track": ""})
    response = admin_client.post(reverse("admin:catalog_template_change", args=[template.pk]), data)
    assert response.status_code == 200 and "is not allowed" in response.content.decode()
    assert not template.slots.exists()


def test_dialogue_only_template_can_be_published_without_a_face(admin_client) -> None:
    template = make_template(published=False)
    data = change_data(template, swap_face="", fan_track="", published="on")
    del data["swap_face"]
    response = admin_client.post(reverse("admin:catalog_template_change", args=[template.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    template.refresh_from_db()
    assert template.published and not template.swap_face and template.is_ready


def test_phrase_and_term_admins(admin_client) -> None:
    for app, name in (("catalog", "phraserecording"), ("trust", "sensitiveterm"), ("catalog", "contexttable")):
        assert admin_client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:{app}_{name}_add")).status_code == 200


@pytest.mark.slow
def test_analysis_finds_speech_and_the_speaker(talking_clip: Path, tmp_path: Path) -> None:
    from swapengine.media import ffmpeg_exe
    from swapengine.voice import slots as dialogue
    from swapengine.voice.tts import PiperVoice, resample

    said = PiperVoice().synthesise("Hello there. Happy Diwali!")
    wav = dialogue.write_wav(tmp_path / "s.wav", resample(said.samples, said.sr, 44100)[:, None], 44100)
    clip = tmp_path / "speech.mp4"
    import subprocess

    proc = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(talking_clip), "-i", str(wav),
                           "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(clip)],
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    template = with_clip(Template(title="Speech"), clip)
    DialogueSlot.objects.create(template=template, start=0.5, end=1.5, line="{name}")
    jobs.run_analysis(template)
    template.refresh_from_db()
    assert template.analysis_status == "ready", template.analysis_error
    speech = template.info["speech"]
    assert speech["regions"] and speech["regions"][0][0] < 0.5 and len(speech["peaks"]) == 600
    assert template.slots.get().speaker_track == template.tracks[0]["id"]
    shutil.rmtree(tmp_path / "analysis", ignore_errors=True)


def test_context_table_from_csv(admin_client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from adstudio.catalog.models import ContextTable

    template = make_template()
    upload = SimpleUploadedFile("dishes.csv", b"city,dish\nPune,misal pav\nDelhi, chole bhature\n\n")
    data = {"template": template.pk, "key_field": "city", "target": "dish", "rows": "", "rows_csv": upload}
    response = admin_client.post(reverse("admin:catalog_contexttable_add"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert ContextTable.objects.get().rows == {"Pune": "misal pav", "Delhi": "chole bhature"}
    empty = SimpleUploadedFile("e.csv", b"just one column\n")
    data = {"template": template.pk, "key_field": "city", "target": "dish", "rows": "", "rows_csv": empty}
    response = admin_client.post(reverse("admin:catalog_contexttable_add"), data)
    assert response.status_code == 200 and "No rows found" in response.content.decode()


def test_phrase_recording_must_be_audio(admin_client, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from adstudio.catalog.models import PhraseRecording
    from swapengine.voice.slots import write_wav

    url = reverse("admin:catalog_phraserecording_add")
    bad = SimpleUploadedFile("priya.wav", b"this is not sound")
    response = admin_client.post(url, {"text": "Priya", "audio": bad})
    assert response.status_code == 200 and "not audio we can read" in response.content.decode()
    import numpy as np

    wav = write_wav(tmp_path / "p.wav", np.zeros((8000, 1), np.float32), 16000)
    good = SimpleUploadedFile("priya.wav", wav.read_bytes())
    response = admin_client.post(url, {"text": "Priya", "audio": good})
    assert response.status_code == 302, response.content.decode()[-2000:]
    take = PhraseRecording.objects.get()
    assert take.key == "priya" and take.audio.name.endswith(".wav") and "priya" not in take.audio.name
