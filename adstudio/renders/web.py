"""Request helpers for the pages around a render: absolute links for sharing, and the fan's session."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def absolute(request: HttpRequest, path: str) -> str:
    base = settings.SITE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def fan_session_key(request: HttpRequest) -> str:
    """The fan's identity is their session; make sure it exists and its cookie will be sent."""
    request.session["fan"] = True  # an empty session would never be saved nor get a cookie
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""
