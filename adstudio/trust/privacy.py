"""What we may keep about a fan: a keyed hash of their IP (to answer abuse reports), never the IP itself."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest

# Bump when the consent text on the form changes; each render records the version its fan agreed to.
CONSENT_VERSION = "2026-11-29"
CONSENT_LABEL = "This is my face, or I have the person's permission to use it"


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind our own proxy (BEHIND_PROXY) the hop it appended last to X-Forwarded-For.

    The last hop is the one our proxy saw; earlier entries are whatever the client chose to send.
    """
    if settings.BEHIND_PROXY:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR") or "")


def hash_ip(ip: str) -> str:
    """HMAC-SHA256 with SECRET_KEY: the same IP maps to the same hash, which cannot be reversed without it."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"ip:{ip}".encode(), hashlib.sha256).hexdigest()
