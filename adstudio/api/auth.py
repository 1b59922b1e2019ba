"""Bearer keys: the key names the organisation; each request counts against the key's rate limit."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from adstudio.api.errors import ApiError
from adstudio.orgs.models import ApiKey
from adstudio.trust import ratelimit


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = ApiKey.objects.find(token.strip())
        if key is None:
            return None
        if (wait := ratelimit.hit_bucket(f"api:{key.pk}", settings.RATE_API_PER_KEY)) is not None:
            raise ApiError(429, "rate_limited", f"Too many requests with this key. Please retry in {wait} s.", wait)
        if key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key


def api_key(request: HttpRequest) -> ApiKey:
    """The authenticated request's key (set by BearerKey)."""
    key = getattr(request, "auth", None)
    assert isinstance(key, ApiKey)
    return key
