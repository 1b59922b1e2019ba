"""kill -9 a worker mid-render: the render is redelivered and completes, once, and no one sees half a file.

The dead worker's message comes back two ways, and both are exercised: Redis restores the unacked
message after the visibility timeout (when the next worker starts), and the recovery sweep re-enqueues
the render once its heartbeat is stale. Exactly one delivery may claim it; the other must do nothing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.conftest import run_ffmpeg
from tests.reliability.harness import assert_one_complete_output, files_under, submit, wait_until_final
from tests.web.factories import analysed_template

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

VISIBILITY_S = 10
STALE_S = 5
FAST_RECOVERY = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_S), "RENDER_STALE_AFTER": str(STALE_S)}


@pytest.fixture
def long_template(media: Path, carphone_clip: Path, tmp_path: Path) -> Template:
    """All 4 s of carphone at 352x288: a swap long enough (several progress beats) to be caught mid-way."""
    clip = tmp_path / "long.mp4"
    run_ffmpeg("-i", str(carphone_clip), "-vf", "scale=352:288:flags=lanczos", "-c:v", "libx264",
               "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(clip))
    return analysed_template(clip, "Reliability long")


def wait_mid_render(render: Render, timeout: float = 60) -> float:
    """Poll until the swap is well under way but not near its end; returns the fraction seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        render.refresh_from_db()
        assert render.state in (Render.State.QUEUED, Render.State.RUNNING), (render.state, render.error)
        if render.state == Render.State.RUNNING and render.stage == "swap" and 0.1 <= render.progress <= 0.85:
            return render.progress
        time.sleep(0.02)
    raise AssertionError(f"never saw the render mid-swap: {render.state} {render.stage} {render.progress}")


def test_killed_worker_render_is_redelivered_once(workers, long_template, astronaut_jpg: Path, media: Path) -> None:
    victim = workers("victim", env=FAST_RECOVERY)
    render, fan = submit(long_template, astronaut_jpg)
    wait_mid_render(render)
    victim.kill9()
    killed_at = time.monotonic()

    render.refresh_from_db()
    assert render.state == Render.State.RUNNING and render.attempts == 1
    # Whatever the dead worker half-wrote stays in its scratch folder, which nothing serves.
    assert files_under(media / "renders") == []
    assert Client().get(reverse("ads:share", args=[render.share_token])).status_code == 404
    assert fan.get(render.get_absolute_url()).status_code == 200

    # Start the replacement once Redis would hand the unacked message out again.
    time.sleep(max(0.0, VISIBILITY_S + 1 - (time.monotonic() - killed_at)))
    rescuer = workers("rescuer", env=FAST_RECOVERY)
    (render,) = wait_until_final([render.pk], timeout=90)

    assert render.state == Render.State.DONE, (render.message, render.error)
    assert render.attempts == 2 and render.worker.startswith("rescuer@")
    assert_one_complete_output(render, media)
    assert files_under(media / "work") == []  # the dead attempt's half-written MP4 was removed
    assert not render.selfie and files_under(media / "selfies") == []

    # Two deliveries reached the rescuer (Redis's restore and the sweep's re-enqueue): one ran, one did nothing.
    deadline = time.monotonic() + 30
    while len(re.findall(r"render_ad\[[0-9a-f-]+\] received", rescuer.text())) < 2:
        assert time.monotonic() < deadline, rescuer.text()[-3000:]
        time.sleep(0.3)
    while rescuer.text().count("'not claimed'") < 1:
        assert time.monotonic() < deadline, rescuer.text()[-3000:]
        time.sleep(0.3)
    assert rescuer.text().count("succeeded in") == 2 and rescuer.text().count("'done'") == 1
    assert files_under(media / "renders" / render.public_id.hex) == ["ad.mp4", "poster.jpg"]
    render.refresh_from_db()
    assert render.attempts == 2
