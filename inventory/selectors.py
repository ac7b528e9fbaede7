"""Reads of the inventory. Each starts from the permission gate and loads related rows up front, so a page or
an API answer costs a fixed number of queries whatever its size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from core.models import User
from core.permissions import restrict
from inventory.choices import APPROVAL_HOLDING_STATES, ArtifactKind
from inventory.models import Artifact, BusinessUnit, ModelDependency, ModelVersion, RegisteredModel, Tag

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}

# Artifact kinds whose digest names something that can be deployed.
DEPLOYABLE_KINDS = (ArtifactKind.CONTAINER_IMAGE, ArtifactKind.MODEL_FILE)


def approved_digests(version: ModelVersion) -> frozenset[str]:
    """The digests a deployment of ``version`` may carry: what was approved, nothing added afterwards.

    That is the version's own artifact digest plus the digests of its container images and model files
    recorded before the approval. An image attached after the approval was never reviewed, so it is not
    approved however it is named. A version that holds no approval has no approved digests.
    """
    if version.state not in APPROVAL_HOLDING_STATES or version.approved_by_id is None or version.approved_at is None:
        return frozenset()
    digests = set(
        Artifact.objects.filter(version=version, kind__in=DEPLOYABLE_KINDS, created_at__lte=version.approved_at)
        .exclude(digest="")
        .values_list("digest", flat=True)
    )
    if version.artifact_digest:
        digests.add(version.artifact_digest)
    return frozenset(digests)


def registered_model_queryset(*, user: Any, action: str = "view") -> QuerySet[RegisteredModel]:
    """Models the user may act on, with what the inventory list shows loaded in a fixed number of queries."""
    return (
        restrict(user, action, RegisteredModel.objects.all())
        .select_related("business_unit", "business_owner", "technical_owner")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name")),
        )
    )


def registered_model_get(*, user: Any, key: str, action: str = "view") -> RegisteredModel:
    """One model by key, or 404 when it does not exist or the user may not see (or act on) it."""
    model = (
        registered_model_queryset(user=user, action=action)
        .prefetch_related(Prefetch("validators", queryset=User.objects.order_by("username")))
        .filter(key=key)
        .first()
    )
    if model is None:
        raise Http404(f"No model {key} visible to you.")
    return model


def business_unit_queryset(*, user: Any, action: str = "view") -> QuerySet[BusinessUnit]:
    return restrict(user, action, BusinessUnit.objects.all()).select_related("parent", "head")


def model_version_queryset(*, user: Any, action: str = "view") -> QuerySet[ModelVersion]:
    return restrict(user, action, ModelVersion.objects.all()).select_related(
        "model", "created_by", "submitted_by", "approved_by"
    )


def model_dependency_queryset(*, user: Any, action: str = "view") -> QuerySet[ModelDependency]:
    return restrict(user, action, ModelDependency.objects.all()).select_related("upstream", "downstream")


@dataclass
class FieldChange:
    """One field's old and new value in a history entry (display values for choices and relations)."""

    field: str
    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    """One change of an object: when, by whom, why, and which fields moved."""

    history_id: int
    date: datetime
    type: str
    user: str | None
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


def _display(record: Any, field_name: str, value: Any, model: type[Any]) -> Any:
    model_field = model._meta.get_field(field_name)
    if value is None:
        return None
    if model_field.many_to_many:
        return sorted(str(item) for item in value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        related = getattr(record, field_name, None)
        return getattr(related, "username", None) or getattr(related, "code", None) or str(related)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def object_history(*, obj: Any, limit: int | None = None) -> list[HistoryEntry]:
    """The field history of one object, newest first, each entry with the fields it changed."""
    model = type(obj)
    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id"))
    entries = []
    for index, record in enumerate(records[:limit] if limit else records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes: list[FieldChange] = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                if change.field in {"updated_at"}:
                    continue
                old, new = change.old, change.new
                model_field = model._meta.get_field(change.field)
                if model_field.many_to_many:
                    related = model_field.related_model
                    attribute = model_field.m2m_reverse_field_name()
                    ids = {row[attribute] for row in (old or []) + (new or [])}
                    names = {
                        item.pk: str(getattr(item, "username", None) or item)
                        for item in related.objects.filter(pk__in=ids)
                    }
                    old = sorted(names.get(row[attribute], "?") for row in old or [])
                    new = sorted(names.get(row[attribute], "?") for row in new or [])
                else:
                    old = _display(previous, change.field, old, model)
                    new = _display(record, change.field, new, model)
                changes.append(FieldChange(change.field, str(model_field.verbose_name), old, new))
        entries.append(
            HistoryEntry(
                history_id=record.history_id,
                date=record.history_date,
                type=HISTORY_TYPES.get(record.history_type, record.history_type),
                user=record.history_user.username if record.history_user else None,
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def registered_models_as_of(*, user: Any, when: datetime) -> QuerySet[Any]:
    """The inventory as it stood at ``when``: each model the user may see now, with its fields as they were then.

    Models registered after ``when`` are absent; the result holds model instances rebuilt from the history.
    """
    visible = restrict(user, "view", RegisteredModel.objects.all()).values("pk")
    return RegisteredModel.history.as_of(when).filter(id__in=visible).order_by("key")


def model_lineage(*, user: Any, model: RegisteredModel, max_depth: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Models upstream and downstream of ``model`` (transitively, up to ``max_depth`` hops) that the user may
    see, each with its distance, so the risk a model inherits or passes on can be traced."""
    visible = restrict(user, "view", RegisteredModel.objects.all())
    result: dict[str, list[dict[str, Any]]] = {}
    for direction, this_side, other_side in (
        ("upstream", "downstream_id", "upstream_id"),
        ("downstream", "upstream_id", "downstream_id"),
    ):
        found: dict[int, int] = {}
        frontier = {model.pk}
        for depth in range(1, max_depth + 1):
            next_ids = (
                set(ModelDependency.objects.filter(**{f"{this_side}__in": frontier}).values_list(other_side, flat=True))
                - set(found)
                - {model.pk}
            )
            if not next_ids:
                break
            for pk in next_ids:
                found[pk] = depth
            frontier = next_ids
        rows = visible.filter(pk__in=found).values("pk", "key", "name", "risk_tier", "lifecycle_stage")
        result[direction] = sorted(
            ({**row, "distance": found[row["pk"]]} for row in rows),
            key=lambda row: (row["distance"], row["key"]),
        )
    return result
