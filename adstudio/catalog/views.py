"""Thin views for the catalog and each template's public media (poster, muted preview)."""

from __future__ import annotations

import mimetypes

from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.shortcuts import render as show
from django.views.decorators.http import require_safe

from adstudio.catalog.models import Template
from adstudio.ranged import ranged_file_response


def _is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_staff", False))


@require_safe
def catalog(request: HttpRequest) -> HttpResponse:
    templates = [t for t in Template.objects.filter(published=True) if t.is_ready]
    return show(request, "ads/catalog.html", {"templates": templates})


@require_safe
def template_poster(request: HttpRequest, slug: str) -> HttpResponseBase:
    template = get_object_or_404(Template, slug=slug)
    if not (template.published or _is_staff(request)) or not template.poster:
        raise Http404("No poster.")
    try:
        path = template.poster.path  # the storage refuses names that leave MEDIA_ROOT
    except SuspiciousFileOperation:
        raise Http404("No poster.") from None
    content_type = mimetypes.guess_type(path)[0] or ""
    if not content_type.startswith("image/"):
        raise Http404("No poster.")
    cache = {"public": True, "max_age": 3600} if template.published else None
    return ranged_file_response(request, path, content_type, cache_control=cache)


@require_safe
def template_preview(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The template's own clip, for the catalog's muted hover preview: published, analysed ones only."""
    template = get_object_or_404(Template, slug=slug, published=True)
    if not template.is_ready or not template.clip:
        raise Http404("No preview.")
    try:
        path = template.clip.path
    except SuspiciousFileOperation:
        raise Http404("No preview.") from None
    content_type = mimetypes.guess_type(path)[0] or "video/mp4"
    return ranged_file_response(request, path, content_type, cache_control={"public": True, "max_age": 3600})
