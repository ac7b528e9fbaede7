"""API errors: one JSON shape for every refusal, and no stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from core.middleware import current_request_id

logger = logging.getLogger(__name__)


def validation_error_detail(error: DjangoValidationError) -> Any:
    """A Django ValidationError as DRF detail: ``{"field": ["message", ...]}`` or a list of messages."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def portal_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate the exceptions services raise into API answers.

    Services raise Django's ``ValidationError`` (400 with per-field messages), ``PermissionDenied`` (403) and
    the database's ``ProtectedError`` (409, something still refers to the object); Django refuses an oversized
    body with ``RequestDataTooBig`` (413) and other malformed ones with ``SuspiciousOperation`` (400). Anything
    else is a bug: it is logged with its traceback and the client gets a JSON 500 with the request id to quote,
    never the trace.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (files excepted) when DRF asks for it.
        return Response(
            {
                "detail": f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
                "besides uploaded files."
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, a malformed multipart body: the client's doing, never a server error.
        return Response({"detail": f"Bad request: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, ProtectedError):
        set_rollback()
        return Response(
            {"detail": "Still referred to by other records; retire it instead of deleting it."},
            status=status.HTTP_409_CONFLICT,
        )
    response = exception_handler(exc, context)
    if response is not None:
        return response
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
    set_rollback()
    request_id = current_request_id.get()
    return Response(
        {"detail": f"Internal error. Quote request id {request_id} when reporting it.", "request_id": request_id},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
