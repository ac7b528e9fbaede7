"""Monitoring fixtures: model A approved as Tier 1 with a version, the Adult splits as CSV, an agreed target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.services import target_agree, target_propose
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

# The real MLflow tracking server of the MLflow import tests, for the import of run metrics; started only by the
# tests that ask for it.
from tests.inventory.mlflow.conftest import mlflow_content, mlflow_server, sync_account_reports_for_a  # noqa: F401

ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
]


def upload(content: bytes, name: str = "table.csv") -> SimpleUploadedFile:
    """A file as the API or a form would hand it to the service."""
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def version_a(personas: Any) -> Any:
    """Version 1.0.0 of model A, approved as Tier 1."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    return ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)


@pytest.fixture(scope="session")
def adult_splits() -> dict[str, bytes]:
    """The Adult train split, the test split and the test split ten years older, as CSV bytes."""
    frame = pd.read_csv(ADULT, keep_default_na=False, na_values=[""])
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    return {
        "train": train.to_csv(index=False).encode(),
        "test": test.to_csv(index=False).encode(),
        "older": test.assign(age=test["age"] + 10).to_csv(index=False).encode(),
    }


def agreed_target(personas: Any, model: Any, **values: Any) -> Any:
    """A target proposed by the model's owner and agreed by the Risk Officer."""
    target = target_propose(actor=personas.owner_a, model=model, values=values, reason="Agreed at the model review")
    return target_agree(actor=personas.risk_officer, target=target)
