"""Admin view of exports: read-only, since an export is requested through its service (ledger, permissions)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from reports.models import Export


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    """Lists and detail pages only: no add, change or delete."""

    list_display = ("id", "kind", "status", "progress", "requested_by", "requested_at", "finished_at", "size")
    list_filter = ("kind", "status")
    search_fields = ("requested_by__username", "sha256", "idempotency_key")
    ordering = ("-requested_at",)
