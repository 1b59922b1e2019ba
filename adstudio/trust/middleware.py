"""Refuse an oversized request body from its Content-Length, before anything reads it.

It sits before the CSRF middleware, which would otherwise parse (and spool to disk) the whole multipart
body just to find its token. The forms still check each file's real size afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

SLACK = 1024 * 1024  # room for the form's other fields and multipart boundaries


def body_limit(path: str) -> tuple[int, str]:
    """The most bytes a request to `path` may send, and what that limit is for (in the fan's words)."""
    if path.startswith("/admin/"):
        return settings.TEMPLATE_MAX_BYTES + SLACK, "template clips"
    if path.startswith("/studio-voices/"):
        return settings.VOICE_RECORDING_MAX_BYTES + SLACK, "voice recordings"
    if path.startswith(("/t/", "/api/")):
        return settings.SELFIE_MAX_BYTES + SLACK, "photos"
    return settings.REQUEST_MAX_BYTES, "uploads"


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit, what = body_limit(request.path)
        if length > limit:
            size = str(filesizeformat(limit - (SLACK if what != "uploads" else 0))).replace("\xa0", " ")
            message = f"This is too big to upload. The limit for {what} is {size}; please choose a smaller file."
            if request.path.startswith("/api/"):  # the API's error shape (docs/API.md)
                return JsonResponse({"error": {"code": "too_large", "message": message}}, status=413)
            return render(request, "413.html", {"message": message}, status=413)
        return self.get_response(request)
