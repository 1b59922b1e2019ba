"""The analysis tasks. Safe to run twice: the row is claimed before any work.

The template task's registered name is that of the single `ads` app before the split (see adstudio/celery.py's
routes); the voice-bank task is new, so it is named after its module.
"""

from __future__ import annotations

from celery import shared_task

from adstudio.catalog import jobs
from adstudio.catalog.models import Template, VoiceRecording
from adstudio.catalog.models.voicebank import ANALYSIS_TIME_LIMIT

ANALYSE_TEMPLATE = "adstudio.ads.tasks.analyse_template"
ANALYSE_VOICE_RECORDING = "adstudio.catalog.tasks.analyse_voice_recording"


@shared_task(name=ANALYSE_TEMPLATE, acks_late=True, reject_on_worker_lost=True, time_limit=3 * 3600)
def analyse_template(template_pk: int) -> str:
    template = Template.objects.filter(pk=template_pk).first()
    if template is None or not template.claim_analysis():
        return "not claimed"
    template.refresh_from_db()
    return jobs.run_analysis(template).analysis_status


@shared_task(name=ANALYSE_VOICE_RECORDING, acks_late=True, reject_on_worker_lost=True,
             time_limit=ANALYSIS_TIME_LIMIT)
def analyse_voice_recording(recording_pk: int) -> str:
    recording = VoiceRecording.objects.filter(pk=recording_pk).first()
    if recording is None or not recording.claim():
        return "not claimed"  # deleted, already analysed, or being analysed by another worker
    recording.refresh_from_db()
    return jobs.run_voice_analysis(recording).state
