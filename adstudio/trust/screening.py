"""Screening of everything a fan makes a celebrity say: the engine's rules plus the admin's sensitive terms."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from swapengine import BadInput, screen_name


def screen_spoken(value: str, extra_blocked: list[str]) -> str:
    """The engine's name screening (profanity, scripts, the admin's sensitive terms) as a form error."""
    try:
        return screen_name(value, extra_blocked)
    except BadInput as exc:
        raise ValidationError(exc.user_message, code=exc.code) from None
