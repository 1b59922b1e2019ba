"""Hostile inputs through the real fan form, the admin and the CLI: each is refused (or made harmless) with
a clear message, nothing is stored, and a normal request succeeds straight after."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.security import hostile
from tests.security.conftest import image_bytes, random_ip
from tests.web.factories import analysed_template, make_template
from tests.web.selfies import face_bytes

pytestmark = pytest.mark.django_db

NOT_PHOTO = "could not read this file as a photo"
DAMAGED = "damaged or incomplete"
PIXELS = "too many pixels"
MARKUP = "not a photo. Please choose a JPEG, PNG or WebP"
VIDEO = "This is a video"


def post_selfie(client: Client, template: Template, data: bytes, filename: str = "me.jpg", **fields: object):
    payload: dict[str, object] = {"name": "Asha", "consent": "on", **fields}
    payload["selfie"] = SimpleUploadedFile(filename, data, content_type="image/jpeg")
    return client.post(reverse("ads:personalise", args=[template.slug]), payload)


def assert_healthy(template: Template) -> None:
    """The service still works: the catalog loads and a normal selfie makes a render."""
    client = Client(REMOTE_ADDR=random_ip())
    assert client.get(reverse("ads:catalog")).status_code == 200
    before = Render.objects.count()
    assert post_selfie(client, template, face_bytes()).status_code == 302
    assert Render.objects.count() == before + 1


@pytest.fixture
def template(media: Path) -> Template:
    return make_template()


SELFIES = {
    # id: (builder, expected message)
    "zero-bytes": (lambda: b"", "This photo file is empty"),
    "one-byte-soi": (lambda: b"\xff\xd8", NOT_PHOTO),
    "corrupt-jpeg": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random.Random(5).randbytes(4000), NOT_PHOTO),
    "garbled-jpeg-scan": (lambda: hostile.garble(image_bytes("JPEG", (300, 200))), DAMAGED),
    "truncated-png": (lambda: image_bytes("PNG", (300, 200))[:120], DAMAGED),
    "truncated-webp": (lambda: image_bytes("WEBP", (300, 200))[:60], DAMAGED),
    "decompression-bomb": (lambda: hostile.png_of_zeros(65_000, 65_000, bit_depth=1, colour=0), PIXELS),
    "100-megapixels": (lambda: hostile.png_of_zeros(10_000, 10_000), PIXELS),
    "heic-header-only": (lambda: hostile.iso_header(b"heic"), NOT_PHOTO),  # real HEICs: test_selfie_formats.py
    "avif": (lambda: hostile.iso_header(b"avif"), "AVIF photos are not supported"),
    "svg-with-script": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>',
        MARKUP,
    ),
    "svg-xml-prolog-bom": (lambda: b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg><script>x()</script></svg>', MARKUP),
    "html-page": (lambda: b"  <!doctype html><html><script>fetch('/admin/')</script></html>", MARKUP),
    "php-script": (lambda: b"<?php system($_GET['c']); ?>", MARKUP),
    "polyglot-jpeg-zip": (lambda: image_bytes() + hostile.zip_bytes(), "another file hidden inside it"),
    "huge-exif": (lambda: hostile.jpeg_with_exif(20), "unusually large amount of hidden data"),
    "huge-png-text": (lambda: hostile.png_with_text(1_200_000), "unusually large amount of hidden data"),
    "video-mp4-as-selfie": (None, VIDEO),  # the carphone clip, filled in below
    "video-mkv-as-selfie": (lambda: b"\x1a\x45\xdf\xa3" + b"\x00" * 500, "video or animation"),
    "video-avi-as-selfie": (lambda: b"RIFF\x00\x10\x00\x00AVI LIST" + b"\x00" * 500, "video or animation"),
    "tiff": (lambda: image_bytes("TIFF"), NOT_PHOTO),
    "bmp": (lambda: image_bytes("BMP"), NOT_PHOTO),
    "pdf": (lambda: b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF", NOT_PHOTO),
    "elf-executable": (lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 200, NOT_PHOTO),
}


@pytest.mark.parametrize("case", list(SELFIES))
def test_hostile_selfies_are_refused(fan: Client, template: Template, media: Path, case: str, carphone_clip) -> None:
    build, message = SELFIES[case]
    data = carphone_clip.read_bytes() if build is None else build()
    response = post_selfie(fan, template, data, filename="selfie.jpg")
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html
    assert message in html, html[html.find('role="alert"'):][:800]
    assert Render.objects.count() == 0
    assert not (media / "selfies").exists() or not any((media / "selfies").iterdir())
    assert_healthy(template)


TRICK_NAMES = {
    "path-traversal": "../../../../etc/passwd.jpg",
    "windows-traversal": "..\\..\\..\\windows\\win.ini.jpg",
    "absolute-path": "/etc/cron.d/evil.jpg",
    "rtl-override": "selfie\u202egpj.php",
    "double-extension": "shell.php.jpg",
    "very-long": "a" * 5000 + ".jpg",
}


@pytest.mark.parametrize("case", list(TRICK_NAMES))
def test_file_name_tricks_are_ignored(fan: Client, template: Template, media: Path, case: str) -> None:
    """The fan's file name is never used: the selfie lands under a random name inside selfies/."""
    assert post_selfie(fan, template, face_bytes(), filename=TRICK_NAMES[case]).status_code == 302
    stored = Path(Render.objects.get().selfie.path)
    assert stored.parent == media / "selfies"
    assert len(stored.stem) == 32 and all(c in "0123456789abcdef" for c in stored.stem) and stored.suffix == ".jpg"
    assert sorted(p.relative_to(media).parts[0] for p in media.rglob("*") if p.is_file()) == ["selfies", "templates"]
    assert_healthy(template)


