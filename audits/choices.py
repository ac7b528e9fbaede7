"""Enumerations of audits."""

from django.db import models

# The per-group rates a bias audit reports, in the order pages and reports show them (audits.fairness computes them;
# they live here so pages can name them without importing the numeric code).
RATE_METRICS = ("selection_rate", "tpr", "fpr", "fnr", "accuracy", "precision")


class DatasetSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    REFERENCE = "reference", "Referenced where it lives"


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class AuditKind(models.TextChoices):
    BIAS = "bias", "Bias audit"
    COMPLIANCE = "compliance", "Compliance sweep"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


FINISHED_STATUSES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)
