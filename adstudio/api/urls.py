"""/api/v1/ (the API and its openapi.json), /api/docs, and a JSON 404 for any other /api/ path."""

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from adstudio.api.errors import error_response
from adstudio.api.views import api, docs


def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    return error_response(404, "not_found", "There is no such API endpoint. See /api/docs.")


urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", docs, name="api_docs"),
    re_path(r"^api/(?P<rest>.*)$", unknown),
]
