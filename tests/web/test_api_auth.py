"""Bearer auth: a missing, malformed, unknown or revoked key gets 401 with the one error shape."""

from __future__ import annotations

import pytest

from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer ads_wrong"])
def test_401_shape(client, header: str | None) -> None:
    new_key()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    for method, url in [("get", "/api/v1/templates"), ("post", "/api/v1/renders"),
                        ("get", "/api/v1/renders/00000000-0000-0000-0000-000000000000"),
                        ("delete", "/api/v1/renders/00000000-0000-0000-0000-000000000000")]:
        response = getattr(client, method)(url, **extra)
        assert response.status_code == 401, (method, url, response.content)
        body = response.json()
        assert set(body) == {"error"} and body["error"]["code"] == "unauthorized"
        assert body["error"]["message"]


def test_a_good_key_passes(client) -> None:
    assert client.get("/api/v1/templates", **bearer(new_key())).status_code == 200


def test_unknown_api_path_is_a_json_404(client) -> None:
    response = client.get("/api/v1/nothing-here", **bearer(new_key()))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
