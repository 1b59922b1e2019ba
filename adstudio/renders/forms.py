"""The fan's form: a selfie, a name, consent and the dialogue's fields; saving it queues the render."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from adstudio.catalog.models import Template
from adstudio.renders import services
from adstudio.renders.models import Render
from adstudio.trust import uploads
from adstudio.trust.models import SensitiveTerm
from adstudio.trust.privacy import CONSENT_LABEL, CONSENT_VERSION
from adstudio.trust.screening import screen_selfie_upload, screen_spoken
from adstudio.trust.validators import clean_fan_name


class PersonaliseForm(forms.Form):
    selfie = forms.FileField(
        label="Your selfie",
        help_text="A clear, well-lit photo of one face looking at the camera (JPEG, PNG, WebP or HEIC).",
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
        extension = uploads.check_image(upload, settings.SELFIE_MAX_BYTES, settings.SELFIE_MAX_PIXELS)
        kind = next(k for k, ext in uploads.IMAGE_EXTENSIONS.items() if ext == extension)
        # Stored as its pixels only (no EXIF/GPS), under a random name: never the fan's file name.
        clean = uploads.pixels_only(upload, kind, f"{secrets.token_hex(16)}{extension}")
        # The render's own face checks, on the very pixels it would get: a selfie that cannot make an ad is
        # refused here, with the engine's line, before consent counts and before anything is stored or queued.
        refusal = screen_selfie_upload(clean)
        if refusal is not None:
            raise ValidationError(refusal.message, code=refusal.code)
        return clean

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
            render = services.create_render(
                template,
                self.cleaned_data.get("selfie"),
                owner_session=self.session_key,
                name=self.cleaned_data.get("name", ""),
                fields=self.placeholder_values(),
                consent_at=timezone.now() if "consent" in self.fields else None,
                consent_version=self.consent_version if "consent" in self.fields else "",
                ip_hash=self.ip_hash,
            )
        return render
