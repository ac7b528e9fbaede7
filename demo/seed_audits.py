"""The demo's bias audit: the German Credit model's test-set predictions stored as its evaluation data, and one
bias audit requested, which the demo's own worker runs once the seed has committed.

The German figures fail the equalized-odds threshold (0.1388 > 0.1 by age group), so the demo shows a failing
audit and its finding. Idempotent: data already stored is reused and an audit already requested is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_request, evaluation_dataset_create
from inventory.models import ModelVersion

GERMAN_KEY = "CR-0001"
GERMAN_VERSION = "1.0.0"
DATASET_NAME = "German Credit test split"
MAPPING = {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex", "age_group"]}
IDEMPOTENCY_KEY = "demo:german-credit:first-audit"


@dataclass
class AuditsSummary:
    """What the audits seed created."""

    datasets: int = 0
    runs: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was created."""
        return bool(self.datasets or self.runs)


@transaction.atomic
def seed_audits(*, predictions_path: Path) -> AuditsSummary:
    """Store the German Credit predictions for CR-0001 v1.0.0 and request its first bias audit (queued on commit)."""
    summary = AuditsSummary()
    version = (
        ModelVersion.objects.select_related("model__technical_owner")
        .filter(model__key=GERMAN_KEY, version=GERMAN_VERSION)
        .first()
    )
    if version is None or not predictions_path.exists():
        return summary
    actor = version.model.technical_owner
    dataset = EvaluationDataset.objects.filter(version=version, name=DATASET_NAME).first()
    if dataset is None:
        upload = SimpleUploadedFile(predictions_path.name, predictions_path.read_bytes(), content_type="text/csv")
        dataset = evaluation_dataset_create(
            actor=actor, version=version, name=DATASET_NAME, mapping=MAPPING, upload=upload
        )
        summary.datasets += 1
    if not AuditRun.objects.filter(idempotency_key=IDEMPOTENCY_KEY).exists():
        bias_audit_request(actor=actor, dataset=dataset, idempotency_key=IDEMPOTENCY_KEY)
        summary.runs += 1
    return summary
