"""/healthz and /readyz: real parts failing for real (a refused broker, a file where storage should be)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from adstudio import heartbeat
from tests.web.cli import ROOT, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(settings, tmp_path: Path) -> Path:
    """Every part ready: writable media, a fresh worker beat; the broker is the test run's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.READY_MIN_FREE_MB = 1
    heartbeat.beat("tests@here")
    yield settings.MEDIA_ROOT
    cache.delete(heartbeat.KEY)


def readyz(client: Client | None = None) -> tuple[int, dict]:
    response = (client or Client()).get("/readyz")
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.status_code, json.loads(response.content)


def test_healthz_answers_without_touching_anything(settings, django_assert_num_queries) -> None:
    settings.ALLOWED_HOSTS = ["ads.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST="10.0.0.7:8000").get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "Set-Cookie" not in response.headers and Client().post("/healthz").status_code == 405


def test_ready_when_every_part_is(ready: Path) -> None:
    status, body = readyz()
    assert status == 200, body
    assert body["ready"] is True and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "storage", "ffmpeg", "worker"}
    assert body["checks"]["storage"]["free_mb"] > 1 and body["checks"]["worker"]["last_beat_age_s"] <= 1
    assert not list(ready.iterdir())  # the write probe leaves nothing behind


def test_unreachable_broker_is_named_and_its_password_is_not(ready: Path, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://:hunter2-broker-secret@127.0.0.1:1/0"  # port 1: refused
    status, body = readyz()
    assert status == 503 and body["failing"] == ["broker"], body
    assert body["checks"]["broker"]["error"] == "OperationalError"
    assert "hunter2" not in json.dumps(body) and "127.0.0.1" not in json.dumps(body)


def test_unwritable_storage_is_named(ready: Path, settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    status, body = readyz()
    assert status == 503 and body["failing"] == ["storage"], body
    assert str(tmp_path) not in json.dumps(body)  # no paths either
    if os.geteuid() != 0:  # root writes through permissions, so only a non-root run can test this one
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        settings.MEDIA_ROOT = locked
        assert readyz()[1]["failing"] == ["storage"]


def test_low_free_space_is_named(ready: Path, settings) -> None:
    settings.READY_MIN_FREE_MB = 10**12  # an exabyte: no disk has it
    status, body = readyz()
    assert status == 503 and body["failing"] == ["storage"]
    assert body["checks"]["storage"]["error"] == "low on free space"


def test_a_silent_worker_is_named(ready: Path, settings) -> None:
    cache.set(heartbeat.KEY, {"at": time.time() - 3600, "worker": "gone@host"})
    status, body = readyz()
    assert status == 503 and body["failing"] == ["worker"] and body["checks"]["worker"]["last_beat_age_s"] >= 3599
    cache.delete(heartbeat.KEY)
    assert readyz()[1]["checks"]["worker"] == {"ok": False, "error": "no worker heartbeat yet"}


def test_probes_are_not_rate_limited(ready: Path, settings) -> None:
    settings.RATE_UPLOADS_PER_IP = settings.RATE_RENDERS_PER_IP = 1
    settings.RATE_UPLOADS_PER_SESSION = settings.RATE_RENDERS_PER_SESSION = 1
    client = Client(REMOTE_ADDR="10.9.9.9")
    assert {client.get(path).status_code for path in ["/healthz", "/readyz"] * 10} == {200}


def test_heartbeat_thread_beats_until_stopped(settings) -> None:
    cache.delete(heartbeat.KEY)
    beating = heartbeat.Heartbeat("thread@here", interval=0.05).start()
    deadline = time.monotonic() + 10
    while heartbeat.last_beat() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    beating.stop()
    beating.thread.join(5)
    beat = heartbeat.last_beat()
    assert beat is not None and beat["worker"] == "thread@here" and not beating.thread.is_alive()
    cache.delete(heartbeat.KEY)


def test_everything_down_in_the_services_mode(tmp_path: Path) -> None:
    """A web process whose Postgres, Redis and ffmpeg are all gone: /healthz 200, /readyz 503 naming each."""
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({
        "DEBUG": "true", "MEDIA_ROOT": str(tmp_path / "media"), "READY_MIN_FREE_MB": "1",
        "DATABASE_URL": "postgres://adstudio:db-secret-pw@127.0.0.1:1/adstudio",
        "REDIS_URL": "redis://:redis-secret-pw@127.0.0.1:1/0", "IMAGEIO_FFMPEG_EXE": str(broken),
    })
    (tmp_path / "media").mkdir()
    code = (
        "from django.test import Client; c = Client(); h = c.get('/healthz'); r = c.get('/readyz'); "
        "print(h.status_code, r.status_code); print(r.content.decode().replace(chr(10), ' '))"
    )
    proc = run(env, "shell", "-c", code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, body = proc.stdout.strip().splitlines()[-2:]
    assert first.split() == ["200", "503"], proc.stdout
    report = json.loads(body)
    assert report["failing"] == ["database", "broker", "ffmpeg", "worker"], report
    assert "secret" not in body and str(ROOT) not in body
