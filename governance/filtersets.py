"""FilterSets of the governance lists: assessments, overrides, tier policies, findings, the ledger, notifications.

Models are named by key and people by username, the way every other filter of the API names them. A filter
narrows what the selector already let the caller see; it never widens it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.choices import (
    AssessmentStatus,
    EventType,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    OverrideStatus,
)
from governance.models import Finding, GovernanceEvent, Notification, RiskAssessment, TierOverride, TierPolicy
from governance.selectors import overdue_findings
from inventory.choices import RiskTier


class StrictNullBooleanField(forms.Field):
    """``true`` / ``false`` (or ``1`` / ``0``), absent for no filter, and a 400 for anything else.

    Django's ``NullBooleanField`` reads an unknown value as "no filter", so ``?overdue=yes`` would quietly list
    everything.
    """

    def to_python(self, value: Any) -> bool | None:
        """The boolean the parameter names, None when it is absent."""
        if value in (None, ""):
            return None
        if value in ("true", "True", "1"):
            return True
        if value in ("false", "False", "0"):
            return False
        raise ValidationError("Give true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that refuses values it does not understand."""

    field_class = StrictNullBooleanField


class RiskAssessmentFilterSet(django_filters.FilterSet):
    """A model's assessment history, by review status."""

    model = django_filters.CharFilter(field_name="model__key", label="Model key", max_length=20)
    status = django_filters.MultipleChoiceFilter(choices=AssessmentStatus.choices)

    class Meta:
        model = RiskAssessment
        fields: list[str] = []


class TierOverrideFilterSet(django_filters.FilterSet):
    """Override requests of a model, by status (``pending`` is a Risk Officer's to-do list)."""

    model = django_filters.CharFilter(field_name="assessment__model__key", label="Model key", max_length=20)
    status = django_filters.MultipleChoiceFilter(choices=OverrideStatus.choices)

    class Meta:
        model = TierOverride
        fields: list[str] = []


class TierPolicyFilterSet(django_filters.FilterSet):
    """Policies of one rule pack or one tier."""

    pack = django_filters.CharFilter(field_name="pack__code", label="Rule pack code", max_length=30)
    tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices)

    class Meta:
        model = TierPolicy
        fields: list[str] = []


class FindingFilterSet(django_filters.FilterSet):
    """Findings by model, status, severity, owner and source, and the overdue ones."""

    model = django_filters.CharFilter(field_name="model__key", label="Model key", max_length=20)
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=FindingSeverity.choices)
    source = django_filters.MultipleChoiceFilter(choices=FindingSource.choices)
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)", max_length=150)
    overdue = StrictBooleanFilter(method="filter_overdue", label="Open and past its due date")
    ordering = django_filters.OrderingFilter(
        fields=(("due_date", "due_date"), ("created_at", "created"), ("updated_at", "updated")), label="Order by"
    )

    class Meta:
        model = Finding
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        """``true``: open findings past their due date; ``false``: every other finding."""
        if value is None:
            return queryset
        overdue = overdue_findings(queryset)
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class GovernanceEventFilterSet(django_filters.FilterSet):
    """Ledger entries of one model, of some event types."""

    model = django_filters.CharFilter(field_name="model__key", label="Model key", max_length=20)
    event_type = django_filters.MultipleChoiceFilter(choices=EventType.choices)

    class Meta:
        model = GovernanceEvent
        fields: list[str] = []


class NotificationFilterSet(django_filters.FilterSet):
    """The inbox, or only what is still unread."""

    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull", label="Only unread")

    class Meta:
        model = Notification
        fields: list[str] = []
