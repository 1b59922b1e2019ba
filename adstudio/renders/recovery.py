"""Renders the broker lost track of: a worker killed mid-render, or a queue wiped by a Redis restart.

Celery's acks_late brings a dead worker's message back only after the broker's visibility timeout, and
the claim refuses a running render until its heartbeat is RENDER_STALE_AFTER old; a redelivery that comes
too early is dropped. A Redis without persistence forgets every queued message when it restarts. So
each Redis-mode worker runs a small sweep beside its consumer:

- a running render whose heartbeat is stale is re-enqueued, once per attempt (a Redis SET NX guard);
- a render queued for longer than RENDER_STALE_AFTER is re-enqueued once (its message may never have
  reached the broker: the web's publish failed after the row was committed);
- when a marker key is missing from the broker (it was wiped, or is new), the one worker that sets it
  again re-enqueues every queued render at once, oldest first.

Re-enqueueing is always safe: the claim (a conditional UPDATE) lets exactly one delivery run a render.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutting_down

log = logging.getLogger(__name__)

MARKER_KEY = "adstudio:broker-epoch"
REQUEUED_KEY = "adstudio:requeued:{pk}:{attempts}"
REQUEUED_TTL_S = 24 * 3600


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def sweep(broker_url: str) -> list[int]:
    """One pass: re-enqueue what no delivery will run any more. Returns the render ids it re-enqueued."""
    from django.conf import settings
    from django.utils import timezone

    from adstudio.renders.models import Render
    from adstudio.renders.services import enqueue_render

    client = _redis(broker_url)
    wiped = bool(client.set(MARKER_KEY, timezone.now().isoformat(), nx=True))
    stale = timezone.now() - timedelta(seconds=settings.RENDER_STALE_AFTER)
    lost = Render.objects.filter(state=Render.State.RUNNING, heartbeat_at__lt=stale) | Render.objects.filter(
        state=Render.State.QUEUED, created_at__lt=stale
    )
    if wiped:
        lost = lost | Render.objects.filter(state=Render.State.QUEUED)
    requeued = []
    for pk, attempts in lost.order_by("created_at", "pk").values_list("pk", "attempts"):
        if client.set(REQUEUED_KEY.format(pk=pk, attempts=attempts), "1", nx=True, ex=REQUEUED_TTL_S):
            enqueue_render(pk)  # at once: the sweep runs outside any transaction
            requeued.append(pk)
    if requeued:
        log.warning("re-enqueued %d render(s) the broker had lost: %s", len(requeued), requeued)
    return requeued


class Sweeper:
    """A daemon thread in the worker's main process that sweeps every half RENDER_STALE_AFTER."""

    def __init__(self, broker_url: str, interval: float) -> None:
        self.broker_url = broker_url
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="render-recovery", daemon=True)

    def _run(self) -> None:
        from django.db import close_old_connections

        while not self.stopped.is_set():
            close_old_connections()
            try:
                sweep(self.broker_url)
            except Exception:  # noqa: BLE001 - Redis or the database is down; the next pass tries again
                log.warning("render recovery sweep failed; retrying in %.0fs", self.interval, exc_info=True)
            finally:
                close_old_connections()
            self.stopped.wait(self.interval)


def connect_recovery(app: Celery) -> None:
    """Start a Sweeper in each Redis-mode worker once it is ready; stop it when the worker shuts down."""
    sweepers: list[Sweeper] = []

    def start(sender: Any = None, **kwargs: Any) -> None:
        from django.conf import settings

        url = str(app.conf.broker_url or "")
        if not url.startswith(("redis://", "rediss://")):
            return  # the embedded in-memory broker lives and dies with the web process
        sweeper = Sweeper(url, max(1.0, settings.RENDER_STALE_AFTER / 2))
        sweepers.append(sweeper)
        sweeper.thread.start()

    def stop(sender: Any = None, **kwargs: Any) -> None:
        while sweepers:
            sweepers.pop().stopped.set()

    worker_ready.connect(start, weak=False)
    worker_shutting_down.connect(stop, weak=False)
