"""Report exports: one row per requested report file, from queued to a stored file with its SHA-256."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from guardian.models import UserObjectPermissionBase

from reports.choices import ExportKind, ExportStatus


def export_upload_to(instance: Export, filename: str) -> str:
    """``exports/<id>/<file name>``: one folder per export, so a re-run replaces its own file and nothing else."""
    return f"exports/{instance.pk}/{filename}"


class Export(models.Model):
    """One requested export (register, report, evidence pack): what, with which filters, by whom, and its file.

    The requester sees their own exports through an object permission granted by the service; Risk Officers,
    Auditors and Admins see every export through their roles. ``idempotency_key`` lets a scheduler ask for "the
    portfolio report of 2026-11" any number of times and get one export.
    """

    object_permissions = True

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    params: models.JSONField[Any, Any] = models.JSONField(
        default=dict, blank=True, help_text="Filters, as-of date or model keys the export was asked with."
    )
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=export_upload_to, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exports",
        help_text="Empty for scheduled exports.",
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            # The downloads page: a user's exports, newest first.
            models.Index(fields=["requested_by", "-requested_at"], name="export_requester_idx"),
            # Exports by kind, newest first (the latest monthly portfolio report).
            models.Index(fields=["kind", "-requested_at"], name="export_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"


class ExportUserObjectPermission(UserObjectPermissionBase):
    """Per-user object permissions on exports (the requester's view) with a real foreign key."""

    content_object = models.ForeignKey(Export, on_delete=models.CASCADE)
