"""/api/v1/openapi.json is an OpenAPI 3 document generated from the code; /api/docs is served from the
project's own static files, with no external URL."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert set(paths) >= {"/api/v1/templates", "/api/v1/renders", "/api/v1/renders/{render_id}"}
    assert set(paths["/api/v1/renders/{render_id}"]) == {"get", "delete"}
    post = paths["/api/v1/renders"]["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"template", "name", "selfie"} <= set(form["properties"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "bearer" in str(doc["components"]["securitySchemes"]).lower()
    assert {"RenderOut", "ErrorOut", "TemplateOut"} <= set(doc["components"]["schemas"])


def test_docs_page_has_no_external_urls(client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html and "/api/v1/openapi.json" in html
    external = re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", html)
    assert external == [], html
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        assert client.get(asset).status_code == 200, asset


def test_docs_do_not_call_the_online_validator(client) -> None:
    html = client.get("/api/docs").content.decode()
    assert '"validatorUrl": null' in html
