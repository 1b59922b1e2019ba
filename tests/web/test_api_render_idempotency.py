"""Idempotency-Key: the same key and body give the same render (201, then 200); another body gives 409;
keys are per organisation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from adstudio.renders.models import Render
from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture
from tests.web.factories import make_template
from tests.web.selfies import face_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def post(client, key: str, slug: str, name: str, idem: str):
    return client.post("/api/v1/renders", {
        "template": slug, "name": name, "selfie": SimpleUploadedFile("me.jpg", face_bytes(), "image/jpeg"),
    }, HTTP_IDEMPOTENCY_KEY=idem, **bearer(key))


def test_same_key_same_body_same_render(client) -> None:
    slug, key = make_template().slug, new_key()
    first = post(client, key, slug, "Asha", "order-1")
    again = post(client, key, slug, "Asha", "order-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Render.objects.count() == 1


def test_same_key_other_body_is_409(client) -> None:
    slug, key = make_template().slug, new_key()
    assert post(client, key, slug, "Asha", "order-1").status_code == 201
    response = post(client, key, slug, "Ravi", "order-1")
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_conflict"
    assert Render.objects.count() == 1


def test_keys_are_per_organisation_and_absent_key_always_creates(client) -> None:
    slug = make_template().slug
    one, other = new_key("One"), new_key("Other")
    assert post(client, one, slug, "Asha", "k").status_code == 201
    assert post(client, other, slug, "Asha", "k").status_code == 201
    assert post(client, one, slug, "Asha", "").status_code == 201
    assert post(client, one, slug, "Asha", "").status_code == 201
    assert Render.objects.count() == 4
