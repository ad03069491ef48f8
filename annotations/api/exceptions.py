"""Every API error is JSON: ``{"detail": "...", "code": "...", "errors": {...}}``.

``detail`` is one readable sentence; ``errors`` (only for invalid input) maps each
field to its messages. Errors raised by services for bad input (a file that is not
media, a URL that may not be fetched, a malformed taxonomy...) become 400s here, and
their conflicts with the current state (``StateConflict``) 409s, so views do not
repeat the translation; anything unexpected is logged and answered
with a JSON 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotations.manifest import ManifestError
from annotations.services.errors import StateConflict
from annotations.services.interchange import InterchangeError
from annotations.services.learning.retraining import RetrainingLimited
from annotations.services.media.sources import SourceRejected
from annotations.services.media.video_import import VideoImportError
from ml.media import MediaError
from ml.taxonomy import TaxonomyFormatError

logger = logging.getLogger(__name__)

# Errors that services raise because of what the caller sent, never because of a bug.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (
    VideoImportError,
    SourceRejected,
    MediaError,
    TaxonomyFormatError,
    ManifestError,
    InterchangeError,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Say which revision this change was based on."
    default_code = "revision_required"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This service is not available right now."
    default_code = "unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def _django_validation_messages(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in errors] for field, errors in exc.message_dict.items()}
    return [str(message) for message in exc.messages]


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "Your role does not allow this.")
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_django_validation_messages(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(str(exc) or "The request could not be read.")
    if isinstance(exc, BAD_INPUT_ERRORS):
        return exceptions.ValidationError(str(exc), code="invalid")
    if isinstance(exc, RetrainingLimited):
        return exceptions.Throttled(wait=exc.retry_after, detail=str(exc))
    if isinstance(exc, StateConflict):
        return Conflict(" ".join(part for part in (str(exc), exc.state) if part))
    return exc


def _first_message(data: Any) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            message = _first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
        return ""
    if isinstance(data, list):
        return next((m for m in (_first_message(v) for v in data) if m), "")
    return str(data)


def _code_of(detail: Any) -> str:
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or "error"
    if isinstance(detail, dict):
        return next((_code_of(v) for v in detail.values()), "error")
    if isinstance(detail, list) and detail:
        return _code_of(detail[0])
    return "error"


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(detail, dict | list):
        body: dict[str, Any] = {
            "detail": f"Invalid input: {_first_message(detail)}"
            if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict)
            else _first_message(detail),
            "code": _code_of(detail),
        }
        if isinstance(detail, dict):
            body["errors"] = detail
        elif len(detail) > 1:
            body["errors"] = {"non_field_errors": detail}
        return body
    return {"detail": str(detail), "code": _code_of(detail)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
        return response
    view = context.get("view")
    logger.exception("unexpected error in %s", type(view).__name__ if view else "the API")
    return Response(
        {"detail": "Something went wrong on the server; the error was logged.", "code": "error"},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@csrf_exempt  # it changes nothing; without this an unknown POST would get CSRF's HTML page
def api_not_found(request: HttpRequest, unmatched: str = "") -> HttpResponse:
    """Unknown paths under /api/ answer in JSON too, not with the HTML 404 page.

    A known path without its final slash is redirected with 308, which keeps the
    method and body, so ``POST /api/v1/jobs/x`` reaches ``/api/v1/jobs/x/``.
    """
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "api_not_found":
            query = request.META.get("QUERY_STRING", "")
            target = request.path + "/" + (f"?{query}" if query else "")
            response = HttpResponse(status=308)
            response["Location"] = target
            return response
    return JsonResponse(
        {"detail": f"No API endpoint at {request.path}.", "code": "not_found"}, status=404
    )
