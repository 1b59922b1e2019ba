"""Every API error has one shape, {"error": {"code", "message"}}, whatever raised it (docs/API.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError


class ApiError(Exception):
    """An error the API answers with: HTTP status, a stable code for programs and a line for people."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def error_response(status: int, code: str, message: str, retry_after: int | None = None) -> HttpResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _validation_message(exc: NinjaValidationError) -> str:
    """ninja/pydantic's first complaint, in words: which field, and what is wrong with it."""
    for problem in exc.errors:
        where = [str(part) for part in problem.get("loc", ()) if part not in ("body", "form", "query", "path")]
        field = where[-1] if where else "request"
        kind = problem.get("type", "")
        if kind == "missing":
            return f"The field '{field}' is required."
        return f"The field '{field}' is not valid: {problem.get('msg', 'bad value')}."
    return "The request is not valid."


def install(api: NinjaAPI) -> None:
    """Route ninja's own errors (auth, validation, 404) into the one error shape."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message, exc.retry_after)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if request.headers.get("Authorization", "").strip():
            message = "This API key is not valid or has been revoked."
        else:
            message = "Send your API key in the header 'Authorization: Bearer KEY'."
        response = error_response(401, "unauthorized", message)
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return error_response(422, "invalid", _validation_message(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "No such resource.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(exc.status_code, "error", str(exc))
