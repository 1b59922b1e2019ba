"""Services-mode fixtures: Postgres (the test database), Redis, separate worker processes, a tmp MEDIA_ROOT."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from adstudio.catalog.models import Template
from tests.conftest import run_ffmpeg
from tests.reliability.procs import NO_RATE_LIMITS, Proc, start_worker
from tests.web.factories import analysed_template


@pytest.fixture(scope="session")
def small_clip(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Carphone at twice its size, 1.5 s: big enough for the face, small enough to render in about 1 s."""
    out = tmp_path_factory.mktemp("reliability") / "small.mp4"
    run_ffmpeg("-i", str(carphone_clip), "-t", "1.5", "-vf", "scale=352:288:flags=lanczos",
               "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(out))
    return out


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    """A fresh MEDIA_ROOT for the web side of the test and its workers; the Redis database flushed."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("reliability tests need REDIS_URL and a postgres DATABASE_URL (run `make test-services`)")
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.ENGINE_CACHE_DIR = root / "analysis"
    settings.RENDER_WORK_DIR = root / "work"
    for name, value in NO_RATE_LIMITS.items():
        setattr(settings, name, int(value))
    return root


@pytest.fixture
def service_env(media: Path) -> dict[str, str]:
    """The environment a worker or web process needs to share this test's database and media."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        **NO_RATE_LIMITS,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(media),
        "ENGINE_CACHE_DIR": str(media / "analysis"),
        "RENDER_WORK_DIR": str(media / "work"),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def template(media: Path, small_clip: Path) -> Template:
    """A published, analysed template (analysed here; workers then hit the engine's cache)."""
    return analysed_template(small_clip, "Reliability")


@pytest.fixture
def workers(service_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """Start named workers (extra env per worker); all are stopped at the end, whatever happened."""
    started: list[Proc] = []

    def start(name: str, wait: bool = True, env: dict[str, str] | None = None, **popen: Any) -> Proc:
        worker = start_worker(name, {**service_env, **(env or {})}, tmp_path, **popen)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
