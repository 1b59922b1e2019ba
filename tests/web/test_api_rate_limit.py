"""A per-key rate limit: over RATE_API_PER_KEY in a window, 429 with Retry-After and the error shape;
another key is not affected."""

from __future__ import annotations

import pytest

from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def test_429_with_retry_after(client, settings) -> None:
    settings.RATE_API_PER_KEY = 3
    key, other = new_key("One"), new_key("Two")
    codes = [client.get("/api/v1/templates", **bearer(key)).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    response = client.get("/api/v1/templates", **bearer(key))
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= settings.RATE_LIMIT_WINDOW
    assert client.get("/api/v1/templates", **bearer(other)).status_code == 200
