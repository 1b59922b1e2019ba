"""Template helpers for the fan's pages: the upload limits, so the page states the rules the server applies."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def upload_limits() -> dict[str, int]:
    return {
        "selfie_max_bytes": settings.SELFIE_MAX_BYTES,
        "selfie_max_pixels": settings.SELFIE_MAX_PIXELS,
        "name_max_length": settings.NAME_MAX_LENGTH,
    }
