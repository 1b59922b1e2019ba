"""A render whose message never reached a worker (lost by the broker, or never published) still runs.

The web commits the render, then publishes its task; if that message is lost, nothing but the
recovery sweep would ever look at the row again. Here the queue is emptied by hand (the broker's
marker is left in place, so this is the "queued too long" rule, not the "broker wiped" one).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from adstudio.renders.models import Render
from adstudio.renders.recovery import MARKER_KEY
from tests.reliability.harness import assert_one_complete_output, submit, wait_until_final

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def test_queued_render_without_a_message_is_run(
    settings, workers, template, astronaut_jpg: Path, media: Path
) -> None:
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.set(MARKER_KEY, "not wiped")
    render, _ = submit(template, astronaut_jpg)
    assert broker.llen("renders") == 1
    broker.delete("renders")  # the message is gone; the row says queued
    Render.objects.filter(pk=render.pk).update(created_at=timezone.now() - timedelta(seconds=30))

    worker = workers("orphans", env={"RENDER_STALE_AFTER": "5"})
    (render,) = wait_until_final([render.pk], timeout=60)

    assert render.state == Render.State.DONE, (render.message, render.error)
    assert render.attempts == 1
    assert_one_complete_output(render, media)
    assert f"re-enqueued 1 render(s) the broker had lost: [{render.pk}]" in worker.text()
