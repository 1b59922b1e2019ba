"""The JSON API (docs/API.md): templates, renders (create, state, video, delete), per organisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from ninja import File, Form, Header, NinjaAPI, Router, Status, Swagger
from ninja.files import UploadedFile

from adstudio.api import renders as creating
from adstudio.api.auth import BearerKey, api_key
from adstudio.api.errors import ApiError, install
from adstudio.api.schemas import ErrorOut, RenderCreated, RenderOut, TemplateOut
from adstudio.catalog.models import Template
from adstudio.ranged import ranged_file_response
from adstudio.renders.models import Render

api = NinjaAPI(
    title="AdStudio API",
    version="1",
    description="Personalised ads for brands and agencies. Authenticate with `Authorization: Bearer KEY` "
                "(`manage.py create_api_key`). Every error is `{\"error\": {\"code\", \"message\"}}`.",
    auth=BearerKey(),
    docs_url="/docs",
    docs=Swagger(settings={"validatorUrl": None}),  # Swagger UI's default badge would call validator.swagger.io
    urls_namespace="api",
)
install(api)
router = Router()
ERRORS: dict[int | str, Any] = {401: ErrorOut, 404: ErrorOut, 429: ErrorOut}


def absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def own_render(request: HttpRequest, render_id: str) -> Render:
    """This organisation's render, or 404 (another organisation's render does not exist, for this key)."""
    try:
        public_id = UUID(render_id)
    except ValueError:
        public_id = None
    render = Render.objects.select_related("template").filter(
        public_id=public_id, organisation=api_key(request).organisation, taken_down_at__isnull=True
    ).first() if public_id else None
    if render is None:
        raise ApiError(404, "not_found", "There is no render with this id for your organisation.")
    return render


def render_out(request: HttpRequest, render: Render) -> dict[str, Any]:
    done = render.state == Render.State.DONE and bool(render.video)
    error = None
    if render.state == Render.State.FAILED:
        error = {"code": render.error_code or "internal", "message": render.message}
    return {
        "id": str(render.public_id),
        "state": render.state,
        "progress": round(render.progress, 4),
        "stage": render.stage,
        "share_url": absolute(request, render.share_url()) if done else None,
        "video_url": absolute(request, reverse("api:render_video", args=[render.public_id])) if done else None,
        "error": error,
    }


@router.get("/templates", response={200: list[TemplateOut], **ERRORS}, summary="The published templates")
def templates(request: HttpRequest) -> list[dict[str, Any]]:
    """Each published template with what it asks for: a selfie, a name, and its slot fields."""
    out = []
    for template in Template.objects.filter(published=True).order_by("title"):
        if not template.is_ready:
            continue
        out.append({
            "slug": template.slug,
            "title": template.title,
            "duration": template.duration,
            "needs_selfie": template.swap_face,
            "asks_name": template.asks_name(),
            "fields": [{"name": f.name, "label": f.label, "choices": f.choices} for f in template.fan_fields()],
            "preview_url": absolute(request, reverse("ads:template_preview", args=[template.slug])),
        })
    return out


@router.post(
    "/renders",
    response={201: RenderCreated, 200: RenderCreated, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut, **ERRORS},
    summary="Order a render",
)
def create_render(
    request: HttpRequest,
    template: Form[str],
    name: Form[str] = "",
    selfie: UploadedFile | None = File(None),  # noqa: B008 - ninja's way to declare a multipart file
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status[dict[str, str]]:
    """Multipart: `template` (slug), `selfie` (when the template swaps a face), `name`, and one field per
    slot field the template lists (e.g. `city`). The selfie and the name get the fan form's checks at once:
    a refusal is a 4xx with the line the fan would read. The same `Idempotency-Key` with the same body
    returns the same render (201, then 200); with another body, 409."""
    found = creating.published_template(template)
    render, new = creating.create(request, api_key(request).organisation, found, idempotency_key.strip()[:200])
    return Status(201 if new else 200, {"id": str(render.public_id), "state": "queued" if new else render.state})


@router.get("/renders/{render_id}", response={200: RenderOut, **ERRORS}, summary="A render's state")
def get_render(request: HttpRequest, render_id: str) -> dict[str, Any]:
    """State (queued, running, done, failed, cancelled), progress 0-1, and, when done, its URLs."""
    return render_out(request, own_render(request, render_id))


@router.get("/renders/{render_id}/video", url_name="render_video", response={200: None, **ERRORS},
            summary="Download a finished render's MP4")
def render_video(request: HttpRequest, render_id: str) -> HttpResponseBase:
    render = own_render(request, render_id)
    if render.state != Render.State.DONE or not render.video:
        raise ApiError(404, "not_ready", "This render has no video (it is not done).")
    return ranged_file_response(request, render.video.path, "video/mp4", download_name=f"{render.public_id}.mp4")


@router.delete("/renders/{render_id}", response={200: RenderOut, 204: None, **ERRORS},
               summary="Cancel a running render, or erase a finished one")
def delete_render(request: HttpRequest, render_id: str) -> Any:
    """A queued or running render is cancelled (200, state cancelled; its selfie erased). A finished
    one is erased with its files (204)."""
    render = own_render(request, render_id)
    if render.cancel():
        render.erase_selfie()
        return Status(200, render_out(request, render))
    render.discard()
    return Status(204, None)


api.add_router("/", router)


def docs(request: HttpRequest) -> HttpResponse:
    """/api/docs: Swagger UI from django-ninja's bundled static files (no CDN), reading /api/v1/openapi.json."""
    from ninja.openapi.views import openapi_view

    return openapi_view(request, api)
