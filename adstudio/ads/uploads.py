"""Upload hygiene beyond "does it decode": what the first bytes say it really is, hidden payloads, metadata.

`check_image` in forms.py calls these; selfies are then stored as a fresh encode of their pixels only.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps

# ISO-BMFF brands: HEIF/AVIF stills, and the usual video brands, so each gets its own clear message.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"avif"}
# Matroska/WebM, FLV, MPEG-PS and MPEG-1/2 video; AVI is RIFF with an "AVI " form type.
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"FLV\x01", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")


def sniff(head: bytes) -> None:
    """Refuse, with a message a fan can act on, files whose first bytes say they are not a photo."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            raise ValidationError(
                "HEIC/HEIF photos (the iPhone's default) are not supported yet. Please choose a JPEG: on an "
                "iPhone, Settings > Camera > Formats > Most Compatible, or take a screenshot of the photo.",
                code="heic",
            )
        raise ValidationError("This is a video. Please choose a photo (JPEG, PNG or WebP).", code="video")
    if head.startswith(_VIDEO_MAGIC) or (head.startswith(b"RIFF") and head[8:12] == b"AVI "):
        raise ValidationError("This is a video or animation. Please choose a photo (JPEG, PNG or WebP).",
                              code="video")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")):
        raise ValidationError(
            "This is a drawing or a web page (SVG/HTML), not a photo. Please choose a JPEG, PNG or WebP picture.",
            code="markup",
        )


def refuse_hidden_archive(upload: IO[bytes]) -> None:
    """A picture with a ZIP glued on (a polyglot) decodes fine, so look for the archive's directory too."""
    upload.seek(0)
    try:
        hidden = zipfile.is_zipfile(upload)
    finally:
        upload.seek(0)
    if hidden:
        raise ValidationError(
            "This file has another file hidden inside it. Please send the photo alone (a screenshot works).",
            code="polyglot",
        )


def metadata_bytes(image: Image.Image) -> int:
    """Bytes of EXIF, XMP, ICC, comments and text chunks: everything beside the pixels."""
    applist = getattr(image, "applist", None)
    if applist is not None:  # JPEG: every APPn and COM segment, however many there are
        return sum(len(data) for _, data in applist)
    return sum(len(value) for value in image.info.values() if isinstance(value, bytes | str))


def too_much_metadata(size: int) -> ValidationError:
    return ValidationError(
        f"This photo carries an unusually large amount of hidden data ({size // 1024} KB of metadata). "
        "Please take a screenshot of it or export it again, then send that.",
        code="metadata",
    )


def pixels_only(upload: IO[bytes], kind: str, name: str) -> ContentFile:
    """Re-encode with orientation applied and no metadata at all (no EXIF, GPS, XMP, ICC or comments)."""
    upload.seek(0)
    with Image.open(upload, formats=[kind]) as source:
        image = ImageOps.exif_transpose(source)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if kind == "JPEG" or not has_alpha:
        image = image.convert("L" if image.mode == "L" else "RGB")
    else:
        image = image.convert("RGBA")
    image.info = {}
    out = io.BytesIO()
    options = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}, "PNG": {}}[kind]
    image.save(out, kind, **options)
    upload.seek(0)
    return ContentFile(out.getvalue(), name=name)
