"""The render state machine: claimed once, ends once, erases the selfie, can be taken over when stale."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_claim_moves_queued_to_running_once() -> None:
    render = make_render(make_template())
    claimed = Render.objects.claim(render.pk, "w1")
    assert claimed is not None
    assert (claimed.state, claimed.worker, claimed.attempts) == ("running", "w1", 1)
    assert Render.objects.claim(render.pk, "w2") is None  # a duplicate delivery does nothing


def test_stale_running_render_can_be_taken_over(settings) -> None:
    render = make_render(make_template())
    Render.objects.claim(render.pk, "w1")
    Render.objects.filter(pk=render.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.RENDER_STALE_AFTER + 5)
    )
    again = Render.objects.claim(render.pk, "w2")
    assert again is not None and again.worker == "w2" and again.attempts == 2


@pytest.mark.parametrize("end", ["finish", "fail", "cancel"])
def test_final_states_are_final(end: str) -> None:
    render = Render.objects.claim(make_render(make_template()).pk, "w")
    assert render is not None
    ok = {"finish": lambda: render.finish("a.mp4", "a.jpg"), "fail": lambda: render.fail("msg", "tb"),
          "cancel": render.cancel}[end]()
    assert ok and render.is_final
    assert not render.cancel() and not render.fail("late", "late")
    assert Render.objects.claim(render.pk, "w2") is None
    render.refresh_from_db()
    assert render.state == {"finish": "done", "fail": "failed", "cancel": "cancelled"}[end]


def test_progress_is_refused_after_cancel() -> None:
    render = Render.objects.claim(make_render(make_template()).pk, "w")
    assert render is not None
    assert render.record_progress("swap", 0.5)
    Render.objects.get(pk=render.pk).cancel()
    assert not render.record_progress("swap", 0.6)


def test_failure_keeps_user_message_and_technical_error_apart() -> None:
    render = make_render(make_template())
    render.fail("Only one person in the photo, please.", "several_faces: 2 faces", "several_faces")
    render.refresh_from_db()
    assert render.message.startswith("Only one person")
    assert render.error_code == "several_faces" and "2 faces" in render.error


def test_erase_selfie_removes_file_and_field(media: Path) -> None:
    render = make_render(make_template())
    path = Path(render.selfie.path)
    assert path.exists()
    render.erase_selfie()
    render.refresh_from_db()
    assert not path.exists() and render.selfie.name == ""


def test_share_token_is_long_and_unique() -> None:
    template = make_template()
    tokens = {make_render(template).share_token for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) >= 32 for t in tokens)  # 24 bytes = 192 bits, base64url