NAMES = {
    "rtl-override": ("Asha\u202eahsA", "invisible or control characters"),
    "zero-width-joiner": ("As\u200dha", "invisible or control characters"),
    "homoglyph-cyrillic-a": ("\u0410sha", "different alphabets"),
    "homoglyph-greek-rho": ("\u03a1aul", "different alphabets"),
    "oversized-name": ("A" * 10_000, "40 characters or fewer"),
    "null-byte": ("Asha\x00", "Null characters are not allowed"),
}


@pytest.mark.parametrize("case", list(NAMES))
def test_hostile_names_are_refused(fan: Client, template: Template, case: str) -> None:
    name, message = NAMES[case]
    response = post_selfie(fan, template, face_bytes(), name=name)
    html = response.content.decode()
    assert response.status_code == 200 and message in html, html[html.find('role="alert"'):][:600]
    assert Render.objects.count() == 0
    assert_healthy(template)


def test_oversized_field_is_a_clear_400(fan: Client, template: Template) -> None:
    response = post_selfie(fan, template, image_bytes(), name="A" * (3 * 1024 * 1024))
    assert response.status_code == 400
    assert "too large or not in a form we accept" in response.content.decode()
    assert_healthy(template)


def test_too_many_fields_is_a_clear_400(fan: Client, template: Template) -> None:
    data = {f"f{i}": "x" for i in range(1500)}
    response = fan.post(reverse("ads:personalise", args=[template.slug]), data)
    assert response.status_code == 400 and "too large or not in a form we accept" in response.content.decode()
    assert_healthy(template)


def test_oversized_upload_is_refused_before_it_is_read(fan: Client, template: Template, settings) -> None:
    settings.SELFIE_MAX_BYTES = 200_000
    response = post_selfie(fan, template, image_bytes() + b"\x00" * 2_000_000)
    assert response.status_code == 413
    assert "The limit for photos is 195.3 KB" in response.content.decode()
    assert Render.objects.count() == 0
    assert_healthy(template)


ADMIN_CLIPS = {
    "image-as-template": (lambda: image_bytes("JPEG", (320, 240)), "not a video we can use"),
    "svg-as-template": (lambda: b"<svg><script>alert(1)</script></svg>", "not a video we can use"),
    "zip-as-template": (hostile.zip_bytes, "not a video we can use"),
    "heic-as-template": (lambda: hostile.iso_header(b"heic"), "could not"),
}


