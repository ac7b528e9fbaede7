"""Read-only admin for gate decisions: they are facts, written once by the gate's service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from gate.models import GateDecision


@admin.register(GateDecision)
class GateDecisionAdmin(ReadOnlyAdmin):
    """Browse and read decisions; nobody adds, changes or deletes one here."""

    list_display = ("created_at", "decision", "model", "version_label", "environment", "digest", "requested_by")
    list_filter = ("decision", "environment", "gated")
    search_fields = ("model__key", "version_label", "digest", "id")
    list_select_related = ("model", "requested_by")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in GateDecision._meta.fields]
