"""An integrator's walk, end to end in the embedded mode: a key from create_api_key, the templates list,
POST /api/v1/renders with a real selfie, polling GET until done, and the MP4 downloaded with the key."""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from adstudio.celery import app as celery_app
from adstudio.worker import start_embedded_worker
from tests.e2e.journey import publish_through_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def embedded_worker(settings, tmp_path: Path):
    assert settings.CELERY_BROKER_URL == "memory://"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ENGINE_CACHE_DIR = tmp_path / "media" / "analysis"
    settings.RENDER_WORK_DIR = tmp_path / "media" / "work"
    worker = start_embedded_worker(celery_app)
    yield worker
    worker.stop(in_sighandler=False)


def test_integrator_walk(embedded_worker, talking_clip: Path, astronaut_jpg: Path) -> None:
    template = publish_through_worker(talking_clip, "Car phone")
    out = StringIO()
    call_command("create_api_key", "Cadbury", stdout=out)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {out.getvalue().strip().splitlines()[-1]}"}
    client = Client()

    listed = client.get("/api/v1/templates", **auth).json()
    assert [t["slug"] for t in listed] == [template.slug] and listed[0]["needs_selfie"]
    with astronaut_jpg.open("rb") as selfie:
        created = client.post("/api/v1/renders", {"template": template.slug, "name": "Asha", "selfie": selfie},
                              HTTP_IDEMPOTENCY_KEY="walk-1", **auth)
    assert created.status_code == 201, created.content
    render_id = created.json()["id"]

    deadline, progress, body = time.monotonic() + 300, [], {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/renders/{render_id}", **auth).json()
        progress.append(body["progress"])
        if body["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.5)
    assert body["state"] == "done", body
    assert progress == sorted(progress) and body["progress"] == 1.0
    video = client.get(body["video_url"], **auth)
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    data = b"".join(video.streaming_content)
    assert data[4:8] == b"ftyp" and len(data) > 10_000
    assert client.get(body["share_url"]).status_code == 200
