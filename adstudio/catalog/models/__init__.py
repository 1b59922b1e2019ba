"""The catalog's models, one module per concern; everything is importable from here."""

from adstudio.catalog.models.dialogue import ContextTable, DialogueSlot, PhraseRecording
from adstudio.catalog.models.template import SPOKEN_STAGE_WORDS, STAGE_WORDS, Template

__all__ = [
    "SPOKEN_STAGE_WORDS",
    "STAGE_WORDS",
    "ContextTable",
    "DialogueSlot",
    "PhraseRecording",
    "Template",
]
