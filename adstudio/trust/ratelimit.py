"""Fixed-window counters in Django's cache (Redis in the services mode), per client IP and per session.

A fan on a shared connection (a campus, a stadium) shares the IP budget, hence a looser IP limit and a
tighter session one. Counting is atomic (cache.add then cache.incr); a counter expires with its window.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from adstudio.trust.privacy import client_ip


@dataclass(frozen=True)
class Limit:
    action: str  # "uploads" or "renders": names the settings RATE_<ACTION>_PER_IP / _PER_SESSION
    noun: str  # how the fan's message counts it: "photos sent", "ads made"

    @property
    def per_ip(self) -> int:
        return int(getattr(settings, f"RATE_{self.action.upper()}_PER_IP"))

    @property
    def per_session(self) -> int:
        return int(getattr(settings, f"RATE_{self.action.upper()}_PER_SESSION"))


UPLOADS = Limit("uploads", "photos sent")
RENDERS = Limit("renders", "ads made")


@dataclass(frozen=True)
class Blocked:
    limit: Limit
    retry_after: int  # seconds until the window turns over

    @property
    def message(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        return (
            f"Too many {self.limit.noun} from your connection in a short time. "
            f"Please wait about {wait} and try again."
        )


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window + 5):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: this hit starts a new window
        cache.add(key, 1, timeout=window + 5)
        return 1


def hit(request: HttpRequest, limit: Limit, session_key: str = "") -> Blocked | None:
    """Count one action for this IP and session; a Blocked (with a message) if either is over its limit."""
    window = settings.RATE_LIMIT_WINDOW
    now = int(time.time())
    bucket = now // window
    retry_after = (bucket + 1) * window - now
    ip = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    checks = [(f"rl:{limit.action}:ip:{ip}:{bucket}", limit.per_ip)]
    if session_key:
        checks.append((f"rl:{limit.action}:s:{session_key}:{bucket}", limit.per_session))
    over = False
    for key, allowed in checks:
        over = _count(key, window) > allowed or over
    return Blocked(limit, retry_after) if over else None


def hit_bucket(name: str, allowed: int) -> int | None:
    """Count one action against a named budget (an API key's): the seconds to wait if over it, else None."""
    window = settings.RATE_LIMIT_WINDOW
    now = int(time.time())
    bucket = now // window
    if _count(f"rl:{name}:{bucket}", window) > allowed:
        return max(1, (bucket + 1) * window - now)
    return None
