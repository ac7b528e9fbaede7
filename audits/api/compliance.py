"""Compliance API v1: start and read portfolio sweeps, and read each visible model's compliance status.

Sweeps summarise every model, so only users whose roles see the whole portfolio (Risk Officers, Auditors,
Admins) see them; Risk Officers start them. Per-model statuses go through the permission gate: everyone sees the
statuses of the models they may see, and no other.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audits import sweep
from audits.api.serializers import JSONObjectField
from audits.compliance import RULE_IDS, ComplianceState
from audits.models import AuditRun, ComplianceStatus
from core.api import schema
from core.api.serializers import InputSerializer, StrictCharField, detail_url
from core.api.viewsets import PortalReadOnlyViewSet, PortalViewSet


class ComplianceStatusFilterSet(django_filters.FilterSet):
    """``?model=KEY&status=non_compliant&rule=CMP-003``."""

    model = django_filters.CharFilter(field_name="model__key")
    status = django_filters.ChoiceFilter(choices=ComplianceState.choices)
    rule = django_filters.ChoiceFilter(
        choices=[(rule_id, rule_id) for rule_id in RULE_IDS], method="filter_rule", label="Broken rule id"
    )

    class Meta:
        model = ComplianceStatus
        fields = ["model", "status", "rule"]

    def filter_rule(self, queryset: QuerySet[ComplianceStatus], name: str, value: str) -> QuerySet[ComplianceStatus]:
        """Statuses that break the rule."""
        return queryset.filter(rule_ids__contains=f",{value},")


class ComplianceSweepCreateInput(InputSerializer):
    """Optionally a key that makes a retried request find the sweep it started."""

    idempotency_key = StrictCharField(required=False, max_length=200)


class ComplianceSweepOutputSerializer(serializers.ModelSerializer):
    """A sweep: status and, once finished, the summary (models by status, broken rules by id, the rules)."""

    # Plain text: the audit run's serializer already names this enum in the schema.
    status = serializers.CharField(read_only=True, help_text="queued, running, passed, failed or error.")
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    result = JSONObjectField(read_only=True)

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "status",
            "progress",
            "idempotency_key",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "result",
            "error",
        ]
        read_only_fields = fields


class BrokenRuleSerializer(serializers.Serializer):
    """One rule a model breaks, and why."""

    rule = serializers.CharField(read_only=True)
    severity = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)


class ComplianceStatusOutputSerializer(serializers.ModelSerializer):
    """A model's standing in a sweep."""

    sweep = serializers.IntegerField(source="run_id", read_only=True)
    model = serializers.CharField(source="model.key", read_only=True)
    model_name = serializers.CharField(source="model.name", read_only=True)
    # Plain text, not an enum, as the audit run's status is.
    status = serializers.CharField(read_only=True, help_text="compliant, non_compliant or exempt (retired).")
    broken_rules = BrokenRuleSerializer(many=True, read_only=True)

    class Meta:
        model = ComplianceStatus
        fields = ["sweep", "model", "model_name", "status", "broken_rules", "evaluated_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List compliance sweeps",
        description="Newest first. Only for roles that see every model (Risk Officers, Auditors, Admins); the list "
        "is empty for others, who read their models' standing at `/compliance-status/`.",
        responses={200: ComplianceSweepOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One compliance sweep",
        description="Status and progress; once finished, `result` holds `models`, `by_status`, `by_rule` (how "
        "many models break each rule) and the `rules` applied.",
        responses={200: ComplianceSweepOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Start a compliance sweep",
        description="Risk Officers. The sweep is queued and a worker evaluates every model; poll it for its "
        "status. The same `idempotency_key` returns the sweep already started.",
        request=ComplianceSweepCreateInput,
        responses={
            202: ComplianceSweepOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"idempotency_key": ["Between 1 and 200 ..."]}),
        },
    ),
)
class ComplianceSweepViewSet(PortalReadOnlyViewSet):
    """Compliance sweeps, looked up by id."""

    output_serializer_class = ComplianceSweepOutputSerializer

    def get_queryset(self) -> QuerySet[AuditRun]:
        """Sweeps the caller may see."""
        return sweep.compliance_sweep_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue through the service; 202, a worker executes the sweep."""
        data = self.read_input(ComplianceSweepCreateInput)
        data.pop("change_reason", None)
        run = sweep.compliance_sweep_request(actor=self.actor, **data)
        url = detail_url(self.get_serializer_context(), f"{self.basename}-detail", run.pk)
        return Response(self.output(self.reload(run)), status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(
        summary="The models of a sweep",
        description="Each model the caller may see, with its status and the rules it breaks, ordered by key. "
        "Filters: `model` (key), `status`, `rule` (a broken rule id).",
        parameters=[
            OpenApiParameter("model", OpenApiTypes.STR, description="A model key."),
            OpenApiParameter("status", OpenApiTypes.STR, description="compliant, non_compliant or exempt."),
            OpenApiParameter("rule", OpenApiTypes.STR, enum=RULE_IDS, description="A broken rule id."),
        ],
        responses={
            200: ComplianceStatusOutputSerializer(many=True),
            **schema.error_responses(*schema.LIST_ERRORS),
        },
    )
    # The sweep's FilterSet does not apply to its statuses: they are filtered here by their own.
    @action(detail=True, methods=["get"], filter_backends=[])
    def models(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The sweep's statuses the caller may see, filtered and paginated."""
        run = self.get_object()
        filterset = ComplianceStatusFilterSet(
            request.query_params, queryset=sweep.compliance_status_queryset(user=request.user, run=run)
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        statuses = filterset.qs
        page = self.paginate_queryset(statuses)
        data = ComplianceStatusOutputSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@extend_schema_view(
    list=extend_schema(
        summary="Current compliance status",
        description="The standing of each model the caller may see in the latest finished sweep, ordered by key. "
        "Filters: `model` (key), `status`, `rule` (a broken rule id). A model registered after that sweep has no "
        "status yet.",
        responses={200: ComplianceStatusOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
)
class ComplianceStatusViewSet(mixins.ListModelMixin, PortalViewSet):
    """The latest compliance status per visible model (list only)."""

    filterset_class = ComplianceStatusFilterSet
    output_serializer_class = ComplianceStatusOutputSerializer

    def get_queryset(self) -> QuerySet[ComplianceStatus]:
        """Statuses of the latest finished sweep, of the models the caller may see."""
        return sweep.compliance_status_queryset(user=self.request.user)
