"""/healthz and /readyz, answered by the first middleware, before anything else runs.

- /healthz: 200 while the process serves requests. It touches nothing (no database, no cache, no session),
  so a restart policy never kills a web process because a service behind it is down.
- /readyz: whether this deployment can make ads now. JSON with one entry per part (database, broker,
  storage, ffmpeg, worker); 200 when all are ready, 503 naming the failing parts otherwise.

Sitting before SecurityMiddleware, neither is redirected to HTTPS (the probes of a load balancer or of
Docker speak plain HTTP on the inside; SECURE_REDIRECT_EXEMPT says the same for the record), nor checked
against ALLOWED_HOSTS (a probe addresses the container, not the site's name); they are not rate-limited.
Neither reveals a secret: no URL, path, host name or exception text, only the name of what failed (the
details go to the log for the operator).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from adstudio.heartbeat import last_beat

log = logging.getLogger(__name__)
Check = dict[str, Any]  # {"ok": bool, ...facts safe to publish}


def check_database() -> Check:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> Check:
    """One connection attempt to the Celery broker (Redis, or the embedded in-memory one), no retries."""
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=0, timeout=3)
    return {"ok": True}


def check_storage() -> Check:
    """MEDIA_ROOT takes a file (written, flushed, removed) and has READY_MIN_FREE_MB left.

    A fresh deployment's folder may not exist yet: made here, as the storage would on its first save.
    """
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".readyz-") as probe:
        probe.write(b"ready")
        probe.flush()
    free_mb = shutil.disk_usage(root).free // (1024 * 1024)
    enough = free_mb >= settings.READY_MIN_FREE_MB
    result: Check = {"ok": enough, "free_mb": free_mb, "min_free_mb": settings.READY_MIN_FREE_MB}
    if not enough:
        result["error"] = "low on free space"
    return result


def check_ffmpeg() -> Check:
    from swapengine import ffmpeg_version

    return {"ok": bool(ffmpeg_version())}


def check_worker() -> Check:
    """The newest beat of any worker (adstudio/heartbeat.py), fresh within WORKER_HEARTBEAT_MAX_AGE."""
    beat = last_beat()
    if beat is None:
        return {"ok": False, "error": "no worker heartbeat yet"}
    age = max(0, round(time.time() - float(beat["at"])))
    fresh = age <= settings.WORKER_HEARTBEAT_MAX_AGE
    result: Check = {"ok": fresh, "last_beat_age_s": age}
    if not fresh:
        result["error"] = "last worker heartbeat too old"
    return result


CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "ffmpeg": check_ffmpeg,
    "worker": check_worker,
}


def readiness() -> tuple[bool, dict[str, Check]]:
    """Run every check; a check that raises is failing, named by the exception's type only."""
    results: dict[str, Check] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a part is that part not being ready
            log.warning("readiness: %s failed", name, exc_info=True, extra={"event": "readyz", "stage": name})
            results[name] = {"ok": False, "error": type(exc).__name__}
    return all(result["ok"] for result in results.values()), results


def healthz() -> HttpResponse:
    response = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def readyz() -> HttpResponse:
    ready, results = readiness()
    failing = [name for name, result in results.items() if not result["ok"]]
    body = {"ready": ready, "failing": failing, "checks": results}
    response = JsonResponse(body, status=200 if ready else 503, json_dumps_params={"indent": 1})
    response["Cache-Control"] = "no-store"
    if failing:
        log.warning("not ready: %s", ", ".join(failing), extra={"event": "readyz", "outcome": "not_ready"})
        response._has_been_logged = True  # type: ignore[attr-defined] # not again as a server error
    return response


ROUTES: dict[str, Callable[[], HttpResponse]] = {
    "/healthz": healthz, "/healthz/": healthz, "/readyz": readyz, "/readyz/": readyz,
}


class HealthMiddleware:
    """Answers the two probe paths itself; every other request passes through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        route = ROUTES.get(request.path_info)
        if route is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return route()

