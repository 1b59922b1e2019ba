"""Thin views: find the row, check who may see it, hand over to the form, the model or ranged.py."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import SuspiciousFileOperation
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as show
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from adstudio.ads import provenance, ratelimit
from adstudio.ads.forms import PersonaliseForm
from adstudio.ads.models import Render, Template
from adstudio.ads.privacy import CONSENT_VERSION, client_ip, hash_ip
from adstudio.ads.ranged import ranged_file_response
from swapengine.errors import BadInput

SHARED_FILE_CACHE = {"public": True, "max_age": 300}  # short: a deleted ad must vanish from caches soon


def absolute(request: HttpRequest, path: str) -> str:
    base = settings.SITE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_staff", False))


def _session_key(request: HttpRequest) -> str:
    """The fan's identity is their session; make sure it exists and its cookie will be sent."""
    request.session["fan"] = True  # an empty session would never be saved nor get a cookie
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _open_template(request: HttpRequest, slug: str) -> Template:
    template = get_object_or_404(Template, slug=slug)
    if not template.is_ready or not (template.published or _is_staff(request)):
        raise Http404("This ad is not available.")
    return template


def _own_render(request: HttpRequest, public_id: UUID) -> Render:
    render = get_object_or_404(Render.objects.select_related("template"), public_id=public_id)
    if not (render.owned_by(request.session.session_key) or _is_staff(request)):
        raise Http404("No such ad.")  # not 403: a stranger learns nothing about what exists
    if render.taken_down_at and not _is_staff(request):
        raise Http404("This ad was taken down.")
    return render


def _shared_render(token: str) -> Render:
    return get_object_or_404(Render.objects.shared().select_related("template"), share_token=token)


def too_many(request: HttpRequest, blocked: ratelimit.Blocked, context: dict[str, object]) -> HttpResponse:
    """HTTP 429 with the form page and the reason, so the fan knows what happened and when to retry."""
    template = context.get("template")
    form = PersonaliseForm(template=template if isinstance(template, Template) else None)
    context = {"form": form, **context, "limit_message": blocked.message}
    response = show(request, "ads/personalise.html", context, status=429)
    response["Retry-After"] = str(blocked.retry_after)
    return response


@require_safe
def catalog(request: HttpRequest) -> HttpResponse:
    templates = [t for t in Template.objects.filter(published=True) if t.is_ready]
    return show(request, "ads/catalog.html", {"templates": templates})


@require_http_methods(["GET", "HEAD", "POST"])
def personalise(request: HttpRequest, slug: str) -> HttpResponse:
    template = _open_template(request, slug)
    context: dict[str, object] = {
        "template": template, "consent_version": CONSENT_VERSION, "ttl_days": settings.RENDER_TTL_DAYS
    }
    if request.method == "POST":
        session_key = _session_key(request)
        if blocked := ratelimit.hit(request, ratelimit.UPLOADS, session_key):
            return too_many(request, blocked, context)  # before reading the upload
        form = PersonaliseForm(
            request.POST, request.FILES, session_key=session_key, ip_hash=hash_ip(client_ip(request)),
            template=template,
        )
        if form.is_valid():
            if blocked := ratelimit.hit(request, ratelimit.RENDERS, session_key):
                return too_many(request, blocked, {**context, "form": form})
            if (render := form.save(template)) is not None:
                return redirect(render)
    else:
        form = PersonaliseForm(template=template)
    return show(request, "ads/personalise.html", {**context, "form": form})


@never_cache
@require_safe
def render_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    render = _own_render(request, public_id)
    payload = render.payload()
    context = {
        "render": render,
        "template": render.template,
        "payload": payload,
        "percent": int(round(payload["progress"] * 100)),
        "stage_words": render.template.stage_words().get(payload["stage"], ""),
        "stage_table": render.template.stage_words(),
        "retry_url": reverse("ads:personalise", args=[render.template.slug]),
        "base_url": absolute(request, "/").rstrip("/"),
    }
    if render.state == Render.State.DONE:
        share = absolute(request, render.share_url())
        context["share_abs"] = share
        context["whatsapp"] = whatsapp_link(render, share)
    return show(request, "ads/render.html", context)


