"""PortalFilterSet keeps one form class per FilterSet class, except when a filter's choices depend on the request."""

from __future__ import annotations

from typing import Any

import django_filters
import pytest
from django.http import QueryDict

from core.filtersets import PortalFilterSet
from inventory.models import BusinessUnit, RegisteredModel
from tests.factories import BusinessUnitFactory

pytestmark = pytest.mark.django_db


class StageAndUnit(PortalFilterSet):
    stage = django_filters.CharFilter(field_name="lifecycle_stage")
    unit = django_filters.ModelChoiceFilter(queryset=BusinessUnit.objects.all(), to_field_name="code")

    class Meta:
        model = RegisteredModel
        fields: list[str] = []


def units_of(request: Any) -> Any:
    return BusinessUnit.objects.filter(code=request.GET.get("allowed", ""))


class UnitsFromRequest(PortalFilterSet):
    unit = django_filters.ModelChoiceFilter(queryset=units_of, field_name="business_unit", to_field_name="code")

    class Meta:
        model = RegisteredModel
        fields: list[str] = []


def test_the_form_class_is_built_once_and_each_form_has_its_own_fields() -> None:
    first = StageAndUnit(QueryDict("stage=production"), queryset=RegisteredModel.objects.all())
    second = StageAndUnit(QueryDict("stage=retired"), queryset=RegisteredModel.objects.all())

    assert type(first.form) is type(second.form)
    first.form.fields["stage"].label = "Changed by one view"
    assert second.form.fields["stage"].label != "Changed by one view"
    assert first.is_valid() and second.is_valid()
    assert (first.form.cleaned_data["stage"], second.form.cleaned_data["stage"]) == ("production", "retired")


def test_choices_computed_from_the_request_are_computed_for_each_request(rf: Any) -> None:
    BusinessUnitFactory(code="RETAIL")
    BusinessUnitFactory(code="CORP")

    allowed = UnitsFromRequest(
        QueryDict("unit=RETAIL"), queryset=RegisteredModel.objects.all(), request=rf.get("/", {"allowed": "RETAIL"})
    )
    refused = UnitsFromRequest(
        QueryDict("unit=RETAIL"), queryset=RegisteredModel.objects.all(), request=rf.get("/", {"allowed": "CORP"})
    )

    assert allowed.is_valid()
    assert not refused.is_valid()
    assert "unit" in refused.errors
