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


class StageByMethod(PortalFilterSet):
    stage = django_filters.CharFilter(method="filter_stage")
    ordering = django_filters.OrderingFilter(fields=(("key", "key"), ("name", "name")))

    class Meta:
        model = RegisteredModel
        fields: list[str] = []

    def filter_stage(self, queryset: Any, name: str, value: str) -> Any:
        self.called_with = value
        return queryset.filter(lifecycle_stage=value)


def test_each_filterset_has_its_own_filters_and_their_methods_call_it() -> None:
    first = StageByMethod(QueryDict("stage=production"), queryset=RegisteredModel.objects.all())
    second = StageByMethod(QueryDict("stage=retired"), queryset=RegisteredModel.objects.all())

    assert first.filters["stage"] is not second.filters["stage"]
    assert first.filters["stage"] is not StageByMethod.base_filters["stage"]
    assert first.filters["stage"].parent is first and second.filters["stage"].parent is second
    assert first.filters["stage"].extra is not StageByMethod.base_filters["stage"].extra
    first.qs, second.qs  # noqa: B018 - evaluating the property runs the filters
    assert (first.called_with, second.called_with) == ("production", "retired")
    assert not hasattr(StageByMethod.base_filters["stage"], "parent")


def test_choices_from_the_request_do_not_stay_on_the_declared_filter(rf: Any) -> None:
    UnitsFromRequest(
        QueryDict("unit=RETAIL"), queryset=RegisteredModel.objects.all(), request=rf.get("/", {"allowed": "RETAIL"})
    ).is_valid()

    assert UnitsFromRequest.base_filters["unit"].extra["queryset"] is units_of
    assert "_field" not in UnitsFromRequest.base_filters["unit"].__dict__


def test_a_form_that_changes_its_widgets_and_their_choices_changes_no_other_form() -> None:
    first = StageByMethod(QueryDict(""), queryset=RegisteredModel.objects.all())
    second = StageByMethod(QueryDict(""), queryset=RegisteredModel.objects.all())
    declared = list(second.form.fields["ordering"].choices)

    # What the inventory page does to its form: other choices on the ordering widget, another widget for a field.
    first.form.fields["ordering"].widget.choices = [("", "Key (default)")]
    first.form.fields["ordering"].error_messages["invalid_choice"] = "Changed by one view"
    first.form.fields["stage"].widget = django_filters.widgets.BooleanWidget()

    third = StageByMethod(QueryDict(""), queryset=RegisteredModel.objects.all())
    for other in (second, third):
        assert list(other.form.fields["ordering"].choices) == declared
        assert list(other.form.fields["ordering"].widget.choices) == declared
        assert not isinstance(other.form.fields["stage"].widget, django_filters.widgets.BooleanWidget)
        assert other.form.fields["ordering"].error_messages["invalid_choice"] != "Changed by one view"


def test_a_model_choice_field_of_each_form_has_its_own_queryset() -> None:
    first = StageAndUnit(QueryDict(""), queryset=RegisteredModel.objects.all())
    second = StageAndUnit(QueryDict(""), queryset=RegisteredModel.objects.all())

    assert first.form.fields["unit"].queryset is not second.form.fields["unit"].queryset
    assert first.form.fields["unit"].widget is not second.form.fields["unit"].widget


def test_filters_read_the_fields_the_form_class_was_built_from_instead_of_building_their_own() -> None:
    first = StageByMethod(QueryDict("ordering=name"), queryset=RegisteredModel.objects.all())
    assert first.is_valid()
    second = StageByMethod(QueryDict("ordering=key"), queryset=RegisteredModel.objects.all())

    assert second.filters["ordering"].field is type(first.form).base_fields["ordering"]
    assert second.form.fields["ordering"] is not type(first.form).base_fields["ordering"]
    assert [model.key for model in second.qs] == []
