"""What every FilterSet of the portal shares."""

from __future__ import annotations

from typing import Any

import django_filters


class PortalFilterSet(django_filters.FilterSet):
    """A FilterSet whose form class is built once per FilterSet class instead of once per request.

    django-filter builds a new form class on every request: a form field per filter, then a class around them, which
    for the inventory's fourteen filters cost more than the database took to answer. The fields depend on the
    FilterSet's declared filters only (unless a filter's choices come from the request), so the class is kept; each form
    still deep-copies its fields when it is made, so a view that changes a field of its form changes only that form.
    """

    def get_form_class(self) -> Any:
        cls = type(self)
        if any(callable(filter_.extra.get("queryset")) for filter_ in self.filters.values()):
            # A filter whose choices are computed from the request (``queryset=lambda request: ...``) needs its
            # own form class for every request.
            return super().get_form_class()
        form_class = cls.__dict__.get("_portal_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            # Set on the class itself, so a subclass with other filters builds its own.
            cls._portal_form_class = form_class
        return form_class
