"""The render page: only its owner (or staff) sees it; it shows the true state without JavaScript."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def own_render(client, **fields: object) -> Render:
    """A render whose owner session is the test client's."""
    session = client.session
    session["fan"] = True
    session.save()
    return make_render(make_template(), session=session.session_key, **fields)


def finished(render: Render, media: Path) -> Render:
    folder = media / "renders" / render.public_id.hex
    folder.mkdir(parents=True)
    (folder / "ad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 video")
    (folder / "poster.jpg").write_bytes(b"\xff\xd8\xff poster")
    name = f"renders/{render.public_id.hex}"
    assert render.finish(f"{name}/ad.mp4", f"{name}/poster.jpg")
    return render


def test_queued_render_shows_progress_and_opens_websocket(client) -> None:
    render = own_render(client)
    Render.objects.filter(pk=render.pk).update(state="running", stage="swap", progress=0.374,
                                               message="Putting you in the ad")
    response = client.get(render.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert '<progress id="bar" max="100" value="37">' in html
    assert "37%" in html and "Putting you in the ad" in html
    assert f'data-ws-path="/ws/renders/{render.public_id}/"' in html
    assert 'id="done" hidden' in html and 'id="failed" role="alert" hidden' in html
    assert "js/render.js" in html
    assert "no-cache" in response["Cache-Control"]


def test_done_render_shows_player_and_share_links(client, media: Path) -> None:
    render = finished(own_render(client), media)
    html = client.get(render.get_absolute_url()).content.decode()
    video = reverse("ads:share_video", args=[render.share_token])
    assert 'id="working" hidden' in html
    assert f'src="{video}"' in html
    assert f'poster="{reverse("ads:share_poster", args=[render.share_token])}"' in html
    assert f'value="http://testserver/a/{render.share_token}/"' in html
    assert "https://wa.me/?text=Watch%20my%20Diwali%20wishes%20ad%3A%20http%3A%2F%2Ftestserver%2Fa%2F" in html
    assert f'href="{video}?download=1" download' in html
    assert 'id="copy"' in html


def test_share_links_use_site_url_when_set(client, media: Path, settings) -> None:
    settings.SITE_URL = "https://ads.example.com/"
    render = finished(own_render(client), media)
    html = client.get(render.get_absolute_url()).content.decode()
    assert f'value="https://ads.example.com/a/{render.share_token}/"' in html


def test_failed_render_offers_another_selfie(client) -> None:
    render = own_render(client)
    render.fail("We could not find a face in your selfie.", "no_face: ...", "no_face")
    html = client.get(render.get_absolute_url()).content.decode()
    assert "We could not find a face in your selfie." in html
    assert "Try another selfie" in html and reverse("ads:personalise", args=[render.template.slug]) in html
    assert 'id="working" hidden' in html and 'id="failed" role="alert">' in html


def test_someone_elses_render_is_404(client) -> None:
    render = make_render(make_template(), session="another-session-key")
    assert client.get(render.get_absolute_url()).status_code == 404
    assert client.post(reverse("ads:render_delete", args=[render.public_id])).status_code == 404
    assert Render.objects.filter(pk=render.pk).exists()


def test_unknown_render_is_404(client) -> None:
    assert client.get("/r/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_staff_may_look(admin_client) -> None:
    render = make_render(make_template(), session="another-session-key")
    assert admin_client.get(render.get_absolute_url()).status_code == 200


def test_delete_removes_row_and_files(client, media: Path) -> None:
    render = finished(own_render(client), media)
    video, poster = Path(render.video.path), Path(render.poster.path)
    response = client.post(reverse("ads:render_delete", args=[render.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("ads:catalog")
    assert not Render.objects.filter(pk=render.pk).exists()
    assert not video.exists() and not poster.exists()
    assert client.get(reverse("ads:share", args=[render.share_token])).status_code == 404
    assert "deleted" in client.get("/").content.decode()


def test_delete_cancels_a_running_render_and_erases_the_selfie(client) -> None:
    render = own_render(client)
    Render.objects.claim(render.pk, "worker-1")
    selfie = Path(render.selfie.path)
    assert selfie.exists()
    client.post(reverse("ads:render_delete", args=[render.public_id]))
    assert not Render.objects.filter(pk=render.pk).exists()
    assert not selfie.exists()


def test_delete_needs_post_and_csrf(client) -> None:
    render = own_render(client)
    url = reverse("ads:render_delete", args=[render.public_id])
    assert client.get(url).status_code == 405
    html = client.get(render.get_absolute_url()).content.decode()
    assert f'action="{url}"' in html and "csrfmiddlewaretoken" in html
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(url).status_code == 403
    assert Render.objects.filter(pk=render.pk).exists()
