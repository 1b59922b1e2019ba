"""End to end in the services mode: Postgres, Redis broker and channel layer, a separate worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from tests.e2e.journey import assert_face_is_the_fans, assert_progress_in_order, make_ad, publish_through_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def worker_process(settings, tmp_path: Path):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("services mode needs REDIS_URL and a postgres DATABASE_URL (run `make test-services`)")
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.ENGINE_CACHE_DIR = media / "analysis"
    settings.RENDER_WORK_DIR = media / "work"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(media),
        "ENGINE_CACHE_DIR": str(media / "analysis"),
        "RENDER_WORK_DIR": str(media / "work"),
    }
    log = tmp_path / "worker.log"
    argv = [sys.executable, "-m", "celery", "-A", "adstudio", "worker", "-Q", "renders,analysis",
            "-c", "1", "-n", "e2e@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_selfie_to_shared_ad(worker_process, talking_clip: Path, astronaut_jpg: Path, tmp_path: Path) -> None:
    template = publish_through_worker(talking_clip, "Car phone")

    journey = make_ad(Client(), template, astronaut_jpg, tmp_path)

    assert_progress_in_order(journey.messages)
    assert journey.render.worker.startswith("e2e@")
    assert not journey.render.selfie
    assert_face_is_the_fans(journey.video, talking_clip, astronaut_jpg)
