"""Where the inventory viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from inventory.api.artifacts import ArtifactViewSet, DeploymentViewSet
from inventory.api.external import ExternalModelViewSet
from inventory.api.lineage import register as register_lineage
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
    router.register("artifacts", ArtifactViewSet, basename="artifact")
    router.register("deployments", DeploymentViewSet, basename="deployment")
    router.register("external-models", ExternalModelViewSet, basename="externalmodel")
    register_lineage(router)
