"""Dossier tabs of a model that the inventory serves beyond its record page: the field history.

The model is fetched through the permission gate (``registered_model_get``), so a model the user may not see is
a 404, and the versions listed are those the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from inventory.models import ModelVersion, RegisteredModel
from inventory.selectors import (
    HistoryEntry,
    model_version_queryset,
    object_history,
    objects_history,
    registered_model_get,
)
from inventory.views import page_size, signed_in


@dataclass(frozen=True)
class SubjectEntry:
    """One history entry with the object it belongs to (the model's record or one of its versions)."""

    subject: str
    entry: HistoryEntry


def dossier_history(*, user: Any, model: RegisteredModel) -> list[SubjectEntry]:
    """The field history of a model and of each version ``user`` may see, newest first, merged into one list."""
    entries = [SubjectEntry("Model record", entry) for entry in object_history(obj=model)]
    versions = list(model_version_queryset(user=user).filter(model=model).order_by("-created_at", "-id"))
    histories = objects_history(model=ModelVersion, ids=[version.pk for version in versions])
    for version in versions:
        entries.extend(SubjectEntry(f"Version {version.version}", entry) for entry in histories[version.pk])
    # History ids grow per table, not across tables, so the id only breaks ties within one object.
    entries.sort(key=lambda item: (item.entry.date, item.entry.history_id), reverse=True)
    return entries


@login_required
@require_safe
def model_history(request: HttpRequest, key: str) -> HttpResponse:
    """The History tab: who changed which field of the model and its versions, when and why, newest first."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    page = Paginator(dossier_history(user=user, model=model), page_size(request.GET.get("per_page"))).get_page(
        request.GET.get("page")
    )
    context = {
        "model": model,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }
    return render(request, "inventory/model_history.html", context)
