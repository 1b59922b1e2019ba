"""The render page's preview still: offered while running, to the owner only, gone when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RENDER_WORK_DIR = tmp_path / "work"


def owner_client() -> tuple[Client, str]:
    client = Client()
    client.get("/")  # a session of its own
    session = client.session
    session.save()
    return client, session.session_key


def running_render_with_preview(session: str) -> Render:
    render = Render.objects.claim(make_render(make_template(), session=session).pk, "w")
    assert render is not None
    render.preview_path().parent.mkdir(parents=True)
    render.preview_path().write_bytes(b"\xff\xd8\xff\xe0 a jpeg")
    return render


def test_payload_offers_the_preview_only_while_running() -> None:
    client, key = owner_client()
    render = running_render_with_preview(key)
    url = reverse("ads:render_preview", args=[render.public_id])
    assert render.payload()["preview_url"] == url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")

    render.finish("renders/x/ad.mp4", "renders/x/poster.jpg")
    assert "preview_url" not in render.payload()
    assert client.get(url).status_code == 404


def test_strangers_never_get_the_preview() -> None:
    _, key = owner_client()
    render = running_render_with_preview(key)
    stranger, _ = owner_client()
    assert stranger.get(reverse("ads:render_preview", args=[render.public_id])).status_code == 404


def test_no_preview_before_the_first_frame() -> None:
    client, key = owner_client()
    render = Render.objects.claim(make_render(make_template(), session=key).pk, "w")
    assert render is not None and "preview_url" not in render.payload()
    assert client.get(reverse("ads:render_preview", args=[render.public_id])).status_code == 404
