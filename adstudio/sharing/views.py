"""Thin views for what the public sees of a finished ad (share page, video, poster) and for /verify."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.shortcuts import render as show
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from adstudio.ranged import ranged_file_response
from adstudio.renders.models import Render
from adstudio.renders.web import absolute
from adstudio.sharing import verification
from adstudio.trust import ratelimit
from swapengine import BadInput

SHARED_FILE_CACHE = {"public": True, "max_age": 300}  # short: a deleted ad must vanish from caches soon


def _shared_render(token: str) -> Render:
    return get_object_or_404(Render.objects.shared().select_related("template"), share_token=token)


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
        context["result"] = verification.verify_upload(request.FILES.get("clip"))
    except BadInput as exc:
        return show(request, "ads/verify.html", {**context, "error": exc.user_message}, status=400)
    return show(request, "ads/verify.html", context)
