"""The work behind the render task, callable directly by the `render` command (same code path)."""

from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from adstudio.renders.dialogue import dialogue_request
from adstudio.renders.models import Render
from adstudio.trust import provenance
from swapengine import (
    BadInput,
    Cancelled,
    EngineContext,
    EngineError,
    Label,
    ProgressCallback,
    RenderRequest,
    Watermarker,
    analyse_template,
    render,
)

log = logging.getLogger(__name__)

SORRY = "Something went wrong on our side while making your ad. Please try again in a minute."


class RenderProgress:
    """The engine's progress callback for one render: saves the row (throttled) and tells the browser.

    Raises Cancelled when the row is no longer running, which is how a fan's cancel reaches the engine.
    It also logs one event per stage the engine went through, with its duration (adstudio/logs.py).
    """

    def __init__(self, render_row: Render, extra: ProgressCallback | None = None) -> None:
        self.render = render_row
        self.extra = extra
        self.layer = get_channel_layer()
        self._last_sent = 0.0
        self._last_stage = ""
        self.started = time.monotonic()
        self._stage = ""
        self._stage_started = self.started

    def event(self, message: str, stage: str, duration: float, outcome: str, **facts: object) -> None:
        """One log line about this render, its facts as fields (JSON keys under LOG_FORMAT=json)."""
        log.info(message, extra={
            "event": message, "render_id": str(self.render.public_id), "template": self.render.template.slug,
            "stage": stage, "duration": round(duration, 3), "outcome": outcome, **facts,
        })

    def _close_stage(self, now: float, outcome: str) -> None:
        if self._stage:
            self.event("render.stage", self._stage, now - self._stage_started, outcome)

    def finish(self, outcome: str, code: str = "") -> None:
        """The last stage's line, then the whole render's: its total time and how it ended."""
        now = time.monotonic()
        self._close_stage(now, "done" if outcome == Render.State.DONE else outcome)
        self._stage = ""
        self.event("render.end", "render", now - self.started, outcome, **({"code": code} if code else {}))

    def __call__(self, stage: str, fraction: float) -> None:
        if self.extra:
            self.extra(stage, fraction)
        now = time.monotonic()
        if stage != self._stage:
            self._close_stage(now, "done")
            self._stage, self._stage_started = stage, now
        if stage == self._last_stage and now - self._last_sent < settings.PROGRESS_MIN_INTERVAL and fraction < 1:
            return
        self._last_sent, self._last_stage = now, stage
        if not self.render.record_progress(stage, fraction):
            raise Cancelled("render is no longer running")
        publish(self.render)


def publish(render_row: Render) -> None:
    """Tell everyone watching this render its current state. At-most-once; clients re-sync from the DB."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            render_row.group_name, {"type": "render.update", "state": render_row.payload()}
        )
    except Exception:  # a lost update is repaired on reconnect; a render must not die of it
        log.warning("could not publish progress for render %s", render_row.pk, exc_info=True)


def run_render(
    render_row: Render, extra_progress: ProgressCallback | None = None, slot_audio: Path | None = None
) -> Render:
    """Run a claimed render to a final state. Outputs appear only complete, by rename.

    `slot_audio` (the CLI's --slot-audio) is said in the template's one dialogue slot instead of the voice.
    """
    template = render_row.template
    work = render_row.work_dir()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    progress = RenderProgress(render_row, extra_progress)
    waited = (timezone.now() - render_row.created_at).total_seconds()
    progress.event("render.start", "queue", waited, "started", worker=render_row.worker or None)
    publish(render_row)
    try:
        if not template.is_ready:
            raise BadInput("This ad is not available right now. Please pick another one.", "template_not_ready")
        if template.swap_face and not render_row.selfie:
            raise BadInput("Your selfie is missing. Please upload it again.", "no_selfie")
        with EngineContext(Path(settings.ENGINE_CACHE_DIR)) as ctx:
            analysis = analyse_template(Path(template.clip.path), Path(settings.ENGINE_CACHE_DIR), ctx)
            request = RenderRequest(
                clip=Path(template.clip.path),
                analysis=analysis,
                track_id=template.fan_track if template.swap_face else None,
                selfie=Path(render_row.selfie.path) if template.swap_face else None,
                out_video=work / "ad.mp4",
                out_poster=work / "poster.jpg",
                out_preview=render_row.preview_path(),
                render_id=str(render_row.public_id),
                label=Label(corner=template.label_corner),
                dialogue=dialogue_request(template, render_row, slot_audio),
                watermark=Watermarker(render_row.pk, key=settings.WATERMARK_KEY),
            )
            result = render(request, ctx, progress=progress)
        facts = provenance.AdFacts(str(render_row.public_id), template.title, template.slug)
        provenance.sign_video(work / "ad.mp4", Path(template.clip.path), facts)
        video_name, poster_name = _store_outputs(render_row, work)
        if not render_row.finish(video_name, poster_name, result.notes):  # cancelled at the last moment
            default_storage.delete(video_name)
            default_storage.delete(poster_name)
    except Cancelled:
        render_row.cancel()
    except BadInput as exc:
        render_row.fail(exc.user_message, f"{exc.code}: {exc}", exc.code)
    except (EngineError, OSError, Exception) as exc:  # noqa: BLE001 - every failure must end the render
        log.exception("render %s failed", render_row.pk)
        render_row.fail(SORRY, "".join(traceback.format_exception(exc))[-8000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        render_row.erase_selfie()
        if Render.objects.filter(pk=render_row.pk).exists():  # the fan may have deleted it meanwhile
            render_row.refresh_from_db()
            publish(render_row)
        progress.finish(render_row.state, render_row.error_code)
    return render_row


def _store_outputs(render_row: Render, work: Path) -> tuple[str, str]:
    """Move the finished files into media storage with os.replace: a reader sees all of a file or none."""
    folder = f"renders/{render_row.public_id.hex}"
    target = Path(settings.MEDIA_ROOT) / folder
    target.mkdir(parents=True, exist_ok=True)
    os.replace(work / "ad.mp4", target / "ad.mp4")
    os.replace(work / "poster.jpg", target / "poster.jpg")
    return f"{folder}/ad.mp4", f"{folder}/poster.jpg"
