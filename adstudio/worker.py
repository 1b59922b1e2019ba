"""The embedded worker: a real Celery worker on the in-memory broker, in a thread of the web process.

It runs the same tasks through the same `.delay()` path as the separate workers of the Redis mode; it only
saves a fresh machine from needing a broker.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.signals import worker_ready
from celery.worker import WorkController

log = logging.getLogger(__name__)


class EmbeddedWorkController(WorkController):
    """Says `worker_ready` once consuming, as the `celery worker` command does (its heartbeat starts on it)."""

    def on_consumer_ready(self, consumer: object) -> None:
        super().on_consumer_ready(consumer)
        worker_ready.send(sender=consumer)


def start_embedded_worker(app: Celery, queues: tuple[str, ...] = ("renders", "analysis")) -> WorkController:
    worker = EmbeddedWorkController(
        app=app,
        pool_cls="solo",
        concurrency=1,
        queues=list(queues),
        hostname="embedded@localhost",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="INFO",
    )
    thread = threading.Thread(target=worker.start, name="embedded-celery-worker", daemon=True)
    thread.start()
    log.info("embedded worker started in-process (no REDIS_URL): one render at a time")
    start_expiry_timer()
    return worker


def start_expiry_timer(every: float = 3600.0) -> threading.Thread:
    """The embedded stand-in for `celery beat`: queue the expiry task now, then every hour."""
    from adstudio.renders.tasks import expire_renders

    def loop() -> None:
        while True:
            try:
                expire_renders.delay()
            except Exception:  # a missed round is retried next hour; the timer must not die
                log.warning("could not queue expire_renders", exc_info=True)
            time.sleep(every)

    thread = threading.Thread(target=loop, name="embedded-expiry-timer", daemon=True)
    thread.start()
    return thread