@never_cache
@require_safe
def render_preview(request: HttpRequest, public_id: UUID) -> HttpResponseBase:
    """The first composed frame of a running render, for its owner only."""
    render = _own_render(request, public_id)
    path = render.preview_path()
    if render.state != Render.State.RUNNING or not path.exists():
        raise Http404("No preview yet")
    return ranged_file_response(request, str(path), "image/jpeg")


def whatsapp_link(render: Render, share_url: str) -> str:
    return "https://wa.me/?text=" + quote(f"Watch my {render.template.title} ad: {share_url}", safe="")


@require_POST
def render_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    _own_render(request, public_id).discard()
    messages.success(request, "Your ad and its files were deleted.")
    return redirect("ads:catalog")


@require_safe
def share(request: HttpRequest, token: str) -> HttpResponse:
    render = _shared_render(token)
    if request.method == "GET":
        Render.objects.filter(pk=render.pk).update(views=F("views") + 1)
    template = render.template
    video_path = reverse("ads:share_video", args=[token])
    context = {
        "render": render,
        "template": template,
        "title": f"{render.name} in {template.title}" if render.name else template.title,
        "share_abs": absolute(request, render.share_url()),
        "video_url": video_path,
        "video_abs": absolute(request, video_path),
        "poster_url": reverse("ads:share_poster", args=[token]),
        "poster_abs": absolute(request, reverse("ads:share_poster", args=[token])),
        "make_your_own": template.get_absolute_url() if template.published and template.is_ready else None,
    }
    return show(request, "ads/share.html", context)


@require_safe
def share_video(request: HttpRequest, token: str) -> HttpResponseBase:
    render = _shared_render(token)
    if not render.video:
        raise Http404("No video.")
    name = ""
    if request.GET.get("download") == "1":
        name = f"{slugify(render.template.title) or 'ad'}-{slugify(render.name) or 'adstudio'}.mp4"
    return ranged_file_response(
        request, render.video.path, "video/mp4", download_name=name, cache_control=SHARED_FILE_CACHE
    )


@require_safe
def share_poster(request: HttpRequest, token: str) -> HttpResponseBase:
    render = _shared_render(token)
    if not render.poster:
        raise Http404("No poster.")
    return ranged_file_response(request, render.poster.path, "image/jpeg", cache_control=SHARED_FILE_CACHE)


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


@staff_member_required
@require_safe
def track_thumbnail(request: HttpRequest, slug: str, track_id: int) -> HttpResponseBase:
    template = get_object_or_404(Template, slug=slug)
    track = next((t for t in template.tracks if t.get("id") == track_id), None)
    if track is None or not template.analysis_key or not track.get("thumbnail"):
        raise Http404("No such face track.")
    root = Path(settings.ENGINE_CACHE_DIR).resolve()
    path = (root / template.analysis_key / str(track["thumbnail"])).resolve()
    if not path.is_relative_to(root):
        raise Http404("No such face track.")
    return ranged_file_response(request, path, "image/jpeg")


VERIFY_LIMIT = ratelimit.Limit("uploads", "clips sent")  # shares the upload budget with selfies


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Public: was this clip made here? The answer comes from the invisible watermark only."""
    context: dict[str, object] = {"max_bytes": settings.VERIFY_MAX_BYTES}
    if request.method != "POST":
        return show(request, "ads/verify.html", context)
    blocked = ratelimit.hit(request, VERIFY_LIMIT, request.session.session_key or "")
    if blocked:
        response = show(request, "ads/verify.html", {**context, "error": blocked.message}, status=429)
        response["Retry-After"] = str(blocked.retry_after)
        return response
    try:
        context["result"] = provenance.verify_upload(request.FILES.get("clip"))
    except BadInput as exc:
        return show(request, "ads/verify.html", {**context, "error": exc.user_message}, status=400)
    return show(request, "ads/verify.html", context)

