"""Audits API v1: evaluation datasets, bias audit runs and their comparison.

Reads go through the audits selectors (what the caller may not see is a 404), writes through the audits services,
whose refusals keep their wording: a bad file is a 400 naming the problem, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from audits import selectors, services
from audits.api.serializers import (
    AuditRunComparisonSerializer,
    AuditRunCreateInput,
    AuditRunOutputSerializer,
    EvaluationDatasetCreateInput,
    EvaluationDatasetOutputSerializer,
)
from audits.filtersets import AuditRunFilterSet, EvaluationDatasetFilterSet
from audits.models import AuditRun, EvaluationDataset
from core.api import schema
from core.api.serializers import detail_url
from core.api.viewsets import PortalReadOnlyViewSet, PortalViewSet
from core.parsers import DepthLimitedJSONParser


def _created(viewset: PortalViewSet, instance: Model, code: int = status.HTTP_201_CREATED) -> Response:
    """The new object as a read shows it, with its URL in ``Location``."""
    url = detail_url(viewset.get_serializer_context(), f"{viewset.basename}-detail", instance.pk)
    return Response(viewset.output(viewset.reload(instance)), status=code, headers={"Location": url})


@extend_schema_view(
    list=extend_schema(
        summary="List evaluation datasets",
        description="Datasets of the model versions the caller may see, newest first. Filters: `model` (key), "
        "`version` (label).",
        responses={200: EvaluationDatasetOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One evaluation dataset",
        responses={200: EvaluationDatasetOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Upload or reference evaluation data",
        description="The model's owners, Risk Officers and its validators. Multipart with `file` (UTF-8 CSV) and "
        "`mapping` as JSON text, or JSON with `reference_path` (a file inside the operator's allowed directories) or "
        "`reference_url` (an http(s) URL under a prefix the operator allows; fetched with a timeout and the size "
        "limit, redirects only to allowed prefixes; a 404 or timeout is a 400 naming it). "
        "The whole file is checked against the mapping first: missing columns, non-binary labels, empty values, "
        "single-group sensitive columns, wrong encodings or delimiters and oversized files are refused with a "
        "message naming the problem, and nothing is stored.",
        request={
            "multipart/form-data": EvaluationDatasetCreateInput,
            "application/json": EvaluationDatasetCreateInput,
        },
        responses={
            201: EvaluationDatasetOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"mapping": ["Missing column(s): y_pred. ..."]}),
        },
    ),
)
class EvaluationDatasetViewSet(PortalReadOnlyViewSet):
    """Evaluation datasets, looked up by id."""

    filterset_class = EvaluationDatasetFilterSet
    output_serializer_class = EvaluationDatasetOutputSerializer
    parser_classes = [MultiPartParser, FormParser, DepthLimitedJSONParser]

    def get_queryset(self) -> QuerySet[EvaluationDataset]:
        """Datasets the caller may see."""
        return selectors.evaluation_dataset_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate and store through the service."""
        data = self.read_input(EvaluationDatasetCreateInput)
        data.pop("change_reason", None)
        dataset = services.evaluation_dataset_create(actor=self.actor, **data)
        return _created(self, dataset)


@extend_schema_view(
    list=extend_schema(
        summary="List audit runs",
        description="Runs on the models the caller may see, newest first. Filters: `model` (key), `status` "
        "(repeatable).",
        responses={200: AuditRunOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One audit run",
        description="Status and progress; once finished, the result (per-group metrics, intervals, disparities, "
        "verdicts), the dataset hash, library versions and the policy revision applied. An error keeps its message.",
        responses={200: AuditRunOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Request a bias audit",
        description="The model's owners, Risk Officers and its validators. The run is queued and a worker executes "
        "it; poll the run for its status. The same `idempotency_key` returns the run already requested.",
        request=AuditRunCreateInput,
        responses={
            202: AuditRunOutputSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS, example={"dataset": ["Evaluation dataset 9 does not exist."]}
            ),
        },
    ),
)
class AuditRunViewSet(PortalReadOnlyViewSet):
    """Audit runs, looked up by id."""

    filterset_class = AuditRunFilterSet
    output_serializer_class = AuditRunOutputSerializer

    def get_queryset(self) -> QuerySet[AuditRun]:
        """Runs the caller may see."""
        return selectors.audit_run_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue through the service; 202, the run is executed by a worker."""
        data = self.read_input(AuditRunCreateInput)
        data.pop("change_reason", None)
        run = services.bias_audit_request(actor=self.actor, **data)
        return _created(self, run, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Compare two bias audits",
        description="Per analysis present in both runs: each disparity, the overall rates and the rates of groups "
        "present in both, with `difference` = b − a.",
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True, description="Id of the first run."),
            OpenApiParameter("b", OpenApiTypes.INT, required=True, description="Id of the second run."),
        ],
        responses={
            200: AuditRunComparisonSerializer,
            **schema.error_responses(400, 401, example={"a": ["Bias audit run 9 does not exist."]}),
        },
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def compare(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Compare the two runs the caller may see."""
        comparison = selectors.audit_run_compare(
            user=request.user, a=request.query_params.get("a"), b=request.query_params.get("b")
        )
        return Response(AuditRunComparisonSerializer(comparison, context=self.get_serializer_context()).data)
