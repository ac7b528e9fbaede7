"""FilterSets of the monitoring lists, shared by the UI and the API. Models are named by key."""

from __future__ import annotations

import django_filters

from audits.choices import RunStatus
from monitoring.choices import TargetStatus
from monitoring.models import DriftDataset, DriftRun, DriftSchedule, MetricObservation, MonitoringTarget


class MonitoringTargetFilterSet(django_filters.FilterSet):
    """``?model=KEY&status=agreed``."""

    model = django_filters.CharFilter(field_name="model__key")
    status = django_filters.MultipleChoiceFilter(choices=TargetStatus.choices)

    class Meta:
        model = MonitoringTarget
        fields = ["model", "status"]


class MetricObservationFilterSet(django_filters.FilterSet):
    """``?model=KEY&version=LABEL&environment=production&metric=accuracy&since=...``."""

    model = django_filters.CharFilter(field_name="version__model__key")
    version = django_filters.CharFilter(field_name="version__version")
    environment = django_filters.CharFilter()
    metric = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="window_end", lookup_expr="gte")

    class Meta:
        model = MetricObservation
        fields = ["model", "version", "environment", "metric", "since"]


class DriftDatasetFilterSet(django_filters.FilterSet):
    """``?model=KEY&version=LABEL``."""

    model = django_filters.CharFilter(field_name="version__model__key")
    version = django_filters.CharFilter(field_name="version__version")

    class Meta:
        model = DriftDataset
        fields = ["model", "version"]


class DriftRunFilterSet(django_filters.FilterSet):
    """``?model=KEY&status=failed`` (status repeatable)."""

    model = django_filters.CharFilter(field_name="model__key")
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = DriftRun
        fields = ["model", "status"]


class DriftScheduleFilterSet(django_filters.FilterSet):
    """``?model=KEY&enabled=true``."""

    model = django_filters.CharFilter(field_name="model__key")
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = DriftSchedule
        fields = ["model", "enabled"]
