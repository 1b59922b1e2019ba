"""The catalog lists published, analysed templates, with their posters and durations."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from adstudio.catalog.models import Template
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_lists_only_published_ready_templates(client) -> None:
    shown = make_template("Diwali wishes")
    make_template("Secret draft", published=False)
    pending = make_template("Still analysing")
    Template.objects.filter(pk=pending.pk).update(analysis_status=Template.Analysis.ANALYSING)
    no_face = make_template("No face chosen")
    Template.objects.filter(pk=no_face.pk).update(fan_track=None)

    page = client.get(reverse("ads:catalog"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Diwali wishes" in html and shown.get_absolute_url() in html
    assert "4 seconds" in html
    for hidden in ("Secret draft", "Still analysing", "No face chosen"):
        assert hidden not in html


def test_poster_is_linked_and_served(client) -> None:
    template = make_template()
    template.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff poster"), save=True)
    html = client.get(reverse("ads:catalog")).content.decode()
    poster_url = reverse("ads:template_poster", args=[template.slug])
    assert poster_url in html
    response = client.get(poster_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff poster"


def test_unpublished_poster_is_hidden_from_the_public(client, admin_client) -> None:
    template = make_template(published=False)
    template.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff"), save=True)
    url = reverse("ads:template_poster", args=[template.slug])
    assert client.get(url).status_code == 404
    assert admin_client.get(url).status_code == 200


def test_empty_catalog_says_so(client) -> None:
    assert "No ads are available" in client.get("/").content.decode()


def test_page_is_small_and_accessible(client) -> None:
    make_template()
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html  # skip link
