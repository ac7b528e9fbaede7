"""Where the inventory viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from inventory.api.views import (
    BusinessUnitViewSet,
    ModelDependencyViewSet,
    ModelVersionViewSet,
    RegisteredModelViewSet,
)


def register(router: BaseRouter) -> None:
    """Register every inventory viewset on the API router."""
    router.register("business-units", BusinessUnitViewSet, basename="businessunit")
    router.register("models", RegisteredModelViewSet, basename="registeredmodel")
    router.register("versions", ModelVersionViewSet, basename="modelversion")
    router.register("dependencies", ModelDependencyViewSet, basename="modeldependency")
