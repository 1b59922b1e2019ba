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
    if any(len(_scripts(word) & _LOOKALIKES) > 1 for word in name.replace("-", " ").split()):
        raise ValidationError(
            "Some letters in this name come from different alphabets that look alike (a Cyrillic 'а' among "
            "Latin letters, say). Please retype the name using one keyboard.",
            code="mixed_scripts",
        )
    return " ".join(name.split())


_LOOKALIKES = {"LATIN", "CYRILLIC", "GREEK"}  # alphabets whose letters pass for each other


def _scripts(word: str) -> set[str]:
    """The scripts of a word's letters (LATIN, CYRILLIC, ...): a homoglyph spoof mixes two in one word."""
    return {unicodedata.name(ch, "?").split(" ")[0] for ch in word if unicodedata.category(ch).startswith("L")}
