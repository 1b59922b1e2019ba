"""Uploads are judged by their content, never their name: what the first bytes say a file really is, a full
decode within byte and pixel limits, hidden payloads, metadata. Selfies are then stored as a fresh encode of
their pixels only. The fan's form, the admin's forms and /verify all use these checks.
"""

from __future__ import annotations

import io
import secrets
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

# HEIC/HEIF (the iPhone's default) opens in Pillow as format "HEIF" (pillow-heif, libheif inside its wheel).
register_heif_opener()
# ISO-BMFF brands: HEIF stills are photos; AVIF and the usual video brands each get their own clear message.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# Matroska/WebM, FLV, MPEG-PS and MPEG-1/2 video; AVI is RIFF with an "AVI " form type.
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"FLV\x01", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")


def sniff(head: bytes) -> None:
    """Refuse, with a message a fan can act on, files whose first bytes say they are not a photo."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return  # a HEIC/HEIF photo: the decode judges it
        if head[8:12] in _AVIF_BRANDS:
            raise ValidationError(
                "AVIF photos are not supported. Please choose a JPEG, PNG, WebP or HEIC photo, or take a "
                "screenshot of this one.",
                code="avif",
            )
        raise ValidationError("This is a video. Please choose a photo (JPEG, PNG, WebP or HEIC).", code="video")
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


def eight_bit(image: Image.Image) -> Image.Image:
    """16-bit greyscale (PNG's I;16) scaled to 8 bits; Pillow's convert("RGB") would clip it to white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        deep = np.asarray(image, dtype=np.float64)
        return Image.fromarray(np.clip(deep / 257.0 + 0.5, 0, 255).astype(np.uint8))
    return image


def pixels_only(upload: IO[bytes], kind: str, name: str) -> ContentFile:
    """Re-encode as `kind` with orientation applied and no metadata (no EXIF, GPS, XMP, ICC or comments).

    The source may be any accepted format (check_image has judged it); a HEIC is stored as a JPEG.
    """
    kind = STORED_AS.get(kind, kind)
    upload.seek(0)
    with Image.open(upload, formats=list(IMAGE_EXTENSIONS)) as source:
        image = eight_bit(ImageOps.exif_transpose(source))
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


# The formats a photo may come in, and the extension its stored copy gets; a HEIC is kept as a JPEG, which
# every browser and the engine read.
IMAGE_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "HEIF": ".jpg"}
STORED_AS = {"HEIF": "JPEG"}
NOT_A_PHOTO = "We could not read this file as a photo. Please choose a JPEG, PNG, WebP or HEIC picture."


def _megabytes(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


def check_image(upload: UploadedFile, max_bytes: int, max_pixels: int) -> str:
    """Decode the whole picture once; returns the extension its real format deserves."""
    upload.seek(0)
    sniff(upload.read(64))
    upload.seek(0)
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            f"This photo is too big ({_megabytes(upload.size)}). "
            f"Please use one under {_megabytes(max_bytes)}.",
            code="too_big",
        )
    too_many_pixels = ValidationError(
        f"This photo has too many pixels. Please use one under {max_pixels // 1_000_000} megapixels "
        "(a normal phone selfie is fine).",
        code="too_many_pixels",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=list(IMAGE_EXTENSIONS)) as image:
                kind = image.format or ""
                width, height = image.size
                if width * height > max_pixels:
                    raise too_many_pixels
                metadata = metadata_bytes(image)
                if metadata > settings.IMAGE_METADATA_MAX_BYTES:
                    raise too_much_metadata(metadata)
                image.verify()
            upload.seek(0)
            with Image.open(upload, formats=[kind]) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except UnidentifiedImageError:
        raise ValidationError(NOT_A_PHOTO, code="not_image") from None
    except (OSError, SyntaxError, ValueError, IndexError, EOFError):
        raise ValidationError(
            "This photo seems damaged or incomplete (perhaps the upload was cut off). Please choose it again "
            "or take a new one.",
            code="corrupt_image",
        ) from None
    finally:
        upload.seek(0)
    refuse_hidden_archive(upload)
    return IMAGE_EXTENSIONS[kind]


# MP4/MOV: an ISO box at offset 0 ("ftyp", or a QuickTime file starting with another top-level atom).
# MKV/WebM: the EBML header. Anything else (playlists, GIFs, scripts) never reaches ffmpeg.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_EBML = b"\x1a\x45\xdf\xa3"
VIDEO_HINT = "Please upload a video clip (MP4, MOV, MKV or WebM)."


