"""Thin views for a fan's ad: the personalise form that orders it, its live page, preview and delete."""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as show
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from adstudio.catalog.models import Template
from adstudio.ranged import ranged_file_response
from adstudio.renders.forms import PersonaliseForm
from adstudio.renders.models import Render
from adstudio.renders.web import absolute, fan_session_key
from adstudio.trust import ratelimit
from adstudio.trust.privacy import CONSENT_VERSION, client_ip, hash_ip


def _is_staff(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_staff", False))


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


def too_many(request: HttpRequest, blocked: ratelimit.Blocked, context: dict[str, object]) -> HttpResponse:
    """HTTP 429 with the form page and the reason, so the fan knows what happened and when to retry."""
    template = context.get("template")
    form = PersonaliseForm(template=template if isinstance(template, Template) else None)
    context = {"form": form, **context, "limit_message": blocked.message}
    response = show(request, "ads/personalise.html", context, status=429)
    response["Retry-After"] = str(blocked.retry_after)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def personalise(request: HttpRequest, slug: str) -> HttpResponse:
    template = _open_template(request, slug)
    context: dict[str, object] = {
        "template": template, "consent_version": CONSENT_VERSION, "ttl_days": settings.RENDER_TTL_DAYS
    }
    if request.method == "POST":
        session_key = fan_session_key(request)
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
