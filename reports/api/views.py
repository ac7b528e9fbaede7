"""Exports API v1: request an export, follow it, download its file.

Reads go through the exports selector (another user's export is a 404; Risk Officers, Auditors and Admins see
all), requests through the exports service, whose refusals name the field (a bad filter, an unknown model).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import detail_url
from core.api.viewsets import PortalReadOnlyViewSet
from reports import selectors, services
from reports.api.serializers import ExportCreateInput, ExportOutputSerializer
from reports.choices import EXPORT_FORMATS, ExportStatus
from reports.filtersets import ExportFilterSet
from reports.models import Export


class ExportNotReady(APIException):
    """The export exists but has no file yet (queued, running) or failed."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The export is not done yet."
    default_code = "not_ready"


@extend_schema_view(
    list=extend_schema(
        summary="List exports",
        description="The caller's own exports; Risk Officers, Auditors and Admins see everyone's (and the scheduled "
        "ones). Filters: `kind`, `status` (repeatable), `mine=true`.",
        responses={200: ExportOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One export",
        description="Status and progress; once done, the file's size, SHA-256, row count and download link.",
        responses={200: ExportOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Request an export",
        description="Anyone signed in may export what they can see. The parameters are checked for the kind, the "
        "request is recorded in the ledger with its filters, and a worker produces the file: poll the export.",
        request=ExportCreateInput,
        responses={
            202: ExportOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"stage": ["Select a valid choice. x is not one."]}),
        },
    ),
)
class ExportViewSet(PortalReadOnlyViewSet):
    """Exports, looked up by id."""

    filterset_class = ExportFilterSet
    output_serializer_class = ExportOutputSerializer

    def get_queryset(self) -> QuerySet[Export]:
        """Exports the caller may see."""
        return selectors.export_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Request through the service; 202, the file is produced by a worker."""
        data = self.read_input(ExportCreateInput)
        data.pop("change_reason", None)
        export = services.export_request(actor=self.actor, kind=data["kind"], params=data["params"])
        url = detail_url(self.get_serializer_context(), f"{self.basename}-detail", export.pk)
        return Response(self.output(self.reload(export)), status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(
        summary="Download an export's file",
        description="The file of a finished export, with its SHA-256 in the `X-Content-SHA256` header. 409 while the "
        "export is queued or running, or when it ended in error.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            409: OpenApiResponse(schema.ErrorSerializer, description="The export has no file yet, or failed."),
            **schema.error_responses(*schema.DETAIL_ERRORS),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """Stream the stored file of an export the caller may see."""
        export = self.get_object()
        if export.status != ExportStatus.DONE:
            detail = f"The export is {export.get_status_display().lower()}"
            raise ExportNotReady(f"{detail}: {export.error}" if export.error else f"{detail}.")
        return export_file_response(export)


def export_file_response(export: Export) -> FileResponse:
    """The export's file as an attachment, with its media type and SHA-256 (shared by the API and the page)."""
    handle = selectors.export_file(export)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=export.file.name.rsplit("/", 1)[-1],
        content_type=EXPORT_FORMATS[export.kind][1],
    )
    response["X-Content-SHA256"] = export.sha256
    return response
