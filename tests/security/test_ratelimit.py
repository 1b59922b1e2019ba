"""Rate limits per IP and per session on uploads and renders: a 429 page that says what to do."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from adstudio.renders.models import Render
from tests.security.conftest import random_ip
from tests.web.factories import make_template
from tests.web.selfies import face_bytes

pytestmark = pytest.mark.django_db


def post(client: Client, slug: str, data: bytes | None = None):
    selfie = SimpleUploadedFile("a.jpg", face_bytes() if data is None else data)
    return client.post(reverse("ads:personalise", args=[slug]), {"name": "Asha", "consent": "on", "selfie": selfie})


def assert_limited(response, what: str) -> None:
    html = response.content.decode()
    assert response.status_code == 429, response.status_code
    assert f"Too many {what} from your connection" in html and "Please wait about" in html
    assert 'role="alert"' in html
    assert 0 < int(response["Retry-After"]) <= 600


def test_uploads_per_session(media, settings) -> None:
    settings.RATE_UPLOADS_PER_SESSION, settings.RATE_UPLOADS_PER_IP = 3, 100
    template = make_template()
    fan = Client(REMOTE_ADDR=random_ip())
    for _ in range(3):  # refused uploads count too: they cost us a decode each
        assert post(fan, template.slug, b"not a photo").status_code == 200
    assert_limited(post(fan, template.slug), "photos sent")
    assert Render.objects.count() == 0
    # Another fan on another connection is not affected.
    assert post(Client(REMOTE_ADDR=random_ip()), template.slug).status_code == 302


def test_uploads_per_ip_across_sessions(media, settings) -> None:
    settings.RATE_UPLOADS_PER_SESSION, settings.RATE_UPLOADS_PER_IP = 100, 4
    template = make_template()
    ip = random_ip()
    for _ in range(4):
        assert post(Client(REMOTE_ADDR=ip), template.slug, b"nope").status_code == 200  # a new session each time
    assert_limited(post(Client(REMOTE_ADDR=ip), template.slug), "photos sent")


def test_renders_per_session(media, settings) -> None:
    settings.RATE_RENDERS_PER_SESSION, settings.MAX_ACTIVE_RENDERS_PER_SESSION = 2, 100
    template = make_template()
    fan = Client(REMOTE_ADDR=random_ip())
    assert [post(fan, template.slug).status_code for _ in range(2)] == [302, 302]
    assert_limited(post(fan, template.slug), "ads made")
    assert Render.objects.count() == 2


def test_renders_per_ip(media, settings) -> None:
    settings.RATE_RENDERS_PER_IP = 2
    template = make_template()
    ip = random_ip()
    assert [post(Client(REMOTE_ADDR=ip), template.slug).status_code for _ in range(2)] == [302, 302]
    assert_limited(post(Client(REMOTE_ADDR=ip), template.slug), "ads made")


def test_window_turns_over(media, settings, monkeypatch) -> None:
    import time

    settings.RATE_UPLOADS_PER_SESSION, settings.RATE_LIMIT_WINDOW = 1, 60
    template = make_template()
    fan = Client(REMOTE_ADDR=random_ip())
    now = [1_000_020.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    assert post(fan, template.slug).status_code == 302
    assert post(fan, template.slug).status_code == 429
    now[0] += 60
    assert post(fan, template.slug).status_code == 302
