"""Evaluation data and audit runs.

An evaluation dataset is a model version's predictions on labelled data, with a column mapping, stored once
with its SHA-256 (or referenced where it lives). An audit run is one execution of a bias audit or a compliance
sweep: queued, running, then passed, failed or error, with the hashes of its inputs and its results as JSON.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from audits.choices import AuditKind, DatasetFormat, DatasetSource, RunStatus
from audits.compliance import ComplianceState
from inventory.models import ModelVersion, RegisteredModel


class EvaluationDataset(models.Model):
    """Labelled predictions of one model version, validated before it was stored.

    ``mapping`` names the columns: ``label``, ``prediction`` (or ``score`` with ``threshold``), ``sensitive``
    (one or more) and optional ``controls``. Rows, size and SHA-256 describe exactly what was audited.
    """

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="evaluation_datasets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=DatasetSource.choices)
    file = models.FileField(upload_to="evaluation/", blank=True)
    reference_uri = models.CharField(max_length=1000, blank=True)
    file_format = models.CharField(max_length=10, choices=DatasetFormat.choices)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveBigIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    columns: models.JSONField[Any, Any] = models.JSONField(default=list)
    mapping: models.JSONField[Any, Any] = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["version", "-created_at"], name="dataset_version_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.row_count} rows, {self.sha256[:12]})"


class AuditRun(models.Model):
    """One run of an audit, from queued to a verdict. ``idempotency_key`` makes a redelivered or repeated
    request find the run it already created instead of recording a second result."""

    permission_parent = "model"

    kind = models.CharField(max_length=20, choices=AuditKind.choices)
    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_runs"
    )
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_runs"
    )
    dataset = models.ForeignKey(
        EvaluationDataset, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_runs"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=200, unique=True)
    parameters: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    dataset_sha256 = models.CharField(max_length=64, blank=True)
    library_versions: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    policy_revision = models.CharField(max_length=50, blank=True)
    result: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    verdicts: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            # A model's runs, newest first (dossier audits tab) and the latest run per model and kind.
            models.Index(fields=["model", "kind", "-requested_at"], name="run_model_kind_idx"),
            # Runs by status (what is queued or running now, failures of the morning).
            models.Index(fields=["status", "-requested_at"], name="run_status_idx"),
        ]

    def __str__(self) -> str:
        target = self.model.key if self.model is not None else "portfolio"
        return f"{self.get_kind_display()} of {target} ({self.get_status_display()})"


class ComplianceStatus(models.Model):
    """One model's standing in one compliance sweep: compliant, non-compliant (with the rules it breaks) or exempt.

    ``broken_rules`` lists ``{"rule", "severity", "reason"}``; ``rule_ids`` holds the same ids as ``,CMP-001,``
    text, so "models breaking CMP-003" is a plain substring filter on SQLite and PostgreSQL alike (JSON
    containment is not available on SQLite).
    """

    permission_parent = "model"

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="compliance_statuses")
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="compliance_statuses")
    status = models.CharField(max_length=20, choices=ComplianceState.choices)
    broken_rules: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    rule_ids = models.CharField(max_length=500, blank=True)
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "model"]
        constraints = [models.UniqueConstraint(fields=["run", "model"], name="compliance_once_per_run_and_model")]
        indexes = [
            # A sweep's models filtered by status (?status=non_compliant), in model order.
            models.Index(fields=["run", "status", "model"], name="compliance_run_status_idx"),
            # A model's statuses, newest sweep first (its compliance history).
            models.Index(fields=["model", "-run"], name="compliance_model_run_idx"),
        ]
        verbose_name_plural = "compliance statuses"

    def __str__(self) -> str:
        return f"{self.model.key} in sweep #{self.run_id}: {self.get_status_display()}"
