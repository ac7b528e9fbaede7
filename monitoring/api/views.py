"""Monitoring API v1: targets, metric batches, drift tables and drift runs.

Reads go through the monitoring selectors (what the caller may not see is a 404), writes through the monitoring
services, whose refusals keep their wording: a malformed batch is a 400 naming each problem, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import detail_url
from core.api.viewsets import PortalReadOnlyViewSet, PortalViewSet
from core.parsers import DepthLimitedJSONParser
from monitoring import selectors, services
from monitoring.api.serializers import (
    DriftDatasetCreateInput,
    DriftDatasetOutputSerializer,
    DriftRunCreateInput,
    DriftRunOutputSerializer,
    DriftScheduleOutputSerializer,
    DriftScheduleSetInput,
    MetricBatchDoc,
    MetricBatchInput,
    MetricBatchResultSerializer,
    MetricObservationOutputSerializer,
    MlflowImportInput,
    MlflowImportQueuedSerializer,
    MonitoringTargetAgreeInput,
    MonitoringTargetOutputSerializer,
    MonitoringTargetProposeInput,
)
from monitoring.filtersets import (
    DriftDatasetFilterSet,
    DriftRunFilterSet,
    DriftScheduleFilterSet,
    MetricObservationFilterSet,
    MonitoringTargetFilterSet,
)
from monitoring.mlflow import mlflow_metrics_import_request
from monitoring.models import DriftDataset, DriftRun, DriftSchedule, MetricObservation, MonitoringTarget


def _created(viewset: PortalViewSet, instance: Model, code: int = status.HTTP_201_CREATED) -> Response:
    """The new object as a read shows it, with its URL in ``Location``."""
    url = detail_url(viewset.get_serializer_context(), f"{viewset.basename}-detail", instance.pk)
    return Response(viewset.output(viewset.reload(instance)), status=code, headers={"Location": url})


@extend_schema_view(
    list=extend_schema(
        summary="List monitoring target revisions",
        description="Revisions of the models the caller may see, per model newest first. Filters: `model` (key), "
        "`status` (proposed, agreed, superseded; repeatable).",
        responses={200: MonitoringTargetOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One monitoring target revision",
        responses={200: MonitoringTargetOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Propose a monitoring target",
        description="The model's owners and Risk Officers. A new revision starting from the one in force (or the "
        "tier defaults) with the given limits; it applies once another Risk Officer agrees it.",
        request=MonitoringTargetProposeInput,
        responses={
            201: MonitoringTargetOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"accuracy_min": ["Give a share between 0 and 1."]}),
        },
    ),
)
class MonitoringTargetViewSet(PortalReadOnlyViewSet):
    """Monitoring target revisions, looked up by id."""

    filterset_class = MonitoringTargetFilterSet
    output_serializer_class = MonitoringTargetOutputSerializer

    def get_queryset(self) -> QuerySet[MonitoringTarget]:
        """Revisions the caller may see."""
        return selectors.monitoring_target_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Propose through the service."""
        data = self.read_input(MonitoringTargetProposeInput)
        data.pop("change_reason", None)
        model, reason, kpi = data.pop("model"), data.pop("reason"), data.pop("business_kpi", "")
        target = services.target_propose(actor=self.actor, model=model, values=data, business_kpi=kpi, reason=reason)
        return _created(self, target)

    @extend_schema(
        summary="Agree a proposed monitoring target",
        description="Risk Officers, not the one who proposed it. The revision comes into force and supersedes the "
        "previous one; the decision goes to the ledger.",
        request=MonitoringTargetAgreeInput,
        responses={200: MonitoringTargetOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def agree(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Agree the revision the caller can see."""
        target = self.get_object()
        data = self.read_input(MonitoringTargetAgreeInput)
        agreed = services.target_agree(actor=self.actor, target=target, comment=data.get("comment", ""))
        return Response(self.output(self.reload(agreed)))


@extend_schema_view(
    list=extend_schema(
        summary="List metric observations",
        description="Observations of the versions the caller may see. Filters: `model`, `version`, `environment`, "
        "`metric`, `since` (window end at or after).",
        responses={200: MetricObservationOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One metric observation",
        responses={200: MetricObservationOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Push a batch of metric observations",
        description="Monitoring systems and pipelines: whoever may report for the model (its owners, Risk "
        "Officers, service accounts scoped to it). At most 1000 observations, stored all or nothing, keyed by "
        "(model, version, environment, metric, window): the same batch twice stores once; a changed value updates "
        "the observation and its history keeps the old one. Every series touched is checked against the target "
        "in force: a breach for N consecutive windows raises one finding.",
        request=MetricBatchDoc,
        responses={
            200: MetricBatchResultSerializer,
            **schema.error_responses(
                400, 401, 403, 404, example={"observations": ["[3].value: give a finite number."]}
            ),
        },
    ),
)
class MetricObservationViewSet(PortalReadOnlyViewSet):
    """Metric observations, looked up by id; ``POST`` takes a batch."""

    filterset_class = MetricObservationFilterSet
    output_serializer_class = MetricObservationOutputSerializer

    def get_queryset(self) -> QuerySet[MetricObservation]:
        """Observations the caller may see."""
        return selectors.metric_observation_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ingest through the service; 200 with what the batch did."""
        data = self.read_input(MetricBatchInput)
        result = services.metric_batch_ingest(actor=self.actor, observations=data["observations"])
        return Response(MetricBatchResultSerializer(result.as_dict()).data)

    @extend_schema(
        summary="Import a model's MLflow run metrics",
        description="Whoever may report for the model. Queues the import of the latest metric values of the MLflow "
        "runs behind its versions (recorded by the MLflow sync) as observations in the `mlflow` environment, one "
        "window per run; idempotent like any batch.",
        request=MlflowImportInput,
        responses={
            202: MlflowImportQueuedSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"model": ["Model RB-0009 does not exist."]}),
        },
    )
    @action(detail=False, methods=["post"], url_path="mlflow-import")
    def mlflow_import(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue through the service; 202, a worker imports."""
        model = self.read_input(MlflowImportInput)["model"]
        mlflow_metrics_import_request(actor=self.actor, model=model)
        return Response({"model": model.key, "queued": True}, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List drift tables",
        description="Tables of the versions the caller may see, newest first. Filters: `model`, `version`.",
        responses={200: DriftDatasetOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One drift table",
        responses={200: DriftDatasetOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Upload or reference a drift table",
        description="The model's owners, Risk Officers, validators and scoped service accounts. Multipart with "
        "`file`, or JSON with `reference_path` or `reference_url`, as for evaluation data. The file is read whole "
        "first; an unreadable one is refused with a message and nothing is stored.",
        request={"multipart/form-data": DriftDatasetCreateInput, "application/json": DriftDatasetCreateInput},
        responses={
            201: DriftDatasetOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"file": ["The file is empty."]}),
        },
    ),
)
class DriftDatasetViewSet(PortalReadOnlyViewSet):
    """Drift tables, looked up by id."""

    filterset_class = DriftDatasetFilterSet
    output_serializer_class = DriftDatasetOutputSerializer
    parser_classes = [MultiPartParser, FormParser, DepthLimitedJSONParser]

    def get_queryset(self) -> QuerySet[DriftDataset]:
        """Tables the caller may see."""
        return selectors.drift_dataset_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate and store through the service."""
        data = self.read_input(DriftDatasetCreateInput)
        data.pop("change_reason", None)
        return _created(self, services.drift_dataset_create(actor=self.actor, **data))


@extend_schema_view(
    list=extend_schema(
        summary="List drift audits",
        description="Runs on the models the caller may see, newest first. Filters: `model`, `status` (repeatable).",
        responses={200: DriftRunOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One drift audit",
        description="Status; once finished, per feature the PSI (bins fixed on the reference), the KS or "
        "chi-squared statistic and p-value, the verdict against the target, the overall PSI, prediction drift and "
        "the top movers.",
        responses={200: DriftRunOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Request a drift audit",
        description="The model's owners, Risk Officers and validators. Queued for a worker; poll the run. The same "
        "`idempotency_key` returns the run already requested.",
        request=DriftRunCreateInput,
        responses={
            202: DriftRunOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"current": ["“May” has no column(s): age."]}),
        },
    ),
)
class DriftRunViewSet(PortalReadOnlyViewSet):
    """Drift audits, looked up by id."""

    filterset_class = DriftRunFilterSet
    output_serializer_class = DriftRunOutputSerializer

    def get_queryset(self) -> QuerySet[DriftRun]:
        """Runs the caller may see."""
        return selectors.drift_run_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue through the service; 202, a worker executes it."""
        data = self.read_input(DriftRunCreateInput)
        data.pop("change_reason", None)
        return _created(self, services.drift_audit_request(actor=self.actor, **data), status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List drift schedules",
        description="Schedules of the models the caller may see. Filters: `model`, `enabled`.",
        responses={200: DriftScheduleOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One drift schedule",
        responses={200: DriftScheduleOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Set a model's drift schedule",
        description="The model's owners, Risk Officers and validators. Beat then audits the model's newest drift "
        "table against this reference at the cadence of its limits (`drift_cadence_days`), on the caller's "
        "behalf. One schedule per model: setting it again replaces it.",
        request=DriftScheduleSetInput,
        responses={
            200: DriftScheduleOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"reference": ["“Train” has no column(s): age."]}),
        },
    ),
)
class DriftScheduleViewSet(PortalReadOnlyViewSet):
    """Drift schedules, looked up by id."""

    filterset_class = DriftScheduleFilterSet
    output_serializer_class = DriftScheduleOutputSerializer

    def get_queryset(self) -> QuerySet[DriftSchedule]:
        """Schedules the caller may see."""
        return selectors.drift_schedule_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Set through the service; 200 with the schedule as it now is."""
        data = self.read_input(DriftScheduleSetInput)
        data.pop("change_reason", None)
        schedule = services.drift_schedule_set(actor=self.actor, **data)
        return Response(self.output(self.reload(schedule)))
