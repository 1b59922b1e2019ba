"""Workers say they are alive: a timestamp in the shared cache, written every WORKER_HEARTBEAT_INTERVAL.

/readyz reads the last beat, so an operator (or an orchestrator) sees when no worker is left to take
renders, even though the web pages still serve. Each worker (a `celery worker` process, or the embedded
worker thread of the web process) starts its beat when Celery says it is ready and stops it on shutdown.
The cache is Redis in the services mode (shared by all processes) and in-process memory in the embedded
mode, where the worker lives in the web process itself.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, TypedDict, cast

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
KEY = "worker-heartbeat"


class Beat(TypedDict):
    at: float  # time.time() of the beat
    worker: str  # the worker's hostname, e.g. renders@host


def beat(worker: str) -> None:
    """Record that `worker` is alive now. Kept for a day: an old beat must read as stale, not as absent."""
    cache.set(KEY, Beat(at=time.time(), worker=worker), timeout=24 * 3600)


def last_beat() -> Beat | None:
    value = cache.get(KEY)
    return cast(Beat, value) if isinstance(value, dict) and "at" in value else None


class Heartbeat:
    """A daemon thread beating until stopped; a failed write (Redis away) is logged and retried."""

    def __init__(self, worker: str, interval: float) -> None:
        self.worker = worker
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                beat(self.worker)
            except Exception:  # the next beat retries; the worker itself must not die of it
                log.warning("worker heartbeat could not be written", exc_info=True)
            self.stopped.wait(self.interval)


_running: list[Heartbeat] = []


def _on_ready(sender: Any = None, **_: Any) -> None:
    worker = str(getattr(sender, "hostname", "") or "worker")
    _running.append(Heartbeat(worker, settings.WORKER_HEARTBEAT_INTERVAL).start())
    log.info("worker heartbeat started", extra={"event": "worker.heartbeat", "worker": worker})


def _on_shutdown(**_: Any) -> None:
    while _running:
        _running.pop().stop()


def connect_heartbeat(app: Celery) -> None:
    """Beat from every worker of `app` once it is ready (signals are global; the app is for symmetry)."""
    del app
    worker_ready.connect(_on_ready, weak=False, dispatch_uid="adstudio-heartbeat-ready")
    worker_shutdown.connect(_on_shutdown, weak=False, dispatch_uid="adstudio-heartbeat-shutdown")
