"""Gate fixtures: an isolated signing key per test, and model A brought to an approved Tier 3 version."""

from __future__ import annotations

from typing import Any

import pytest

from governance.services.workflow import version_decide, version_submit
from inventory.models import ModelVersion
from inventory.services.artifacts import artifact_ingest
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64


@pytest.fixture(autouse=True)
def gate_settings(settings: Any, tmp_path: Any) -> Any:
    """Each test signs with a key generated in its own directory; every environment is gated."""
    settings.GATE_KEY_DIR = tmp_path / "keys"
    settings.GATE_SIGNING_KEY = None
    settings.GATE_PREVIOUS_PUBLIC_KEYS = None
    settings.GATE_UNGATED_ENVIRONMENTS = []
    return settings


def make_version(personas: Any, label: str = "1.0.0", digest: str = DIGEST) -> ModelVersion:
    """A draft version of model A carrying ``digest``, with its model file recorded by the CI account."""
    version = ModelVersionFactory(model=personas.model_a, version=label, actor=personas.owner_a, artifact_digest=digest)
    artifact_ingest(
        actor=personas.ci_scoped,
        version=version,
        kind="model_file",
        data={"uri": f"s3://models/rb-0001/{label}/model.pkl", "digest": digest},
    )
    return version


def approve(personas: Any, version: ModelVersion) -> ModelVersion:
    """Take a Tier 3 version through risk review (owner submits, risk officer approves)."""
    version_submit(actor=personas.owner_a, version=version)
    version_decide(actor=personas.risk_officer, version=version, approve=True, comment="Fit for use")
    version.refresh_from_db()
    return version


@pytest.fixture
def tier3_a(personas: Any) -> Any:
    """Model A assessed and approved at Tier 3 (risk review only, one approver, model_file evidence)."""
    approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    return personas.model_a


@pytest.fixture
def approved_version(personas: Any, tier3_a: Any) -> ModelVersion:
    """Version 1.0.0 of model A, approved with digest ``DIGEST``."""
    return approve(personas, make_version(personas))
