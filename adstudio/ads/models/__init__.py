"""The ads app's models, one module per concern; everything is importable from here."""

from adstudio.ads.models.dialogue import ContextTable, DialogueSlot, PhraseRecording, SensitiveTerm
from adstudio.ads.models.render import Render, RenderQuerySet, new_share_token
from adstudio.ads.models.template import SPOKEN_STAGE_WORDS, STAGE_WORDS, Template

__all__ = [
    "SPOKEN_STAGE_WORDS",
    "STAGE_WORDS",
    "ContextTable",
    "DialogueSlot",
    "PhraseRecording",
    "Render",
    "RenderQuerySet",
    "SensitiveTerm",
    "Template",
    "new_share_token",
]
