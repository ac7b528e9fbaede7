"""OpenAPI pieces shared by every app's API: the token security scheme and the documented error answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``core.authentication.ApiTokenAuthentication`` as an HTTP bearer scheme.

    The API accepts both ``Token <token>`` and ``Bearer <token>``; bearer is what Swagger UI's "Authorize"
    button sends, so the interactive docs work with a pasted token.
    """

    target_class = "core.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """The OpenAPI security scheme of the token."""
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`mop_...`) sent as `Authorization: Token <token>` or `Bearer <token>`. "
            "Create one with `python manage.py create_api_token <username> --name '...'`.",
        }


class ErrorSerializer(serializers.Serializer):
    """A refusal that concerns the request as a whole (authentication, permission, a missing object)."""

    detail = serializers.CharField(read_only=True)


VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Messages by field name; `non_field_errors` for messages about the body as a whole. "
    "A list field's messages may be keyed by the position of the offending item. A body that cannot be read at "
    "all (not JSON, nested too deep, a bad page number) is answered with a single `detail` message instead.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {}},
        ]
    },
}

_ERROR_DESCRIPTIONS = {
    400: "Bad input: nothing was written. The body names each offending field.",
    401: "No credentials, or a token that is malformed, unknown, expired or revoked.",
    403: "Authenticated, but not allowed to do this (for example: may see the object but not change it).",
    404: "No such object, or one the caller may not see (the two are not told apart).",
}


def error_responses(*codes: int, example: dict[str, list[str]] | None = None) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries for the given error status codes, with an optional 400 example."""
    responses = {}
    for code in codes:
        if code == 400:
            examples = [OpenApiExample("Bad input", value=example, status_codes=["400"])] if example else []
            responses[code] = OpenApiResponse(
                response=VALIDATION_ERROR_SCHEMA, description=_ERROR_DESCRIPTIONS[code], examples=examples
            )
        else:
            responses[code] = OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
    return responses


LIST_ERRORS = (400, 401, 404)
DETAIL_ERRORS = (401, 403, 404)
WRITE_ERRORS = (400, 401, 403)
CHANGE_ERRORS = (400, 401, 403, 404)
