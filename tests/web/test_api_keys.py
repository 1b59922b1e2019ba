"""create_api_key: creates the organisation if missing, prints the key as the last line, stores only its
hash; api_keys lists (by prefix) and revokes, and a revoked key no longer authenticates."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command

from adstudio.orgs.models import ApiKey, Organisation
from tests.web.apikit import bearer

pytestmark = pytest.mark.django_db


def create(name: str) -> tuple[str, str]:
    out = StringIO()
    call_command("create_api_key", name, stdout=out)
    text = out.getvalue()
    return text, text.strip().splitlines()[-1]


def test_key_is_the_last_line_and_only_its_hash_is_stored() -> None:
    text, key = create("Cadbury India")
    assert Organisation.objects.filter(name="Cadbury India").count() == 1
    stored = ApiKey.objects.get()
    assert stored.hashed == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored.prefix) and len(key) > 40
    for row in ApiKey.objects.values():
        assert key not in {str(v) for v in row.values()}
    _, second = create("Cadbury India")  # the organisation is reused, a second key made
    assert Organisation.objects.count() == 1 and ApiKey.objects.count() == 2 and second != key


def test_list_and_revoke(client) -> None:
    _, key = create("Zomato")
    assert client.get("/api/v1/templates", **bearer(key)).status_code == 200
    prefix = ApiKey.objects.get().prefix
    out = StringIO()
    call_command("api_keys", "list", stdout=out)
    assert prefix in out.getvalue() and "Zomato" in out.getvalue() and key not in out.getvalue()
    call_command("api_keys", "revoke", prefix, stdout=StringIO())
    assert ApiKey.objects.get().revoked_at is not None
    response = client.get("/api/v1/templates", **bearer(key))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_admin_revokes(admin_client) -> None:
    _, key = create("Agency")
    stored = ApiKey.objects.get()
    page = admin_client.get(f"/admin/orgs/apikey/{stored.pk}/change/")
    assert page.status_code == 200 and stored.hashed not in page.content.decode()
    admin_client.post("/admin/orgs/apikey/", {"action": "revoke", "_selected_action": [stored.pk]})
    assert ApiKey.objects.get().revoked_at is not None
