"""Starting the catalog's work: an analysis task is enqueued only once the caller's transaction commits
(models never import tasks; they only record state)."""

from __future__ import annotations

from django.db import transaction

from adstudio.catalog.models import Template, VoiceRecording
from adstudio.catalog.tasks import analyse_template, analyse_voice_recording


def request_analysis(template: Template) -> None:
    """Mark the template for (re-)analysis and enqueue it once the current transaction commits."""
    template.mark_pending()
    pk = template.pk
    transaction.on_commit(lambda: analyse_template.delay(pk))


def request_voice_analysis(recording: VoiceRecording) -> None:
    """Mark a voice-bank recording for (re-)analysis and enqueue it once the current transaction commits."""
    recording.mark_queued()
    pk = recording.pk
    transaction.on_commit(lambda: analyse_voice_recording.delay(pk))
