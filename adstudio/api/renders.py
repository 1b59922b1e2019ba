"""Creating a render through the API: the fan form's own checks (PersonaliseForm: upload hygiene, the
selfie screen, name screening), run synchronously, and the same create_render service; an Idempotency-Key
makes a retried POST return the render it already made."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from adstudio.api.errors import ApiError
from adstudio.catalog.models import Template
from adstudio.orgs.models import Organisation
from adstudio.renders import services
from adstudio.renders.forms import PersonaliseForm
from adstudio.renders.models import Render
from adstudio.trust.privacy import CONSENT_VERSION

RESERVED = {"template", "selfie", "name"}
# Refusals about size answer 413; every other refusal of the input is 422.
TOO_LARGE = {"too_big", "too_many_pixels"}


def published_template(slug: str) -> Template:
    template = Template.objects.filter(slug=slug, published=True).first()
    if template is None or not template.is_ready:
        raise ApiError(404, "unknown_template", f"There is no published template with the slug {slug!r}.")
    return template


def request_hash(request: HttpRequest) -> str:
    """SHA-256 over the form fields (sorted) and each file's bytes: what 'the same body' means."""
    digest = hashlib.sha256()
    for key in sorted(request.POST):
        for value in request.POST.getlist(key):
            digest.update(f"{key}\0{value}\0".encode())
    for key in sorted(request.FILES):
        for upload in request.FILES.getlist(key):
            digest.update(f"{key}\0".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def earlier(organisation: Organisation, key: str, body_hash: str) -> Render | None:
    """The render this Idempotency-Key already made (None if new); 409 if the key came with another body."""
    if not key:
        return None
    render = Render.objects.filter(organisation=organisation, idempotency_key=key).first()
    if render is not None and render.request_hash != body_hash:
        raise ApiError(409, "idempotency_conflict",
                       "This Idempotency-Key was already used with a different request. Use a new key.")
    return render


def _first_error(form: PersonaliseForm) -> ApiError:
    """The first refusal, with the very line the fan's form shows; the field named as the API names it."""
    for field, errors in form.errors.as_data().items():
        error: ValidationError = errors[0]
        code = error.code or "invalid"
        message = " ".join(error.messages)
        name = field.removeprefix("field_")
        if field != "__all__":
            message = f"{name}: {message}" if name not in ("selfie", "name") else message
        return ApiError(413 if code in TOO_LARGE else 422, code if field != "__all__" else "invalid", message)
    return ApiError(422, "invalid", "The request is not valid.")


def checked_form(request: HttpRequest, template: Template) -> PersonaliseForm:
    """The fan's form, filled from the API's fields; any unknown field is refused rather than ignored."""
    wanted = {f.name for f in template.fan_fields()}
    unknown = sorted(set(request.POST) - RESERVED - wanted)
    if unknown:
        raise ApiError(422, "unknown_field", f"This template has no field {unknown[0]!r}.")
    unexpected = sorted(set(request.FILES) - {"selfie"})
    if unexpected:
        raise ApiError(422, "unknown_field", f"Only one file, 'selfie', may be sent (not {unexpected[0]!r}).")
    data: dict[str, Any] = {"name": request.POST.get("name", ""), "consent": "on"}
    data.update({f"field_{name}": request.POST[name] for name in wanted if name in request.POST})
    files: dict[str, UploadedFile] = {}
    selfie = request.FILES.get("selfie")
    if isinstance(selfie, UploadedFile):
        files["selfie"] = selfie
    form = PersonaliseForm(data, files, template=template)
    if not form.is_valid():
        raise _first_error(form)
    return form


def create(request: HttpRequest, organisation: Organisation, template: Template, key: str) -> tuple[Render, bool]:
    """The render for this request and whether it is new (False: the Idempotency-Key's earlier one)."""
    body_hash = request_hash(request)
    if (render := earlier(organisation, key, body_hash)) is not None:
        return render, False
    form = checked_form(request, template)
    try:
        with transaction.atomic():
            render = services.create_render(
                template,
                form.cleaned_data.get("selfie"),
                organisation=organisation,
                name=form.cleaned_data.get("name", ""),
                fields=form.placeholder_values(),
                # The organisation's API terms make it answer for consent to every face it sends.
                consent_at=timezone.now() if template.swap_face else None,
                consent_version=f"api-{CONSENT_VERSION}" if template.swap_face else "",
                idempotency_key=key,
                request_hash=body_hash,
            )
    except IntegrityError:  # a parallel request with the same key won the insert
        if (render := earlier(organisation, key, body_hash)) is None:
            raise
        return render, False
    return render, True
