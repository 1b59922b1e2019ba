"""Expiry: ads older than RENDER_TTL_DAYS are deleted (files and rows) by the command and the beat task."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from adstudio.renders.models import Render
from adstudio.renders.tasks import expire_renders
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


def aged(days: float, state: str = Render.State.DONE) -> Render:
    render = make_render(make_template(f"Ad {days}"), state=state)
    render.video.save(f"renders/{render.public_id.hex}/ad.mp4", ContentFile(b"video"), save=False)
    render.created_at = timezone.now() - timedelta(days=days)
    render.save()
    return render


def files_of(render: Render) -> list[Path]:
    return [Path(f.path) for f in (render.video, render.selfie) if f]


def test_command_deletes_expired_ads_and_keeps_fresh_ones(media: Path, settings) -> None:
    settings.RENDER_TTL_DAYS = 30
    old, stale_failed, fresh = aged(31), aged(45, Render.State.FAILED), aged(29)
    old_files = files_of(old) + files_of(stale_failed)
    assert all(p.exists() for p in old_files)
    out = StringIO()
    call_command("expire_renders", stdout=out)
    assert "2 render(s) older than 30 days deleted" in out.getvalue()
    assert list(Render.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not any(p.exists() for p in old_files)
    assert all(p.exists() for p in files_of(fresh))


def test_renders_left_unfinished_lose_their_selfie(media: Path, settings) -> None:
    settings.SELFIE_MAX_HOURS = 24
    lost = make_render(make_template("Lost"), state=Render.State.RUNNING)
    Render.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=25))
    fresh = make_render(make_template("Fresh"))
    selfies = [Path(lost.selfie.path), Path(fresh.selfie.path)]
    out = StringIO()
    call_command("expire_renders", stdout=out)
    assert "1 unfinished render(s) older than 24 h failed" in out.getvalue()
    lost.refresh_from_db()
    assert lost.state == Render.State.FAILED and lost.error_code == "abandoned" and not lost.selfie
    assert not selfies[0].exists() and selfies[1].exists()  # a render queued an hour ago keeps its selfie
    assert not lost.record_progress("swap", 0.5)  # a worker still holding it would stop at its next update


def test_ttl_comes_from_settings(media: Path, settings) -> None:
    settings.RENDER_TTL_DAYS = 2
    aged(3)
    keep = aged(1)
    assert expire_renders.apply().get() == 1  # the Celery task, run eagerly: same code as beat runs
    assert list(Render.objects.all()) == [keep]


def test_beat_runs_expiry_hourly() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["expire-renders"]
    assert entry["task"] == "adstudio.ads.tasks.expire_renders" and entry["schedule"] == 3600.0
    from adstudio.celery import app

    assert "adstudio.ads.tasks.expire_renders" in app.tasks
    assert app.conf.beat_schedule["expire-renders"]["schedule"] == 3600.0


def test_default_ttl_is_30_days(monkeypatch) -> None:
    import subprocess
    import sys

    monkeypatch.delenv("RENDER_TTL_DAYS", raising=False)
    code = "import adstudio.settings as s; print(s.RENDER_TTL_DAYS)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "30"


@pytest.mark.django_db(transaction=True)
def test_embedded_worker_expires_at_start(media: Path, settings) -> None:
    """The embedded mode has no beat: the worker's timer queues the same task as soon as it starts."""
    import time

    if settings.CELERY_BROKER_URL != "memory://":
        pytest.skip("the embedded worker exists only without REDIS_URL")

    from adstudio.celery import app
    from adstudio.worker import start_embedded_worker

    settings.RENDER_TTL_DAYS = 30
    old = aged(40)
    worker = start_embedded_worker(app)
    try:
        deadline = time.monotonic() + 30
        while Render.objects.filter(pk=old.pk).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Render.objects.filter(pk=old.pk).exists()
    finally:
        worker.stop(in_sighandler=False)
