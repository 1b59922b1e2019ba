"""The public share page and its files: only finished ads, with link previews, counted views and ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def done(media: Path) -> Render:
    render = make_render(make_template())
    folder = media / "renders" / render.public_id.hex
    folder.mkdir(parents=True)
    (folder / "ad.mp4").write_bytes(VIDEO)
    (folder / "poster.jpg").write_bytes(b"\xff\xd8\xff poster")
    render.finish(f"renders/{render.public_id.hex}/ad.mp4", f"renders/{render.public_id.hex}/poster.jpg")
    return render


def test_share_page_has_player_and_link_previews(client, done: Render) -> None:
    token = done.share_token
    response = client.get(reverse("ads:share", args=[token]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<video class="shared" controls playsinline' in html
    assert f'poster="/a/{token}/poster.jpg"' in html
    assert f'src="/a/{token}/video.mp4"' in html
    assert '<meta property="og:title" content="Asha in Diwali wishes">' in html
    assert '<meta property="og:type" content="video.other">' in html
    assert f'<meta property="og:image" content="http://testserver/a/{token}/poster.jpg">' in html
    assert f'<meta property="og:video" content="http://testserver/a/{token}/video.mp4">' in html
    assert '<meta property="og:video:type" content="video/mp4">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert f'<meta name="twitter:image" content="http://testserver/a/{token}/poster.jpg">' in html
    assert "Made with AdStudio — AI-generated" in html
    assert f'href="/a/{token}/video.mp4?download=1" download' in html
    assert f'href="{done.template.get_absolute_url()}">Make your own' in html


def test_views_are_counted(client, done: Render) -> None:
    url = reverse("ads:share", args=[done.share_token])
    client.get(url)
    client.get(url)
    client.head(url)
    done.refresh_from_db()
    assert done.views == 2


def test_make_your_own_falls_back_to_catalog_when_template_is_withdrawn(client, done: Render) -> None:
    Template.objects.filter(pk=done.template_id).update(published=False)
    html = client.get(reverse("ads:share", args=[done.share_token])).content.decode()
    assert 'href="/">Make your own' in html


@pytest.mark.parametrize("state", ["queued", "running", "failed", "cancelled"])
def test_unfinished_renders_are_not_shared(client, state: str) -> None:
    render = make_render(make_template(), state=state)
    token = render.share_token
    for name in ("share", "share_video", "share_poster"):
        assert client.get(reverse(f"ads:{name}", args=[token])).status_code == 404


def test_unknown_token_is_404_page(client) -> None:
    response = client.get("/a/not-a-real-token/")
    assert response.status_code == 404
    assert "does not exist, or it was deleted" in response.content.decode()  # our 404 page, not a bare one
    assert client.get("/a/not-a-real-token/video.mp4").status_code == 404


def test_video_is_served_whole_and_in_ranges(client, done: Render) -> None:
    url = reverse("ads:share_video", args=[done.share_token])
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole["Content-Type"] == "video/mp4" and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Length"] == str(len(VIDEO))
    assert b"".join(whole.streaming_content) == VIDEO

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(VIDEO)}"
    assert b"".join(part.streaming_content) == VIDEO[100:200]

    bad = client.get(url, HTTP_RANGE=f"bytes={len(VIDEO)}-")
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{len(VIDEO)}"

    head = client.head(url)
    assert head.status_code == 200 and head["Content-Length"] == str(len(VIDEO)) and head.content == b""


def test_download_is_an_attachment(client, done: Render) -> None:
    response = client.get(reverse("ads:share_video", args=[done.share_token]) + "?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="diwali-wishes-asha.mp4"'
    plain = client.get(reverse("ads:share_video", args=[done.share_token]))
    assert "Content-Disposition" not in plain


def test_poster_is_a_jpeg(client, done: Render) -> None:
    response = client.get(reverse("ads:share_poster", args=[done.share_token]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff poster"


def test_missing_file_is_404_not_500(client, done: Render) -> None:
    Path(done.video.path).unlink()
    assert client.get(reverse("ads:share_video", args=[done.share_token])).status_code == 404
