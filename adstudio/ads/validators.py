"""Checks shared by the web forms and the CLI, so both refuse the same things with the same words."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError


def clean_fan_name(value: str) -> str:
    """A name a celebrity could say and a page can show: trimmed, printable, not too long."""
    name = unicodedata.normalize("NFC", value or "").strip()
    if not name:
        raise ValidationError("Please type a name.", code="empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise ValidationError("The name has invisible or control characters; please retype it.", code="control")
    limit = settings.NAME_MAX_LENGTH
    if len(name) > limit:
        raise ValidationError(f"Please keep the name to {limit} characters or fewer.", code="too_long")
    return " ".join(name.split())
