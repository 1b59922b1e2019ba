"""One task per job, taking an id. Safe to run twice: the row is claimed before any work.

The registered names are those of the single `ads` app before the split (queued messages, the beat
schedule and the routes in adstudio/celery.py name them), so a deploy strands no queued task.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from adstudio.renders import jobs
from adstudio.renders.models import Render

RENDER_AD = "adstudio.ads.tasks.render_ad"
EXPIRE_RENDERS = "adstudio.ads.tasks.expire_renders"


@shared_task(
    name=RENDER_AD,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.RENDER_TIME_LIMIT,
    soft_time_limit=settings.RENDER_TIME_LIMIT - 30,
)
def render_ad(render_pk: int, worker: str = "") -> str:
    from celery import current_task

    hostname = worker or (current_task.request.hostname if current_task else "") or "unknown"
    render = Render.objects.claim(render_pk, hostname)
    if render is None:
        return "not claimed"  # already done, cancelled, deleted, or alive in another worker
    if render.attempts > 1:  # taken over from a dead worker: its half-written scratch files go
        render.clear_dead_attempts()
    return jobs.run_render(render).state


@shared_task(name=EXPIRE_RENDERS, acks_late=True)
def expire_renders() -> int:
    """Hourly (Celery beat, or the embedded worker's timer): delete ads older than RENDER_TTL_DAYS.

    Also fails renders a lost worker left unfinished past SELFIE_MAX_HOURS, erasing their selfies.
    """
    Render.objects.give_up_abandoned()
    return Render.objects.expire()
