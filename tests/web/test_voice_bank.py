"""The celebrity's voice bank in the studio: upload, refusals, the engine's report, links, deletion, renders.

Recordings are made here: espeak-ng speech (the engine's own Indic voice, so it is installed wherever the engine
runs) and numpy silence written as WAV. The analysis is the real engine's (swapengine.assess_voice_recording).
"""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from adstudio.catalog.models import DialogueSlot, VoiceBank, VoiceRecording
from adstudio.catalog.tasks import analyse_voice_recording
from adstudio.renders.dialogue import dialogue_request
from adstudio.renders.models import Render
from adstudio.studio.voicereport import minutes
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db
SENTENCES = ("The quick brown fox jumps over the lazy dog. Happy Diwali to you and your family, from all of us. "
             "Please buy a bar of chocolate today, and share it with someone you love.")


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ENGINE_CACHE_DIR = tmp_path / "media" / "analysis"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path / "media"


def wav_bytes(samples: np.ndarray, sr: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sr)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """About 10 s of espeak-ng reading varied English sentences."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): no speech to upload")
    out = tmp_path_factory.mktemp("voice") / "speech.wav"
    subprocess.run([espeak, "-w", str(out), SENTENCES], check=True, capture_output=True, timeout=60)
    return out.read_bytes()


def bank(celebrity: str = "Asha Rao", **fields: object) -> VoiceBank:
    return VoiceBank.objects.create(celebrity=celebrity, licence="Contract AR-2026-7: ads for Diwali 2026.", **fields)


def upload(client, target: VoiceBank, name: str, content: bytes):
    return client.post(reverse("ads:voice_upload", args=[target.pk]),
                       {"audio": SimpleUploadedFile(name, content, content_type="audio/wav")})


def stored_files(media: Path) -> list[Path]:
    folder = media / "voicebanks"
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def analysed(client, target: VoiceBank, content: bytes, name: str, callbacks) -> VoiceRecording:
    """Upload through the studio, then run the task it queued on commit (as the worker would)."""
    with callbacks() as queued:
        response = upload(client, target, name, content)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert len(queued) == 1  # analyse_voice_recording.delay, run below as the worker would
    recording = VoiceRecording.objects.get(original_name=name)
    assert recording.state == VoiceRecording.State.QUEUED
    analyse_voice_recording(recording.pk)
    recording.refresh_from_db()
    return recording


def test_a_bank_is_created_with_its_licence_by_its_author(admin_client, admin_user) -> None:
    page = admin_client.post(reverse("ads:voice_banks"), {"celebrity": "Asha Rao", "licence": ""})
    assert page.status_code == 400 and "This field is required." in page.content.decode()
    response = admin_client.post(reverse("ads:voice_banks"), {
        "celebrity": "Asha Rao", "licence": "Contract AR-2026-7", "licensed_until": "2027-03-31"})
    made = VoiceBank.objects.get()
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    assert (made.created_by, made.licensed_until) == (admin_user, datetime.date(2027, 3, 31))
    assert "Asha Rao" in admin_client.get(reverse("ads:voice_banks")).content.decode()


def test_upload_is_analysed_and_its_report_shown(admin_client, speech_wav, media,
                                                 django_capture_on_commit_callbacks) -> None:
    target = bank()
    recording = analysed(admin_client, target, speech_wav, "asha-interview.wav", django_capture_on_commit_callbacks)
    assert recording.state == VoiceRecording.State.DONE, recording.error
    report = recording.report
    assert 8.0 < report["duration_s"] < 12.0 and recording.duration == pytest.approx(report["duration_s"], abs=1e-3)
    assert 5.0 < report["speech_s"] <= report["duration_s"]
    assert report["usable"] is True and 0 < report["phone_coverage"] < 1
    assert any("speech" in p for p in recording.problems())  # ten seconds is too little for a bank
    assert recording.size == len(speech_wav) and recording.audio.name.startswith("voicebanks/")
    assert "asha" not in recording.audio.name  # stored under a random name, the admin's kept as text
    assert stored_files(media) == [Path(recording.audio.path)]

    page = admin_client.get(target.get_absolute_url()).content.decode()
    assert "asha-interview.wav" in page
    for label in ("Speech", "Noise", "Reverb", "Clipping", "Loudness", "Phoneme coverage"):
        assert f'<th scope="row">{label}</th>' in page, label
    assert minutes(report["speech_s"]) in page
    assert recording.problems()[0] in page
    total = target.totals()
    assert total["recordings"] == 1 and total["speech_s"] == round(report["speech_s"], 2)
    assert any("s of usable speech" in p for p in total["problems"])
    # The task ran once; a second delivery finds nothing to claim and changes nothing.
    assert analyse_voice_recording(recording.pk) == "not claimed"
    assert VoiceRecording.objects.get(pk=recording.pk).report == report


def test_silent_recording_fails_with_the_engines_words(admin_client, django_capture_on_commit_callbacks) -> None:
    target = bank()
    recording = analysed(admin_client, target, wav_bytes(np.zeros(3 * 16000)), "silence.wav",
                         django_capture_on_commit_callbacks)
    assert recording.state == VoiceRecording.State.FAILED
    assert recording.error.startswith("voice_recording_silent") and recording.message
    assert recording.message in admin_client.get(target.get_absolute_url()).content.decode()
    assert target.recording_paths() == ()
    # Analyse again: queued once more (after commit), then failed again for the same reason.
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(reverse("ads:voice_recording_retry", args=[target.pk, recording.pk]))
    assert len(queued) == 1 and VoiceRecording.objects.get().state == VoiceRecording.State.QUEUED


@pytest.mark.parametrize(("name", "content", "words"), [
    ("empty.wav", b"", "This file is empty"),
    ("photo.wav", b"\x89PNG\r\n\x1a\n" + bytes(200), "This is a picture, not a recording"),
    ("contract.wav", b"%PDF-1.7\n" + bytes(200), "This is a document or an archive"),
    ("notes.wav", b"Asha's interview, transcript.\nQ: ...", "This is text, not a recording"),
    ("cut.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40), "could not be decoded"),
    ("noise.bin", bytes(range(128, 256)) * 8, "not a recording we can use"),
])
def test_bad_uploads_are_refused_with_a_reason(admin_client, media, name, content, words) -> None:
    target = bank()
    response = upload(admin_client, target, name, content)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not VoiceRecording.objects.exists() and stored_files(media) == []


def test_too_big_and_missing_files_are_refused(admin_client, settings, media) -> None:
    target = bank()
    settings.VOICE_RECORDING_MAX_BYTES = 1000
    response = upload(admin_client, target, "long.wav", wav_bytes(np.zeros(8000)))
    assert response.status_code == 400 and "the limit is 1000 bytes" in response.content.decode()
    missing = admin_client.post(reverse("ads:voice_upload", args=[target.pk]), {})
    assert missing.status_code == 400 and "Please choose a recording to upload." in missing.content.decode()
    assert not VoiceRecording.objects.exists() and stored_files(media) == []


def test_an_oversized_body_is_refused_before_it_is_read(admin_client, settings) -> None:
    target = bank()
    settings.VOICE_RECORDING_MAX_BYTES = 1000
    response = upload(admin_client, target, "long.wav", wav_bytes(np.zeros(16000 * 40)))  # 1.28 MB > 1 MB slack
    assert response.status_code == 413 and "The limit for voice recordings" in response.content.decode()


def recording_row(target: VoiceBank, name: str, media: Path, state: str = "done", **report: object) -> VoiceRecording:
    row = VoiceRecording(bank=target, original_name=name, state=state, report=report)
    row.audio.save(f"{name}.wav", ContentFile(b"RIFF"), save=False)
    row.save()
    return row


def test_templates_are_linked_one_bank_each(admin_client) -> None:
    first, second = bank("Asha Rao"), bank("Vikram Sen")
    diwali, holi = make_template("Diwali wishes"), make_template("Holi wishes")
    admin_client.post(reverse("ads:voice_bank_templates", args=[first.pk]), {"templates": [diwali.pk, holi.pk]})
    assert set(first.templates.all()) == {diwali, holi}
    admin_client.post(reverse("ads:voice_bank_templates", args=[second.pk]), {"templates": [holi.pk]})
    assert list(first.templates.all()) == [diwali] and list(second.templates.all()) == [holi]
    admin_client.post(reverse("ads:voice_bank_templates", args=[first.pk]), {})
    assert not first.templates.exists()

    response = admin_client.post(reverse("ads:studio_voice", args=[diwali.slug]), {"voice_bank": second.pk})
    assert response.status_code == 302
    diwali.refresh_from_db()
    assert diwali.voice_bank == second
    studio = admin_client.get(reverse("ads:studio", args=[diwali.slug])).content.decode()
    assert "Vikram Sen" in studio and second.get_absolute_url() in studio
    admin_client.post(reverse("ads:studio_voice", args=[diwali.slug]), {"voice_bank": ""})
    diwali.refresh_from_db()
    assert diwali.voice_bank is None


def test_deleting_a_recording_or_the_bank_removes_files_and_unlinks(admin_client, media) -> None:
    target, other = bank(), bank("Vikram Sen")
    kept = recording_row(other, "vikram", media)
    one, two = recording_row(target, "one", media), recording_row(target, "two", media, state="failed")
    template = make_template()
    template.voice_bank = target
    template.save()
    assert len(stored_files(media)) == 3

    admin_client.post(reverse("ads:voice_recording_delete", args=[target.pk, one.pk]))
    assert not VoiceRecording.objects.filter(pk=one.pk).exists() and not Path(one.audio.path).exists()
    # A recording is deleted only through its own bank's URL.
    assert admin_client.post(reverse("ads:voice_recording_delete", args=[target.pk, kept.pk])).status_code == 404

    confirm = admin_client.get(reverse("ads:voice_bank_delete", args=[target.pk])).content.decode()
    assert "Diwali wishes" in confirm and "1 recording" in confirm
    assert VoiceBank.objects.filter(pk=target.pk).exists()  # asking deletes nothing
    admin_client.post(reverse("ads:voice_bank_delete", args=[target.pk]))
    assert not VoiceBank.objects.filter(pk=target.pk).exists() and not Path(two.audio.path).exists()
    template.refresh_from_db()
    assert template.voice_bank is None  # the template stays, unlinked
    assert stored_files(media) == [Path(kept.audio.path)]


def test_the_admin_deletes_banks_with_their_files(admin_client, media) -> None:
    target = bank()
    row = recording_row(target, "one", media)
    page = admin_client.get(reverse("admin:catalog_voicebank_change", args=[target.pk])).content.decode()
    assert "one" in page and target.get_absolute_url() in page
    admin_client.post(reverse("admin:catalog_voicebank_delete", args=[target.pk]), {"post": "yes"})
    assert not VoiceBank.objects.exists() and not Path(row.audio.path).exists()


def test_only_staff_can_use_the_voice_studio(client, media) -> None:
    target = bank()
    row = recording_row(target, "one", media)
    template = make_template()
    User.objects.create_user("fan", password="pw-for-tests-only")
    pages = [
        ("get", reverse("ads:voice_banks")), ("post", reverse("ads:voice_banks")),
        ("get", target.get_absolute_url()), ("get", reverse("ads:voice_bank_status", args=[target.pk])),
        ("post", reverse("ads:voice_upload", args=[target.pk])),
        ("post", reverse("ads:voice_bank_templates", args=[target.pk])),
        ("get", reverse("ads:voice_bank_delete", args=[target.pk])),
        ("post", reverse("ads:voice_bank_delete", args=[target.pk])),
        ("post", reverse("ads:voice_recording_delete", args=[target.pk, row.pk])),
        ("post", reverse("ads:voice_recording_retry", args=[target.pk, row.pk])),
        ("post", reverse("ads:studio_voice", args=[template.slug])),
    ]
    for who in ("stranger", "fan"):
        if who == "fan":
            assert client.login(username="fan", password="pw-for-tests-only")
        for method, url in pages:
            response = getattr(client, method)(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (who, url)
    assert VoiceBank.objects.count() == 1 and Path(row.audio.path).exists()


def test_totals_add_up_the_usable_recordings(media) -> None:
    target = bank()
    common = {"usable": True, "clipped_share": 0.0, "loudness_lufs": -20.0, "reverb_s": 0.2}
    recording_row(target, "a", media, duration_s=70.0, speech_s=60.0, noise_floor_db=40.0, phone_coverage=0.9,
                  phones_missing=["ZH", "OY", "UH", "TH"], **common)
    recording_row(target, "b", media, duration_s=40.0, speech_s=30.0, noise_floor_db=31.0, phone_coverage=0.8,
                  phones_missing=["ZH", "OY", "B", "P", "M", "W", "Y", "CH"], **common)
    recording_row(target, "bad", media, duration_s=50.0, speech_s=1.0, noise_floor_db=5.0, phone_coverage=0.1,
                  phones_missing=[], usable=False)
    recording_row(target, "waiting", media, state="queued", duration_s=99.0, speech_s=99.0, usable=True)
    total = target.totals()
    assert (total["recordings"], total["unusable"], total["duration_s"], total["speech_s"]) == (2, 1, 110.0, 90.0)
    assert total["noise_floor_db"] == 37.0  # (40 * 60 + 31 * 30) / 90: weighted by speech
    assert total["phones_missing"] == ["OY", "ZH"] and total["phone_coverage"] == round(1 - 2 / 40, 4)
    assert any("Only 1.5 minutes of usable speech" in p for p in total["problems"])
    assert any("1 analysed recording(s) are not usable" in p for p in total["problems"])


def test_a_render_gives_the_engine_the_usable_recordings(media) -> None:
    target = bank()
    first = recording_row(target, "first", media, usable=True, speech_s=40.0)
    recording_row(target, "clipped", media, usable=False, speech_s=40.0)
    recording_row(target, "failed", media, state="failed")
    recording_row(target, "waiting", media, state="running")
    second = recording_row(target, "second", media, usable=True, speech_s=20.0)
    template = make_template()
    DialogueSlot.objects.create(template=template, start=0.5, end=1.5, line="Happy Diwali, {name}!")
    render = Render(template=template, name="Asha")

    request = dialogue_request(template, render)
    assert request is not None and request.voice_bank == ()  # no bank linked
    template.voice_bank = target
    template.save()
    request = dialogue_request(template, render)
    assert request is not None and request.voice_bank == (Path(first.audio.path), Path(second.audio.path))
    assert all(path.is_file() for path in request.voice_bank)
    target.licensed_until = datetime.date(2020, 1, 1)
    target.save()
    template.refresh_from_db()
    request = dialogue_request(template, render)
    assert request is not None and request.voice_bank == ()  # the licence has ended
    assert "The licence has ended" in render_bank_page(target)


def render_bank_page(target: VoiceBank) -> str:
    from django.test import Client

    staff = User.objects.create_superuser("boss", password="pw-for-tests-only")
    client = Client()
    client.force_login(staff)
    return client.get(target.get_absolute_url()).content.decode()


def test_a_running_analysis_is_queued_again_only_once_its_worker_is_past_the_limit(admin_client, media,
                                                                                  django_capture_on_commit_callbacks
                                                                                  ) -> None:
    target = bank()
    row = recording_row(target, "one", media, state="running")
    retry = reverse("ads:voice_recording_retry", args=[target.pk, row.pk])
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(retry)
    assert not queued and VoiceRecording.objects.get().state == "running"  # alive: left alone
    VoiceRecording.objects.filter(pk=row.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=2))
    assert "Analyse again" in admin_client.get(target.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(retry)
    assert len(queued) == 1 and VoiceRecording.objects.get().state == "queued"