@pytest.mark.parametrize("case", list(ADMIN_CLIPS))
def test_hostile_template_clips_are_refused(admin_client, template: Template, case: str) -> None:
    build, message = ADMIN_CLIPS[case]
    data = {"title": "Evil", "slug": "", "label_corner": "bottom-right", "fan_track": "", "_save": "Save",
            "clip": SimpleUploadedFile("../../evil.mp4", build(), content_type="video/mp4")}
    response = admin_client.post(reverse("admin:catalog_template_add"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Template.objects.filter(title="Evil").exists()
    assert_healthy(template)


def test_admin_poster_that_is_a_web_page_is_refused(admin_client, template: Template) -> None:
    url = reverse("admin:catalog_template_change", args=[template.pk])
    data = {"title": template.title, "slug": template.slug, "label_corner": "bottom-right", "fan_track": "0",
            "published": "on", "poster": SimpleUploadedFile("p.jpg", b"<html><script>x()</script></html>")}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and MARKUP in response.content.decode()
    assert_healthy(template)


def test_admin_oversized_title_is_refused(admin_client, template: Template, carphone_clip: Path) -> None:
    data = {"title": "T" * 10_000, "slug": "", "label_corner": "bottom-right", "fan_track": "", "_save": "Save",
            "clip": SimpleUploadedFile("c.mp4", carphone_clip.read_bytes(), content_type="video/mp4")}
    response = admin_client.post(reverse("admin:catalog_template_add"), data)
    assert response.status_code == 200 and "at most 120 characters" in response.content.decode()
    assert_healthy(template)


def test_admin_clip_name_is_never_used(admin_client, template: Template, carphone_clip: Path, media: Path,
                                       django_capture_on_commit_callbacks) -> None:
    data = {"title": "Sneaky", "slug": "", "label_corner": "bottom-right", "fan_track": "", "_save": "Save",
            "clip": SimpleUploadedFile("../../../etc/x\u202e4pm.sh", carphone_clip.read_bytes())}
    with django_capture_on_commit_callbacks(execute=False):
        assert admin_client.post(reverse("admin:catalog_template_add"), data).status_code == 302
    clip = Path(Template.objects.get(title="Sneaky").clip.path)
    assert clip.parent == media / "templates" and clip.suffix == ".mp4" and len(clip.stem) == 16
    assert_healthy(template)


@pytest.fixture
def ready_template(media: Path, talking_clip: Path, settings, tmp_path_factory) -> Template:
    template = analysed_template(talking_clip, "Car phone")
    return template


def cli(*args: str) -> tuple[int, str]:
    try:
        call_command(*args)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, ""


@pytest.mark.slow
def test_cli_refuses_hostile_selfies_and_names(ready_template: Template, tmp_path: Path, carphone_clip: Path) -> None:
    empty, bomb, svg = tmp_path / "empty.jpg", tmp_path / "bomb.png", tmp_path / "x.svg"
    empty.write_bytes(b"")
    bomb.write_bytes(hostile.png_of_zeros(65_000, 65_000, bit_depth=1, colour=0))
    svg.write_bytes(b"<svg><script>alert(1)</script></svg>")
    out = str(tmp_path / "ad.mp4")
    cases = [
        (["--selfie", str(empty)], "empty"),
        (["--selfie", str(bomb)], "too many pixels"),
        (["--selfie", str(svg)], "not a photo"),
        (["--selfie", str(carphone_clip)], "not a photo"),
        (["--selfie", str(tmp_path)], "no such file"),
        (["--selfie", str(empty), "--name", "Asha\u202e"], "control characters"),
    ]
    for extra, message in cases:
        code, text = cli("render", ready_template.slug, "--out", out, *extra)
        assert code == 2 and message in text, (extra, code, text)
    assert not Path(out).exists()
    assert not any(r.selfie for r in Render.objects.all())  # every refused selfie was erased
    assert_healthy(ready_template)


def test_cli_refuses_an_image_as_template(media: Path, tmp_path: Path, template: Template) -> None:
    picture = tmp_path / "poster.mp4"
    picture.write_bytes(image_bytes("JPEG", (320, 240)))
    code, text = cli("add_template", str(picture), "--title", "Not a clip")
    assert code == 2 and "still picture, not a video" in text, text
    assert not Template.objects.filter(title="Not a clip").exists()
    assert_healthy(template)
