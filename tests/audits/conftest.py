"""Audits fixtures: a Tier 1 model with a version, the German Credit reference predictions, CSV helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

GERMAN_PREDICTIONS = Path(__file__).resolve().parents[2] / "demo" / "data" / "german_lr_predictions.csv"
GERMAN_MAPPING = {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"]}


def upload(content: bytes, name: str = "predictions.csv") -> SimpleUploadedFile:
    """A file as the API or a form would hand it to the service."""
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    # Uploads go to a folder of the test's own, so nothing is left in var/ and tests cannot see each other's files.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def version_a(personas: Any) -> Any:
    """Version 1.0.0 of model A, which is approved as Tier 1 (thresholds: four-fifths rule, EOD ≤ 0.1)."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    return ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)


@pytest.fixture
def german_csv() -> bytes:
    return GERMAN_PREDICTIONS.read_bytes()


def bias_schedule() -> Any:
    """A daily, interval-based schedule of the due-bias-audits task, apart from the installed defaults (which
    are crontab-based), so the tests start from a known timing."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    task, _ = PeriodicTask.objects.get_or_create(
        name="test-due-bias-audits", defaults={"task": "audits.tasks.request_due_bias_audits", "interval": interval}
    )
    return task
