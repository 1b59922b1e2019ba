"""Stored images carry no EXIF/GPS: selfies and admin posters are re-encoded, engine posters never had any."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image

from adstudio.catalog import jobs as catalog_jobs
from adstudio.catalog.management.commands.add_template import add_template
from adstudio.catalog.models import Template
from adstudio.renders import jobs
from adstudio.renders.models import Render
from tests.security.conftest import random_ip
from tests.web.factories import make_template
from tests.web.selfies import astronaut

pytestmark = pytest.mark.django_db


def with_gps(picture: Image.Image, fmt: str = "JPEG", orientation: int = 6) -> bytes:
    """A phone-like photo: GPS position, camera make, and an orientation tag saying 'rotate 90'."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (28.0, 36.0, 50.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (77.0, 12.0, 30.0)
    out = io.BytesIO()
    picture.save(out, fmt, exif=exif.tobytes(), comment=b"taken at home") if fmt == "JPEG" else picture.save(
        out, fmt, exif=exif.tobytes()
    )
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:  # the fixture really carries GPS
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def assert_no_metadata(path: Path) -> None:
    data = path.read_bytes()
    with Image.open(path) as image:
        assert not image.getexif(), dict(image.getexif())
        assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
    assert b"Exif" not in data and b"GPS" not in data and b"PhoneCo" not in data and b"taken at home" not in data


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_selfie_is_stored_without_exif_and_upright(media: Path, fmt: str) -> None:
    template = make_template()
    # The astronaut (a face the screen accepts) cropped to 400x512, a red stripe along its top, then
    # stored turned on its side with the tag that turns it back: the screen too must see it upright.
    upright = Image.fromarray(astronaut()[:, 56:456, ::-1])
    upright.paste((250, 0, 0), (0, 0, 400, 6))
    data = with_gps(upright.transpose(Image.Transpose.ROTATE_90), fmt)
    response = Client(REMOTE_ADDR=random_ip()).post(
        reverse("ads:personalise", args=[template.slug]),
        {"name": "Asha", "consent": "on", "selfie": SimpleUploadedFile("gps.jpg", data)},
    )
    assert response.status_code == 302
    stored = Path(Render.objects.get().selfie.path)
    assert_no_metadata(stored)
    with Image.open(stored) as image:
        assert image.format == fmt
        assert image.size == (400, 512)  # orientation 6 applied to the pixels, then the tag dropped
        red, green, _ = image.convert("RGB").getpixel((200, 2))
        assert red > 200 and green < 60  # the stripe is back at the top


def test_admin_poster_is_stored_without_exif(admin_client, media: Path) -> None:
    template = make_template()
    url = reverse("admin:catalog_template_change", args=[template.pk])
    poster = SimpleUploadedFile("p.jpg", with_gps(Image.new("RGB", (60, 40), (1, 2, 3))))
    data = {"title": template.title, "slug": template.slug, "label_corner": "bottom-right", "fan_track": "0",
            "published": "on", "poster": poster}
    assert admin_client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert_no_metadata(Path(template.poster.path))


@pytest.mark.slow
def test_engine_posters_carry_no_exif(media: Path, settings, talking_clip: Path, astronaut_jpg: Path) -> None:
    settings.RENDER_WORK_DIR = media / "work"
    template: Template = add_template(talking_clip, "Car phone")
    catalog_jobs.run_analysis(template)
    template.published = True
    template.save()
    with Image.open(astronaut_jpg) as picture:
        selfie = with_gps(picture.copy(), orientation=1)
    Client(REMOTE_ADDR=random_ip()).post(
        reverse("ads:personalise", args=[template.slug]),
        {"name": "Asha", "consent": "on", "selfie": SimpleUploadedFile("me.jpg", selfie)},
    )
    render = Render.objects.claim(Render.objects.get().pk, "test")
    assert render is not None
    render = jobs.run_render(render)
    assert render.state == Render.State.DONE, render.error
    assert_no_metadata(Path(render.poster.path))
    assert b"\xa9xyz" not in Path(render.video.path).read_bytes()  # no QuickTime location atom either
