"""The admin's studio for one template: pick the fan's face, try it with a sample selfie, see how it does.

Staff only. The timeline of dialogue slots is on the template's admin page (admin.py, timeline.py); this page
covers faces (with their thumbnails), the celebrity's voice bank (voices.py), test renders and stats.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as show
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from adstudio.catalog.models import Template
from adstudio.ranged import ranged_file_response
from adstudio.renders.models import Render
from adstudio.renders.web import fan_session_key
from adstudio.studio import samples, services
from adstudio.studio.forms import TemplateVoiceForm

TEST_NAME = "Test"


def _track_rows(template: Template) -> list[dict]:
    """Each face track with its frame span, seconds and where it sits in the clip (for a span bar)."""
    fps = float(template.info.get("fps") or 0)
    frames = max(int(template.info.get("frame_count") or 0), 1)
    rows = []
    for track in template.tracks:
        start, end = int(track["start"]), int(track["end"])
        rows.append({
            "id": int(track["id"]),
            "start": start,
            "end": end,
            "frames": int(track.get("frames", end - start + 1)),
            "seconds": f"{start / fps:.1f}–{(end + 1) / fps:.1f} s" if fps else "",
            "left": round(100 * start / frames, 2),
            "width": round(max(100 * (end - start + 1) / frames, 0.5), 2),
            "chosen": int(track["id"]) == template.fan_track,
            "thumbnail": reverse("ads:track_thumbnail", args=[template.slug, track["id"]]),
        })
    return rows


@staff_member_required
@require_safe
def studio(request: HttpRequest, slug: str) -> HttpResponse:
    template = get_object_or_404(Template, slug=slug)
    recent = Render.objects.filter(template=template).order_by("-created_at")[:10]
    context = {
        **admin.site.each_context(request),
        "title": f"Studio: {template.title}",
        "template": template,
        "opts": Template._meta,
        "tracks": _track_rows(template),
        "samples": samples.available(),
        "stats": Render.objects.filter(template=template).stats(),
        "recent": recent,
        "change_url": reverse("admin:catalog_template_change", args=[template.pk]),
        "voice_form": TemplateVoiceForm(initial={"voice_bank": template.voice_bank_id}),
    }
    return show(request, "ads/studio.html", context)


@staff_member_required
@require_POST
def choose_track(request: HttpRequest, slug: str) -> HttpResponse:
    template = get_object_or_404(Template, slug=slug)
    try:
        track_id = int(request.POST.get("track", ""))
    except ValueError:
        track_id = -1
    if template.choose_fan_track(track_id):
        messages.success(request, f"Track {track_id} is now the fan's face.")
    else:
        messages.error(request, "No such face track. Pick one of the faces shown.")
    return redirect("ads:studio", slug=template.slug)


@staff_member_required
@require_POST
def test_render(request: HttpRequest, slug: str) -> HttpResponse:
    template = get_object_or_404(Template, slug=slug)
    sample = samples.get(request.POST.get("sample", ""))
    if sample is None:
        messages.error(request, "Please choose one of the sample selfies.")
        return redirect("ads:studio", slug=template.slug)
    if not template.is_ready:
        messages.error(request, "This template is not ready: wait for the analysis and choose the fan's face.")
        return redirect("ads:studio", slug=template.slug)
    render = services.start_test_render(
        template, fan_session_key(request), f"{secrets.token_hex(16)}.jpg", sample.path.read_bytes(), TEST_NAME
    )
    return redirect(render)


@staff_member_required
@require_safe
def sample_image(request: HttpRequest, key: str) -> HttpResponseBase:
    sample = samples.get(key)
    if sample is None:
        raise Http404("No such sample.")
    return ranged_file_response(request, sample.path, "image/jpeg")


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
