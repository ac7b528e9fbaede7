"""Saved inventory views: a person's named filters and columns for the inventory list.

A saved view belongs to one person; only they may rename or delete it (the pages look it up among the user's own
views, so another person's view is a 404 before these checks are reached).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core.models import User
from inventory.models import INVENTORY_COLUMNS, SavedView

NAME_MAX = 100
QUERY_MAX = 2000
# Query-string parameters that describe the current page or selection rather than a filter, so they are not saved.
TRANSIENT_PARAMETERS = frozenset({"page", "saved", "select", "csrfmiddlewaretoken"})
COLUMN_CODES = tuple(code for code, _ in INVENTORY_COLUMNS)


def clean_query(query: str) -> str:
    """The filters of an inventory query string, without paging or selection, in a stable order."""
    pairs = [(key, value) for key, value in parse_qsl(query or "", keep_blank_values=False) if value.strip()]
    kept = [(key, value) for key, value in pairs if key not in TRANSIENT_PARAMETERS]
    cleaned = urlencode(kept)
    if len(cleaned) > QUERY_MAX:
        raise ValidationError({"query": [f"These filters are too long to save (at most {QUERY_MAX} characters)."]})
    return cleaned


def clean_columns(columns: Iterable[str]) -> list[str]:
    """Known column codes in display order; at least the key or the name, so every row links to its model."""
    chosen = set(columns)
    unknown = sorted(chosen - set(COLUMN_CODES))
    if unknown:
        raise ValidationError({"columns": [f"Unknown column(s): {', '.join(unknown)}."]})
    if not chosen & {"key", "name"}:
        raise ValidationError({"columns": ["Choose the key or the name, so each row links to its model."]})
    return [code for code in COLUMN_CODES if code in chosen]


def _clean_name(name: str, *, owner: User, excluding: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the view a name."]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"At most {NAME_MAX} characters (got {len(name)})."]})
    taken = SavedView.objects.filter(owner=owner, name__iexact=name).exclude(pk=excluding)
    if taken.exists():
        raise ValidationError({"name": [f"You already have a view named “{name}”."]})
    return name


def _require_owner(actor: User, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise PermissionDenied("Only the person who saved a view may change it.")


@transaction.atomic
def saved_view_create(*, actor: User, name: str, query: str, columns: Iterable[str]) -> SavedView:
    """Save the actor's current inventory filters and columns under a name unique among their views."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in to save views.")
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for field, clean in (
        ("name", lambda: _clean_name(name, owner=actor)),
        ("query", lambda: clean_query(query)),
        ("columns", lambda: clean_columns(columns)),
    ):
        try:
            values[field] = clean()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=actor, **values)
    except IntegrityError:
        # Another request saved the same name a moment ago (the unique constraint is the last word).
        raise ValidationError({"name": [f"You already have a view named “{values['name']}”."]}) from None


@transaction.atomic
def saved_view_rename(*, actor: User, view: SavedView, name: str) -> SavedView:
    """Give one of the actor's views another name."""
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    _require_owner(actor, view)
    view.name = _clean_name(name, owner=actor, excluding=view.pk)
    view.save(update_fields=["name", "updated_at"])
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Delete one of the actor's views."""
    _require_owner(actor, view)
    view.delete()
