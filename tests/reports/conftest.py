"""Reports fixtures: a second business unit with a confidential model, files under a per-test media root."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.utils import timezone

from core import roles
from inventory.choices import DataSensitivity, LifecycleStage, ModelType
from inventory.models import RegisteredModel
from tests.celery_apps import private_queue_app
from tests.factories import BusinessUnitFactory, RegisteredModelFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    # Export files go to a folder of the test's own, so nothing is left in var/ and tests cannot see each other's.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@dataclass
class Inventory:
    """The personas' two Retail models plus a confidential model of another unit and a production model."""

    confidential: RegisteredModel
    production: RegisteredModel


@pytest.fixture
def inventory(personas: Any) -> Inventory:
    corporate = BusinessUnitFactory(code="CORP", name="Corporate Banking", key_prefix="CB")
    corporate_owner = UserFactory(username="owner_corp", roles=[roles.MODEL_OWNER])
    confidential = RegisteredModelFactory(
        key="CB-0001",
        name="M&A target screener",
        business_unit=corporate,
        business_owner=corporate_owner,
        technical_owner=corporate_owner,
        data_sensitivity=DataSensitivity.CONFIDENTIAL,
        model_type=ModelType.STATISTICAL,
    )
    production = RegisteredModelFactory(
        key="RB-0003",
        name="Mortgage LGD",
        business_unit=personas.unit,
        business_owner=personas.owner_a,
        technical_owner=personas.owner_a,
        lifecycle_stage=LifecycleStage.PRODUCTION,
        next_validation_due=timezone.localdate() - datetime.timedelta(days=3),
        tags=["pd", "retail"],
        validators=[personas.validator_assigned],
        vendor_name="Acme Analytics",
    )
    return Inventory(confidential=confidential, production=production)


@pytest.fixture
def redis_app(redis_url: str) -> Iterator[Celery]:
    """A Celery app configured like the portal's, on Redis database 10 (the reports tests') and a queue of its own.

    The embedded worker makes its app the process-wide current app; the portal's is put back afterwards.
    """
    url = redis_url.rsplit("/", 1)[0] + "/10"
    with private_queue_app("reports-test", url) as app:
        yield app
