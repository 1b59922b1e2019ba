"""Helpers for the API tests: an organisation with a key, and the Authorization header for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from adstudio.orgs.models import ApiKey, Organisation


def new_key(org_name: str = "Cadbury") -> str:
    organisation, _ = Organisation.objects.get_or_create(name=org_name)
    return ApiKey.issue(organisation)[1]


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def api_media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # rate-limit counters from other tests
    return tmp_path
