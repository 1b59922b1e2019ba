"""The personalise form: a checked selfie, a clean name and consent make exactly one queued render."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template
from tests.web.selfies import FACE_SIZE, face_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A flat picture: a valid file with no face (for the file checks, which come before the face's)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 150, 120)).save(buffer, fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: the classic decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(
        b"IEND", b""
    )


def post(client, template: Template, data: bytes | None = None, filename: str = "me.jpg", **fields: object):
    payload: dict[str, object] = {"name": "Asha", "consent": "on", **fields}
    if data is not None:
        payload["selfie"] = SimpleUploadedFile(filename, data, content_type="image/jpeg")
    return client.post(reverse("ads:personalise", args=[template.slug]), payload)


def test_form_page_has_accessible_fields(client) -> None:
    template = make_template()
    html = client.get(reverse("ads:personalise", args=[template.slug])).content.decode()
    assert 'accept="image/*"' in html and 'capture="user"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "This is my face, or I have the person&#x27;s permission to use it" in html
    assert '<label for="id_name">' in html and '<label for="id_selfie">' in html
    assert 'maxlength="40"' in html


@pytest.mark.parametrize("fmt,ext", [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")])
def test_valid_post_creates_and_enqueues_one_render(
    client, django_capture_on_commit_callbacks, fmt: str, ext: str
) -> None:
    template = make_template()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, template, face_bytes(fmt), filename="../etc/My Photo.gif", name="  Asha  ")
    render = Render.objects.get()
    assert response.status_code == 302 and response["Location"] == render.get_absolute_url()
    assert len(callbacks) == 1  # render_ad.delay, after commit; not run here (no engine in view tests)
    assert render.name == "Asha" and render.state == "queued" and render.consent_at is not None
    assert render.owner_session == client.session.session_key
    stored = Path(render.selfie.path)
    assert stored.suffix == ext and "Photo" not in stored.name and stored.parent.name == "selfies"
    with Image.open(stored) as kept:  # re-encoded without metadata (tests/security), same picture
        assert kept.format == fmt and kept.size == FACE_SIZE


def test_session_cookie_is_set_for_a_fresh_visitor(client) -> None:
    response = post(client, make_template(), face_bytes())
    assert "sessionid" in response.cookies
    assert Render.objects.get().owner_session == response.cookies["sessionid"].value


def assert_refused(response, message: str, name: str = "Asha") -> None:
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html, html
    assert 'role="alert"' in html
    assert Render.objects.count() == 0


@pytest.mark.parametrize(
    "data,message",
    [
        (b"this is not a picture at all", "could not read this file as a photo"),
        (image_bytes("GIF"), "could not read this file as a photo"),
        (image_bytes("JPEG", (400, 300))[:700], "damaged or incomplete"),
        (png_claiming(30000, 30000), "too many pixels"),
        (png_claiming(7000, 7000), "too many pixels"),  # under Pillow's own alarm, over ours (40 MP)
        (b"", "This photo file is empty"),
    ],
    ids=["not-image", "gif", "truncated-jpeg", "bomb", "over-pixel-limit", "empty"],
)
def test_bad_selfies_are_refused_by_content(client, data: bytes, message: str) -> None:
    response = post(client, make_template(), data)
    assert_refused(response, message)
    assert 'value="Asha"' in response.content.decode()  # what the fan typed is kept
    assert "please choose your selfie again" in response.content.decode()


def test_oversize_selfie_is_refused(client, settings) -> None:
    settings.SELFIE_MAX_BYTES = 1000
    assert_refused(post(client, make_template(), image_bytes("PNG", (400, 400)) + b"\x00" * 2000), "too big")


def test_missing_selfie(client) -> None:
    assert_refused(post(client, make_template(), None), "Please choose or take a selfie.")


def test_consent_is_required_and_the_name_kept(client) -> None:
    template = make_template()
    response = client.post(
        reverse("ads:personalise", args=[template.slug]),
        {"name": "Ravi", "selfie": SimpleUploadedFile("a.jpg", face_bytes())},
    )
    assert_refused(response, "Please confirm this is your face")
    assert 'value="Ravi"' in response.content.decode()


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "Please type a name."),
        ("    ", "Please type a name."),
        ("A" * 41, "40 characters or fewer"),
        ("As\x07ha", "control characters"),
        ("Asha\u200b", "control characters"),
    ],
    ids=["empty", "blank", "too-long", "bell", "zero-width"],
)
def test_bad_names_are_refused(client, name: str, message: str) -> None:
    assert_refused(post(client, make_template(), face_bytes(), name=name), message)


def test_too_many_active_renders_per_session(client, settings) -> None:
    settings.MAX_ACTIVE_RENDERS_PER_SESSION = 2
    template = make_template()
    for _ in range(2):
        assert post(client, template, face_bytes()).status_code == 302
    response = post(client, template, face_bytes())
    assert "You already have 2 ads being made" in response.content.decode()
    assert Render.objects.count() == 2
    # A finished render frees a slot.
    Render.objects.filter(pk=Render.objects.first().pk).update(state=Render.State.DONE)
    assert post(client, template, face_bytes()).status_code == 302


def test_other_sessions_renders_do_not_count(client, settings) -> None:
    settings.MAX_ACTIVE_RENDERS_PER_SESSION = 1
    template = make_template()
    make_render(template, session="someone-else")
    assert post(client, template, face_bytes()).status_code == 302


@pytest.mark.parametrize("change", ["unpublished", "pending", "no-track", "unknown"])
def test_unavailable_templates_are_404(client, change: str) -> None:
    template = make_template()
    slug = template.slug
    if change == "unpublished":
        Template.objects.filter(pk=template.pk).update(published=False)
    elif change == "pending":
        Template.objects.filter(pk=template.pk).update(analysis_status=Template.Analysis.PENDING)
    elif change == "no-track":
        Template.objects.filter(pk=template.pk).update(fan_track=None)
    else:
        slug = "no-such-ad"
    url = reverse("ads:personalise", args=[slug])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Asha", "consent": "on"}).status_code == 404
