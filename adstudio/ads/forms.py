"""The fan's form and the admin's template form. Uploads are judged by their content, never their name."""

from __future__ import annotations

import secrets
import tempfile
import warnings
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from adstudio.ads import uploads
from adstudio.ads.models import Render, SensitiveTerm, Template
from adstudio.ads.privacy import CONSENT_LABEL, CONSENT_VERSION
from adstudio.ads.slots import screen_spoken
from adstudio.ads.validators import clean_fan_name

IMAGE_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
NOT_A_PHOTO = "We could not read this file as a photo. Please choose a JPEG, PNG or WebP picture."


def _megabytes(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


def check_image(upload: UploadedFile, max_bytes: int, max_pixels: int) -> str:
    """Decode the whole picture once; returns the extension its real format deserves."""
    upload.seek(0)
    uploads.sniff(upload.read(64))
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
                metadata = uploads.metadata_bytes(image)
                if metadata > settings.IMAGE_METADATA_MAX_BYTES:
                    raise uploads.too_much_metadata(metadata)
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
    uploads.refuse_hidden_archive(upload)
    return IMAGE_EXTENSIONS[kind]


class PersonaliseForm(forms.Form):
    selfie = forms.FileField(
        label="Your selfie",
        help_text="A clear, well-lit photo of one face looking at the camera (JPEG, PNG or WebP).",
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "user"}),
        error_messages={"required": "Please choose or take a selfie.", "empty": "This photo file is empty."},
    )
    name = forms.CharField(
        label="Your name",
        help_text="Shown and spoken in your ad.",
        strip=False,  # the shared validator trims, so the form and the CLI agree on every rule
        error_messages={"required": "Please type a name."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    consent = forms.BooleanField(
        label=CONSENT_LABEL,
        error_messages={"required": "Please confirm this is your face or you have permission to use it."},
    )

    def __init__(
        self, *args: Any, session_key: str = "", ip_hash: str = "", template: Template | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.session_key = session_key
        self.ip_hash = ip_hash
        self.consent_version = CONSENT_VERSION
        self.fields["name"].widget.attrs["maxlength"] = str(settings.NAME_MAX_LENGTH)
        self.sensitive_terms: list[str] | None = None
        if template is not None:
            self._ask_only_what(template)

    def _ask_only_what(self, template: Template) -> None:
        """No selfie (nor face consent) for a dialogue-only ad, no name unless it is said or shown,
        and one field per placeholder the fan fills (a pick when a context table fills it)."""
        if not template.swap_face:
            del self.fields["selfie"], self.fields["consent"]
        if not template.asks_name():
            del self.fields["name"]
        for wanted in template.fan_fields():
            field: forms.Field
            if wanted.choices is None:
                field = forms.CharField(label=wanted.label, max_length=40, help_text="Spoken in your ad.")
            else:
                field = forms.ChoiceField(label=wanted.label, choices=[("", "Choose...")] + [
                    (c, c) for c in wanted.choices
                ])
            self.fields[f"field_{wanted.name}"] = field

    def _screen(self, value: str) -> str:
        if self.sensitive_terms is None:
            self.sensitive_terms = SensitiveTerm.terms()
        return screen_spoken(value, self.sensitive_terms)

    def clean_name(self) -> str:
        return self._screen(clean_fan_name(self.cleaned_data["name"]))

    def placeholder_values(self) -> dict[str, str]:
        """The fan's placeholder values (free text was screened like a name in clean())."""
        return {
            key.removeprefix("field_"): str(self.cleaned_data[key])
            for key in self.fields
            if key.startswith("field_") and key in self.cleaned_data
        }

    def clean_selfie(self) -> File:
        upload: UploadedFile = self.cleaned_data["selfie"]
        extension = check_image(upload, settings.SELFIE_MAX_BYTES, settings.SELFIE_MAX_PIXELS)
        kind = next(k for k, ext in IMAGE_EXTENSIONS.items() if ext == extension)
        # Stored as its pixels only (no EXIF/GPS), under a random name: never the fan's file name.
        return uploads.pixels_only(upload, kind, f"{secrets.token_hex(16)}{extension}")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for key, field in self.fields.items():
            if key.startswith("field_") and isinstance(data.get(key), str) and not isinstance(field, forms.ChoiceField):
                try:
                    data[key] = self._screen(data[key])
                except ValidationError as exc:
                    self.add_error(key, exc)
        if self._too_many_active():
            raise ValidationError(self.too_many_message(), code="too_many_renders")
        return data

    def _too_many_active(self) -> bool:
        active = Render.objects.active().filter(owner_session=self.session_key).count()
        return bool(self.session_key) and active >= settings.MAX_ACTIVE_RENDERS_PER_SESSION

    @staticmethod
    def too_many_message() -> str:
        limit = settings.MAX_ACTIVE_RENDERS_PER_SESSION
        return f"You already have {limit} ads being made. Please wait for one to finish, then try again."

    def save(self, template: Template) -> Render | None:
        """Create and queue the render; None (with a form error) if the session hit its limit meanwhile."""
        with transaction.atomic():
            if self._too_many_active():  # again, inside the write transaction, against parallel posts
                self.add_error(None, self.too_many_message())
                return None
            render = Render(
                template=template,
                owner_session=self.session_key,
                name=self.cleaned_data.get("name", ""),
                fields=self.placeholder_values(),
                consent_at=timezone.now() if "consent" in self.fields else None,
                consent_version=self.consent_version if "consent" in self.fields else "",
                ip_hash=self.ip_hash,
            )
            upload = self.cleaned_data.get("selfie")
            if upload is not None:
                render.save_with_selfie(upload.name, upload)
            else:
                render.save()
            render.enqueue()
        return render


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
    from swapengine.errors import BadInput
    from swapengine.media import probe

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
    from swapengine.errors import BadInput, FFmpegError
    from swapengine.speech import load_audio

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


class TemplateAdminForm(forms.ModelForm):
    fan_track = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="The face the fan replaces. The choices appear once the clip is analysed.",
    )

    class Meta:
        model = Template
        fields = [
            "title", "slug", "clip", "poster", "published", "label_corner", "swap_face", "fan_track",
            "dialogue_stem", "music_stem",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tracks = self.instance.tracks if self.instance and self.instance.pk else []
        choices: list[tuple[Any, str]] = [("", "(none yet)" if not tracks else "(choose a face)")]
        choices += [(t["id"], f"Track {t['id']}: frames {t['start']}-{t['end']}") for t in tracks]
        self.fields["fan_track"].choices = choices

    def clean_clip(self) -> Any:
        clip = self.cleaned_data.get("clip")
        if isinstance(clip, UploadedFile):
            clip.name = f"{secrets.token_hex(8)}{check_video(clip)}"
        return clip

    def _clean_stem(self, name: str) -> Any:
        return check_audio(self.cleaned_data.get(name))

    def clean_dialogue_stem(self) -> Any:
        return self._clean_stem("dialogue_stem")

    def clean_music_stem(self) -> Any:
        return self._clean_stem("music_stem")

    def clean_poster(self) -> Any:
        poster = self.cleaned_data.get("poster")
        if isinstance(poster, UploadedFile):
            extension = check_image(poster, settings.SELFIE_MAX_BYTES, settings.SELFIE_MAX_PIXELS)
            kind = next(k for k, ext in IMAGE_EXTENSIONS.items() if ext == extension)
            return uploads.pixels_only(poster, kind, f"{secrets.token_hex(8)}{extension}")
        return poster

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ready = self.instance.analysis_status == Template.Analysis.READY
        analysed = ready and (data.get("fan_track") is not None or data.get("swap_face") is False)
        # A new clip is analysed after saving; the catalog shows it once that is done.
        if data.get("published") and not analysed and "clip" not in self.changed_data:
            self.add_error("published", "Only an analysed template with a chosen face can be published.")
        return data
