"""The work behind the analysis task, callable directly by `add_template` and `seed_demo` (same code path)."""

from __future__ import annotations

import logging
import os
import time
import traceback
from pathlib import Path

from django.conf import settings

import swapengine
from adstudio.catalog import speech
from adstudio.catalog.models import Template
from swapengine import BadInput, EngineContext, ProgressCallback, analyse_template

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
