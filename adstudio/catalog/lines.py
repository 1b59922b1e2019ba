"""Dialogue-slot text rules shared by the models, the forms and the commands (no database access here)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDER_NAME = re.compile(r"[a-z_]+")


@dataclass(frozen=True)
class FanField:
    """One thing the fan fills in: free text (choices None) or a pick from a context table's keys."""

    name: str
    choices: list[str] | None

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


def line_placeholders(line: str) -> list[str]:
    """Placeholder names in the order they appear; malformed ones are left to `check_line`."""
    return [m.group(1) for m in PLACEHOLDER.finditer(line or "")]


def check_line(line: str) -> None:
    """A script line the engine can fill: balanced braces, placeholder names of a-z and _ only."""
    if not (line or "").strip():
        raise ValidationError("Write the line the speaker says, e.g. 'Happy Diwali, {name}!'.", code="empty")
    names = line_placeholders(line)
    bad = [n for n in names if not PLACEHOLDER_NAME.fullmatch(n)]
    if bad:
        raise ValidationError(
            f"Placeholder {{{bad[0]}}} is not allowed: use lower-case letters and _ only, e.g. {{name}} or {{city}}.",
            code="bad_placeholder",
        )
    if "{" in PLACEHOLDER.sub("", line) or "}" in PLACEHOLDER.sub("", line):
        raise ValidationError("The line has an unmatched { or }.", code="unbalanced")


def fill_line(line: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], line)


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a phrase, to match the phrase bank."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in kept).split())