def check_video_header(head: bytes) -> str:
    """The extension the container deserves (the admin's file name is never used)."""
    if len(head) >= 8 and head[4:8] in _ISO_BOXES:
        return ".mp4"
    if head.startswith(_EBML):
        return ".mkv"
    raise ValidationError(f"This file is not a video we can use. {VIDEO_HINT}", code="not_video")


def check_video(upload: UploadedFile) -> str:
    """Size, container magic, then the engine's own probe (a real decode) on a file on disk."""
    if upload.size is not None and upload.size > settings.TEMPLATE_MAX_BYTES:
        raise ValidationError(
            f"This clip is {_megabytes(upload.size)}; "
            f"the limit is {_megabytes(settings.TEMPLATE_MAX_BYTES)}.",
            code="too_big",
        )
    upload.seek(0)
    extension = check_video_header(upload.read(16))
    upload.seek(0)
    from swapengine import BadInput, probe

    try:
        if hasattr(upload, "temporary_file_path"):
            probe(Path(upload.temporary_file_path()))
        else:
            with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
                for chunk in upload.chunks():
                    tmp.write(chunk)
                tmp.flush()
                probe(Path(tmp.name))
    except BadInput as exc:
        raise ValidationError(exc.user_message, code=exc.code) from None
    finally:
        upload.seek(0)
    return extension


def check_audio(upload: Any) -> Any:
    """Stems and phrase-bank takes must be sound ffmpeg can decode; stored under a random name."""
    if not isinstance(upload, UploadedFile):
        return upload
    from swapengine import BadInput, FFmpegError, load_audio

    with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            load_audio(Path(tmp.name), 8000, max_seconds=1.0)
        except (BadInput, FFmpegError):
            raise ValidationError("This file is not audio we can read (WAV, FLAC, MP3, AAC...).",
                                  code="not_audio") from None
    upload.seek(0)
    suffix = "".join(ch for ch in Path(upload.name or "").suffix.lower()[:6] if ch.isalnum() or ch == ".")
    upload.name = f"{secrets.token_hex(8)}{suffix if len(suffix) > 1 else '.wav'}"
    return upload


AUDIO_HINT = "Please upload a sound recording: WAV, FLAC, MP3, M4A/AAC, OGG/Opus or WebM."
_PICTURE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")
_DOCUMENT_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x7fELF", b"MZ", b"{\\rtf", b"\xd0\xcf\x11\xe0")


def audio_extension(head: bytes) -> str:
    """The extension a recording's container deserves, from its first bytes; a clear refusal for pictures,
    documents, text and anything else that is not a sound container."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE" or head.startswith((b"RF64", b"BW64")):
        return ".wav"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return ".aiff"
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"ID3"):
        return ".mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return ".aac" if head[1] & 0x06 == 0 else ".mp3"  # ADTS AAC has layer bits 00; MPEG audio does not
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return ".m4a"  # M4A, or a video whose sound track is then used
    if head.startswith(_EBML):
        return ".webm"
    if head.startswith(_PICTURE_MAGIC) or head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        raise ValidationError(f"This is a picture, not a recording. {AUDIO_HINT}", code="not_audio")
    if head.startswith(_DOCUMENT_MAGIC):
        raise ValidationError(f"This is a document or an archive, not a recording. {AUDIO_HINT}", code="not_audio")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<", b"{", b"[")) or head.isascii():
        raise ValidationError(f"This is text, not a recording. {AUDIO_HINT}", code="not_audio")
    raise ValidationError(f"This file is not a recording we can use. {AUDIO_HINT}", code="not_audio")


def check_voice_recording(upload: UploadedFile, max_bytes: int) -> str:
    """A voice-bank recording: not empty, within `max_bytes`, a sound container by its bytes, and decodable
    (its first seconds). Returns the extension to store it under; the admin's file name is never used."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError("This file is empty. Please choose the recording again.", code="empty")
    if size > max_bytes:
        raise ValidationError(
            f"This recording is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}. Split it into parts or "
            "upload it as FLAC or MP3.",
            code="too_big",
        )
    upload.seek(0)
    extension = audio_extension(upload.read(64))
    upload.seek(0)
    from swapengine import BadInput, FFmpegError, load_audio

    try:
        with tempfile.NamedTemporaryFile(suffix=extension) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
            tmp.flush()
            samples = load_audio(Path(tmp.name), 8000, max_seconds=5.0)
    except (BadInput, FFmpegError):
        raise ValidationError(
            f"This recording could not be decoded; it may be damaged or cut off. {AUDIO_HINT}", code="corrupt_audio"
        ) from None
    finally:
        upload.seek(0)
    if len(samples) == 0:
        raise ValidationError(f"This file holds no sound at all. {AUDIO_HINT}", code="no_sound")
    return extension
