"""What every FilterSet of the portal shares."""

from __future__ import annotations

import copy
from typing import Any

import django_filters
from django import forms
from django.db.models import Lookup
from django.http import QueryDict
from django_filters.filters import FilterMethod


class PortalFilterSet(django_filters.FilterSet):
    """A FilterSet whose form class is built once per FilterSet class instead of once per request.

    django-filter builds a new form class on every request: a form field per filter, then a class around them, which
    for the inventory's fourteen filters cost more than the database took to answer. The fields depend on the
    FilterSet's declared filters only (unless a filter's choices come from the request), so the class is kept; each form
    still copies its fields when it is made, so a view that changes a field of its form (its label, widget or the
    widget's choices) changes only that form; the copy is Django's deep copy of a field without the deep copy of its
    choices, which are tuples of text no view changes in place.

    Each FilterSet's filters are also copied without the deep copy django-filter makes (which for fourteen filters
    copied their choices, querysets and every value they hold, on every request): a filter's state that a request
    may change, its ``extra`` arguments, its form field and its ``method`` link back to the FilterSet, is its own in
    each copy, and the rest is configuration no request writes.
    """

    def __init__(
        self, data: Any = None, queryset: Any = None, *, request: Any = None, prefix: str | None = None
    ) -> None:
        # django-filter's __init__ with its deep copy of base_filters replaced by _own_copy.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: _own_copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self

    def get_form_class(self) -> Any:
        cls = type(self)
        if any(callable(filter_.extra.get("queryset")) for filter_ in self.filters.values()):
            # A filter whose choices are computed from the request (``queryset=lambda request: ...``) needs its
            # own form class for every request.
            return super().get_form_class()
        form_class = cls.__dict__.get("_portal_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _FormFields(form_class.base_fields)
            # The declared filters keep the fields the class was built from: a filter reads its field's choices
            # when it filters (a multiple choice filter with every choice ticked filters nothing), and would
            # otherwise build a field per request for that.
            for name, filter_ in self.filters.items():
                cls.base_filters[name]._field = filter_.field
            # Set on the class itself, so a subclass with other filters builds its own.
            cls._portal_form_class = form_class
        return form_class


def _own_copy(filter_: Any) -> Any:
    """A copy of a declared filter for one FilterSet: shares its configuration, not what a request may change."""
    copied = copy.copy(filter_)
    # A ModelChoiceFilter writes the queryset it computed from the request into extra.
    copied.extra = dict(filter_.extra)
    if callable(filter_.extra.get("queryset")):
        # Its field's choices come from the request: built (and cached) from extra on first use.
        copied.__dict__.pop("_field", None)
    if isinstance(filter_.__dict__.get("filter"), FilterMethod):
        # The method is looked up on the FilterSet the filter belongs to.
        copied.filter = FilterMethod(copied)
    return copied


class _FormFields(dict[str, forms.Field]):
    """A form class's fields, which each form copies with :func:`_field_copy` instead of a deep copy."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return {name: _field_copy(field) for name, field in self.items()}


def _field_copy(field: forms.Field) -> forms.Field:
    """What ``Field.__deepcopy__`` makes (own widget, error messages and validators; a model field's own queryset),
    with a choice field's list of choices copied instead of deep-copied."""
    copied = copy.copy(field)
    copied.widget = copy.deepcopy(field.widget)
    copied.error_messages = field.error_messages.copy()
    copied.validators = field.validators[:]
    if isinstance(field, forms.ModelChoiceField) and isinstance(copied, forms.ModelChoiceField):
        if field.queryset is not None:
            copied.queryset = field.queryset.all()
    elif isinstance(field, forms.ChoiceField):
        copied._choices = copy.copy(field._choices)  # type: ignore[attr-defined]
    return copied


class InCollectedRows(Lookup):
    """``lhs IN (subquery)`` that PostgreSQL answers by running the subquery first: ``lhs = ANY(ARRAY(subquery))``.

    PostgreSQL may answer ``IN (subquery)`` or ``EXISTS`` either way round: collect the subquery's rows and look
    each one up, or walk the outer table in the order asked for and probe the subquery for every row until the page
    is full. With the subquery's parameters unknown to the planner (a prepared statement's generic plan, or a value
    read by another subquery) it assumes an average match and walks; for a filter that matches few rows that walk
    reads most of the table. The array is built before the outer rows are read, so the outer table is looked up by
    the subquery's rows and never walked. Use it where the caller knows the subquery is small; elsewhere (SQLite)
    it is a plain ``IN``.

    Used directly in ``filter()``: ``queryset.filter(InCollectedRows(F("pk"), subquery))``.
    """

    lookup_name = "in_collected_rows"
    prepare_rhs = False

    def _sides(self, compiler: Any, connection: Any) -> tuple[str, str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return lhs, rhs, (*lhs_params, *rhs_params)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} IN {rhs}", params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, rhs, params = self._sides(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", params
