"""Where the gate's viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from gate.api.views import GateCheckViewSet, GateDecisionViewSet, GateJwksViewSet


def register(router: BaseRouter) -> None:
    """Register every gate viewset on the API router."""
    router.register("gate/check", GateCheckViewSet, basename="gatecheck")
    router.register("gate/decisions", GateDecisionViewSet, basename="gatedecision")
    router.register("gate/jwks", GateJwksViewSet, basename="gatejwks")
