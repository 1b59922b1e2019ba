"""The catalog's models, one module per concern; everything is importable from here."""

from adstudio.catalog.models.dialogue import ContextTable, DialogueSlot, PhraseRecording
from adstudio.catalog.models.template import SPOKEN_STAGE_WORDS, STAGE_WORDS, Template
from adstudio.catalog.models.voicebank import VoiceBank, VoiceRecording

__all__ = [
    "SPOKEN_STAGE_WORDS",
    "STAGE_WORDS",
    "ContextTable",
    "DialogueSlot",
    "PhraseRecording",
    "Template",
    "VoiceBank",
    "VoiceRecording",
]
