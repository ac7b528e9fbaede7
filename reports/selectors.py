"""Reads of exports, from the permission gate: a requester sees their own, Risk Officers, Auditors and Admins
every export; anything else is absent (a 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from core.permissions import restrict
from reports.models import Export


def export_queryset(*, user: Any) -> QuerySet[Export]:
    """Exports the user may see, newest first, with the requester loaded."""
    return restrict(user, "view", Export.objects.all()).select_related("requested_by")


def export_get(*, user: Any, pk: Any) -> Export:
    """One visible export, or 404."""
    export = export_queryset(user=user).filter(pk=pk).first() if str(pk).isdigit() else None
    if export is None:
        raise Http404("No such export visible to you.")
    return export


def export_file(export: Export) -> Any:
    """The export's stored file, opened for reading; 404 when it is not ready or has gone from storage."""
    if not export.file:
        raise Http404("This export has no file (yet).")
    try:
        return export.file.open("rb")
    except FileNotFoundError:
        raise Http404("The export's file is no longer stored.") from None
