"""The work behind the analysis tasks: a template clip (also called directly by `add_template` and `seed_demo`,
the same code path) and a voice-bank recording."""

from __future__ import annotations

import logging
import os
import time
import traceback
from pathlib import Path

from django.conf import settings

import swapengine
from adstudio.catalog import speech
from adstudio.catalog.models import Template, VoiceRecording
from swapengine import BadInput, EngineContext, ProgressCallback, analyse_template, assess_voice_recording

log = logging.getLogger(__name__)


def run_analysis(template: Template, progress: ProgressCallback | None = None) -> Template:
    """Analyse a template clip once (the engine caches it by content hash and engine version)."""
    last = [0.0]

    def report(stage: str, fraction: float) -> None:
        if progress:
            progress(stage, fraction)
        if time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            Template.objects.filter(pk=template.pk).update(analysis_progress=fraction)

    try:
        cache = Path(settings.ENGINE_CACHE_DIR)
        with EngineContext(cache) as ctx:
            analysis = analyse_template(Path(template.clip.path), cache, ctx, progress=report)
            lips = speech.prepare_slots(template, analysis, ctx, progress=report)
        summary = analysis.summary()
        summary["speech"] = speech.speech_summary(Path(template.clip.path))
        summary["lips"] = lips
        tracks = summary.pop("tracks")
        poster = ""
        if tracks:
            thumb = analysis.directory / tracks[0]["thumbnail"]
            poster = os.path.relpath(thumb, settings.MEDIA_ROOT) if thumb.exists() else ""
        template.analysis_done(analysis.key, swapengine.ENGINE_VERSION, summary, tracks, poster)
    except BadInput as exc:
        template.analysis_failed(exc.user_message, f"{exc.code}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the admin must see a failed state, not a spinner forever
        log.exception("analysis of template %s failed", template.pk)
        template.analysis_failed(
            "Analysis failed on our side; see the technical error.",
            "".join(traceback.format_exception(exc))[-8000:],
        )
    return template


def run_voice_analysis(recording: VoiceRecording) -> VoiceRecording:
    """Assess one claimed voice-bank recording (speech time, noise, reverb, clipping, phonemes) and store the
    report; a file the engine cannot use fails with the engine's own words for the admin."""
    try:
        assessed = assess_voice_recording(Path(recording.audio.path))
        recording.finished(assessed.as_dict(), assessed.duration_s)
    except BadInput as exc:
        recording.failed(exc.user_message, f"{exc.code}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the admin must see a failed state, not a spinner forever
        log.exception("analysis of voice recording %s failed", recording.pk)
        recording.failed(
            "Analysis failed on our side; see the technical error.",
            "".join(traceback.format_exception(exc))[-8000:],
        )
    return VoiceRecording.objects.filter(pk=recording.pk).first() or recording  # deleted meanwhile: as it was
