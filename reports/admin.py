"""Admin view of exports: read-only, since an export is requested through its service (ledger, permissions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Lists and detail pages only: no add, change or delete."""

    list_display = ("id", "kind", "status", "progress", "requested_by", "requested_at", "finished_at", "size")
    list_filter = ("kind", "status")
    search_fields = ("requested_by__username", "sha256", "idempotency_key")
    ordering = ("-requested_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
