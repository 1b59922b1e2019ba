"""The fan's form runs the engine's selfie analysis and screen itself: a selfie that cannot make an ad is
refused on the form with the engine's one line, before consent counts, with no render row, nothing queued
and no file kept. The same check (adstudio.trust.screening.screen_selfie) serves the CLI and the API."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from adstudio.trust.screening import SelfieRefusal, screen_selfie
from tests.web.factories import make_template
from tests.web.selfies import ACCEPTED, REFUSED, face_bytes, variant_bytes

pytestmark = pytest.mark.django_db

# A fragment of each line the fan reads, from the engine (swapengine.faces.detect and .screening).
LINES = {
    "no_face": "We could not find a face in this photo",
    "several_faces": "There is more than one person in this photo",
    "face_covered": "Something is covering your mouth or nose",
    "face_cut_off": "Part of your face is outside the photo",
    "eyes_hidden": "Your eyes are hidden",
    "not_a_photo": "This looks like a drawing, painting or computer image",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # spooled to a temp file, as a phone photo is
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return tmp_path


def files(root: Path) -> list[str]:
    return sorted(str(Path(folder, name).relative_to(root)) for folder, _, names in os.walk(root) for name in names)


@pytest.fixture
def template() -> Template:
    return make_template()


def post(client, template: Template, data: bytes, consent: bool = True):
    payload = {"name": "Asha", "selfie": SimpleUploadedFile("me.jpg", data, content_type="image/jpeg")}
    if consent:
        payload["consent"] = "on"
    return client.post(reverse("ads:personalise", args=[template.slug]), payload)


def test_every_refusal_has_a_line() -> None:
    assert set(LINES) == set(REFUSED)


@pytest.mark.parametrize("code", list(REFUSED))
def test_bad_selfie_is_refused_on_the_form_with_the_engines_line(
    client, django_capture_on_commit_callbacks, template: Template, tmp_path: Path, code: str
) -> None:
    data = variant_bytes(code)
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(data)
    refusal = screen_selfie(picture)  # the one check the form, the CLI and the API call
    assert refusal is not None and refusal.code == code and LINES[code] in refusal.message, refusal
    picture.unlink()
    before = files(tmp_path)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, template, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<ul class="errors" id="id_selfie_errors"><li>{escape(refusal.message)}</li></ul>' in html, html
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert Render.objects.count() == 0 and callbacks == []
    assert files(tmp_path) == before  # nothing kept: not in media, not as the screen's temp file


def test_the_line_comes_before_consent(client, template: Template) -> None:
    """The fan who has not ticked consent yet is already told what is wrong with the photo."""
    response = post(client, template, variant_bytes("face_covered"), consent=False)
    html = response.content.decode()
    assert LINES["face_covered"] in html and "Please confirm this is your face" in html
    assert Render.objects.count() == 0


@pytest.mark.parametrize("kind", ["astronaut", *ACCEPTED])
def test_real_photos_pass_and_are_queued(
    client, django_capture_on_commit_callbacks, template: Template, media: Path, kind: str
) -> None:
    data = face_bytes() if kind == "astronaut" else variant_bytes(kind)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, template, data)
    render = Render.objects.get()
    assert response.status_code == 302 and response["Location"] == render.get_absolute_url()
    assert len(callbacks) == 1 and render.state == Render.State.QUEUED
    assert [f for f in files(media / "media") if f.startswith("selfies/")] == [render.selfie.name]  # for its render


def test_screen_selfie_reads_the_file_as_the_render_does(tmp_path: Path) -> None:
    """Files that are not photos get the engine's decoding line, so the CLI needs no check of its own."""
    empty, text, good = tmp_path / "empty.jpg", tmp_path / "notes.jpg", tmp_path / "me.jpg"
    empty.write_bytes(b"")
    text.write_text("this is not a photo")
    good.write_bytes(face_bytes())
    assert screen_selfie(empty) == SelfieRefusal("not_image", "This file is empty. Please choose a photo of your face.")
    refused = screen_selfie(text)
    assert refused is not None and refused.code == "not_image"
    assert screen_selfie(good) is None
