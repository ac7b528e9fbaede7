"""Where the reports viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from reports.api.views import ExportViewSet


def register(router: BaseRouter) -> None:
    """Register every reports viewset on the API router."""
    router.register("exports", ExportViewSet, basename="export")
