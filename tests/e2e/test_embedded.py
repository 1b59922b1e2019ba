"""End to end in the embedded mode: SQLite, in-memory broker, worker thread, in-memory channel layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from adstudio.celery import app as celery_app
from adstudio.worker import start_embedded_worker
from tests.e2e.journey import assert_face_is_the_fans, assert_progress_in_order, make_ad, publish_through_worker

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


def test_selfie_to_shared_ad(embedded_worker, talking_clip: Path, astronaut_jpg: Path, tmp_path: Path) -> None:
    template = publish_through_worker(talking_clip, "Car phone")

    journey = make_ad(Client(), template, astronaut_jpg, tmp_path)

    assert_progress_in_order(journey.messages)
    assert not journey.render.selfie  # erased once the render ended
    assert_face_is_the_fans(journey.video, talking_clip, astronaut_jpg)
