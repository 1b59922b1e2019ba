"""The catalog's hover preview serves a published template's clip with ranges, and nothing else's."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from adstudio.catalog.models import Template
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_published_clip_is_served_in_ranges(client) -> None:
    template = make_template()
    url = reverse("ads:template_preview", args=[template.slug])
    assert url in client.get(reverse("ads:catalog")).content.decode()
    response = client.get(url, HTTP_RANGE="bytes=4-11")
    assert response.status_code == 206
    assert response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == b"ftypmp42"


@pytest.mark.parametrize("change", [{"published": False}, {"analysis_status": Template.Analysis.ANALYSING}])
def test_unpublished_or_unready_clips_are_not_served(client, admin_client, change: dict) -> None:
    template = make_template()
    Template.objects.filter(pk=template.pk).update(**change)
    url = reverse("ads:template_preview", args=[template.slug])
    assert client.get(url).status_code == 404
    assert admin_client.get(url).status_code == 404  # the studio shows drafts; the catalog preview does not
