"""The one FilterSet of exports, shared by the downloads page and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from reports.choices import ExportKind, ExportStatus
from reports.models import Export


class ExportFilterSet(django_filters.FilterSet):
    """Exports by kind and status, and "only mine" for the roles that see everyone's."""

    kind = django_filters.MultipleChoiceFilter(choices=ExportKind.choices, label="Kind")
    status = django_filters.MultipleChoiceFilter(choices=ExportStatus.choices, label="Status")
    # A choice rather than a BooleanFilter: that one reads "perhaps" as "no filter", this one refuses it.
    mine = django_filters.ChoiceFilter(
        choices=[("true", "Only mine"), ("false", "Everyone's I may see")],
        method="filter_mine",
        label="Requested by me",
        empty_label="Any",
    )

    class Meta:
        model = Export
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value != "true":
            return queryset
        return queryset.filter(requested_by=self.request.user if self.request else None)
