"""GET /api/v1/templates lists published, ready templates with what each asks for."""

from __future__ import annotations

import pytest

from adstudio.catalog.models import DialogueSlot
from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture
from tests.web.factories import make_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def test_lists_published_templates_only(client) -> None:
    shown = make_template("Diwali wishes")
    DialogueSlot.objects.create(template=shown, start=0.5, end=2.0, line="Happy Diwali {name} from {city}")
    make_template("Secret draft", published=False)
    body = client.get("/api/v1/templates", **bearer(new_key())).json()
    assert [t["slug"] for t in body] == [shown.slug]
    (item,) = body
    assert item["title"] == "Diwali wishes" and item["duration"] == 4.0
    assert item["needs_selfie"] is True and item["asks_name"] is True
    assert item["fields"] == [{"name": "city", "label": "City", "choices": None}]
    assert item["preview_url"].startswith("http://testserver/t/") and item["preview_url"].endswith("preview.mp4")
