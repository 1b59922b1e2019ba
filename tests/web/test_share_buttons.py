"""Without JavaScript, a finished ad's page already carries working WhatsApp and X links, and the share
page counts its views."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.web.test_render_page import finished, own_render

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_done_page_links_carry_the_share_url(client, media: Path) -> None:
    render = finished(own_render(client), media)
    html = client.get(render.get_absolute_url()).content.decode()
    share = quote(f"http://testserver{render.share_url()}", safe="")
    assert f"https://wa.me/?text=Watch%20my%20Diwali%20wishes%20ad%3A%20{share}" in html
    assert f"https://x.com/intent/post?url={share}&amp;text=Watch%20my%20Diwali%20wishes%20ad" in html
    assert 'id="share-native"' in html and "hidden>Share…" in html  # shown only where navigator.share exists


def test_share_page_counts_views(client, media: Path) -> None:
    render = finished(own_render(client), media)
    url = reverse("ads:share", args=[render.share_token])
    assert "Watched 1 time<" in client.get(url).content.decode()
    assert "Watched 2 times<" in client.get(url).content.decode()
    client.head(url)
    assert "Watched 3 times<" in client.get(url).content.decode()  # a HEAD (a link preview's probe) is not a view
