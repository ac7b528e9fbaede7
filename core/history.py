"""Field history: one historical record per change made by a service, with actor and reason.

django-simple-history writes a record on every ``save()`` and another on every many-to-many change, so an
update that edits fields and sets validators and tags would leave three records. Services instead save with
history switched off, apply the many-to-many changes, and then write exactly one record that holds the new
field values, the many-to-many snapshot, the actor and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords

CREATED = "+"
CHANGED = "~"
DELETED = "-"


class PortalHistoricalRecords(HistoricalRecords):
    """HistoricalRecords that remembers itself on the model, so services can write a record explicitly."""

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        cls._portal_history = self  # type: ignore[attr-defined]


def save_with_history(
    instance: models.Model,
    *,
    actor: Any,
    reason: str = "",
    m2m: Mapping[str, Any] | None = None,
    update_fields: list[str] | None = None,
) -> None:
    """Save ``instance``, set its many-to-many fields, and write one historical record for all of it."""
    created = instance._state.adding
    instance.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        instance.save(update_fields=None if created else update_fields)
        for field_name, values in (m2m or {}).items():
            getattr(instance, field_name).set(values)
    finally:
        del instance.skip_history_when_saving  # type: ignore[attr-defined]
    record_history(instance, CREATED if created else CHANGED, actor=actor, reason=reason)


def record_history(instance: models.Model, history_type: str, *, actor: Any, reason: str = "") -> None:
    """Write one historical record of ``instance`` as it is now."""
    records: HistoricalRecords = type(instance)._portal_history  # type: ignore[attr-defined]
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason or None  # type: ignore[attr-defined]
    try:
        records.create_historical_record(instance, history_type)
    finally:
        del instance._history_user  # type: ignore[attr-defined]
        del instance._change_reason  # type: ignore[attr-defined]
