"""Phone photo formats through the fan's form: HEIC (the iPhone's default) and 16-bit PNG keep their pictures.

Each file is made here from scikit-image's astronaut; the stored selfie is decoded again and compared with
the original pixels, and the engine must find the face in it.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.test import Client
from PIL import Image
from pillow_heif import register_heif_opener
from skimage import data

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.security.test_hostile_inputs import post_selfie
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db
register_heif_opener()


@pytest.fixture
def template(media: Path) -> Template:
    return make_template()


def heic_bytes(rgb: np.ndarray, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "HEIF", quality=92, **save)
    return buffer.getvalue()


def png16(array16: np.ndarray) -> bytes:
    """A 16-bit PNG (cv2 writes uint16 arrays at 16 bits per sample; BGR order, as cv2 wants)."""
    ok, encoded = cv2.imencode(".png", array16)
    assert ok and encoded.tobytes()[24] == 16  # IHDR bit depth
    return encoded.tobytes()


def stored(fan: Client, template: Template, payload: bytes, filename: str) -> Path:
    response = post_selfie(fan, template, payload, filename=filename)
    assert response.status_code == 302, response.content.decode()[-1500:]
    return Path(Render.objects.get().selfie.path)


def test_heic_selfie_is_accepted_and_stored_as_a_plain_jpeg(fan: Client, template: Template) -> None:
    from swapengine.faces.detect import FaceAnalyzer, analyse_selfie, load_image

    astronaut = data.astronaut()
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x8825] = {1: "N"}  # a GPS block, which must not survive
    path = stored(fan, template, heic_bytes(astronaut, exif=exif.tobytes()), "IMG_0042.HEIC")
    assert path.suffix == ".jpg"
    with Image.open(path) as kept:
        assert kept.format == "JPEG" and kept.size == (512, 512) and not kept.getexif()
        pixels = np.asarray(kept.convert("RGB"), dtype=np.int16)
    assert np.abs(pixels - astronaut).mean() < 4  # two lossy encodes, the same picture
    analyzer = FaceAnalyzer()
    try:
        assert analyse_selfie(load_image(path), analyzer).landmarks.shape[0] >= 468  # the engine finds the face
    finally:
        analyzer.close()


@pytest.mark.parametrize("kind", ["rgb", "rgba", "grey"])
def test_16_bit_png_keeps_its_colours(fan: Client, template: Template, kind: str) -> None:
    """Pillow opens 16-bit greyscale as I;16, which convert("RGB") clipped to white; scaled now."""
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    if kind == "grey":
        eight = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    elif kind == "rgba":
        eight = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    else:
        eight = bgr
    path = stored(fan, template, png16(eight.astype(np.uint16) * 257), "selfie.png")
    from swapengine.faces.detect import load_image

    decoded = load_image(path)  # what the engine will swap in, as BGR
    expected = cv2.cvtColor(eight, cv2.COLOR_GRAY2BGR) if kind == "grey" else bgr
    assert np.abs(decoded.astype(np.int16) - expected[..., :3]).max() <= 1
    assert decoded.mean() < 160  # the astronaut is mid-toned; a whitened copy averages about 230


def test_engine_reads_16_bit_and_heic_files_directly(tmp_path: Path) -> None:
    """The CLI and the studio's sample selfies hand files to the engine without the form's re-encode."""
    from swapengine.faces.detect import load_image

    rgb = data.astronaut()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    (tmp_path / "grey16.png").write_bytes(png16(grey.astype(np.uint16) * 257))
    (tmp_path / "me.heic").write_bytes(heic_bytes(rgb))
    assert np.abs(load_image(tmp_path / "grey16.png")[..., 0].astype(np.int16) - grey).max() <= 1
    heic = load_image(tmp_path / "me.heic")[..., ::-1].astype(np.int16)
    assert np.abs(heic - rgb).mean() < 3


def test_a_heic_header_without_a_picture_is_refused_cleanly(fan: Client, template: Template) -> None:
    from tests.security import hostile

    response = post_selfie(fan, template, hostile.iso_header(b"heic"), filename="IMG_1.HEIC")
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert Render.objects.count() == 0
