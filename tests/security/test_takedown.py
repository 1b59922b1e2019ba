"""Admin takedown: the share page 404s straight away, the files are deleted, the owner's page goes too."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from adstudio.renders.models import Render
from tests.security.conftest import random_ip
from tests.web.factories import make_done_render, make_render, make_template

pytestmark = pytest.mark.django_db


def finished_render(session: str) -> Render:
    render = make_done_render(
        make_template(), video=b"\x00\x00\x00\x18ftypmp42 video", poster=b"\xff\xd8\xff poster", session=session
    )
    render.erase_selfie()
    return render


def test_take_down_hides_at_once_and_deletes_files(admin_client, media: Path) -> None:
    fan = Client(REMOTE_ADDR=random_ip())
    fan.get(reverse("ads:catalog"))
    fan.session.save()
    render = finished_render(session=fan.session.session_key or "")
    token = render.share_token
    urls = [reverse(name, args=[token]) for name in ("ads:share", "ads:share_video", "ads:share_poster")]
    assert [fan.get(url).status_code for url in urls] == [200, 200, 200]
    files = [Path(render.video.path), Path(render.poster.path)]

    response = admin_client.post(
        reverse("admin:renders_render_changelist"),
        {"action": "take_down", "_selected_action": [render.pk]},
        follow=True,
    )
    assert "Took down 1 ad(s)" in response.content.decode()
    assert [Client().get(url).status_code for url in urls] == [404, 404, 404]  # right after, no waiting
    assert not any(path.exists() for path in files)
    render.refresh_from_db()
    assert render.taken_down_at is not None and not render.video and not render.poster
    assert fan.get(render.get_absolute_url()).status_code == 404  # the owner's page is gone too
    assert "share_url" not in render.payload()  # and a connected page is not handed the link


def test_take_down_is_staff_only(client, media: Path) -> None:
    render = finished_render(session="x" * 32)
    response = client.post(reverse("admin:renders_render_changelist"), {"action": "take_down",
                                                                     "_selected_action": [render.pk]})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    render.refresh_from_db()
    assert render.taken_down_at is None and Path(render.video.path).exists()


def test_take_down_stops_a_running_render(media: Path) -> None:
    render = make_render(make_template(), state=Render.State.RUNNING)
    render.take_down()
    render.refresh_from_db()
    assert render.state == Render.State.CANCELLED and render.taken_down_at is not None
    assert not render.selfie  # the running render's progress callback now raises Cancelled and it stops
    assert not render.record_progress("swap", 0.5)
