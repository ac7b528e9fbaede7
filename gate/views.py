"""Plain web endpoints of the gate: the JWKS at its well-known address."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from gate import signing


@require_GET
def well_known_jwks(request: HttpRequest) -> JsonResponse:
    """``/.well-known/jwks.json``: the same public keys as ``/api/v1/gate/jwks/``, for tools that look there."""
    response = JsonResponse(signing.public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
