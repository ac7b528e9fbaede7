"""FilterSets of the audits lists. Models are named by key, as every other filter of the API names them."""

from __future__ import annotations

import django_filters

from audits.choices import RunStatus
from audits.models import AuditRun, EvaluationDataset


class EvaluationDatasetFilterSet(django_filters.FilterSet):
    """``?model=KEY&version=LABEL``."""

    model = django_filters.CharFilter(field_name="version__model__key")
    version = django_filters.CharFilter(field_name="version__version")

    class Meta:
        model = EvaluationDataset
        fields = ["model", "version"]


class AuditRunFilterSet(django_filters.FilterSet):
    """``?model=KEY&status=passed`` (status repeatable)."""

    model = django_filters.CharFilter(field_name="model__key")
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = AuditRun
        fields = ["model", "status"]
