"""Fuzzing fixtures: the live OpenAPI schema, loaded through the WSGI app, and one API token per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from core.services import api_token_issue


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path: Path) -> None:
    # Uploads the fuzzer manages to get accepted and the gate's signing key stay in the test's own folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GATE_KEY_DIR = tmp_path / "keys"
    settings.GATE_SIGNING_KEY = None


@pytest.fixture
def fuzz_world(personas: Any) -> Any:
    """Rows behind most operations, so lists render real records and detail paths can name real objects: model
    A approved at Tier 3 (assessment, ledger), a version with its model file, a finding and a gate decision."""
    from gate.services import gate_check
    from governance.services.findings import finding_raise
    from tests.gate.conftest import DIGEST, make_version
    from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

    approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    make_version(personas)
    finding_raise(
        actor=personas.validator_assigned,
        model=personas.model_a,
        title="Override rate not monitored",
        severity="medium",
        due_date="2027-01-31",
    )
    gate_check(
        actor=personas.ci_scoped, model_key="RB-0001", version_label="1.0.0", environment="production", digest=DIGEST
    )
    return personas


# The first object of each path's collection, by the path's first segment: (model, lookup field).
REAL_OBJECTS = {
    "models": ("inventory.RegisteredModel", "key"),
    "lineage": ("inventory.RegisteredModel", "key"),
    "business-units": ("inventory.BusinessUnit", "code"),
    "versions": ("inventory.ModelVersion", "pk"),
    "version-workflow": ("inventory.ModelVersion", "pk"),
    "dependencies": ("inventory.ModelDependency", "pk"),
    "artifacts": ("inventory.Artifact", "pk"),
    "deployments": ("inventory.Deployment", "pk"),
    "external-models": ("inventory.ExternalRegistryModel", "pk"),
    "users": ("core.User", "username"),
    "questionnaires": ("governance.Questionnaire", "version"),
    "risk-assessments": ("governance.RiskAssessment", "pk"),
    "tier-overrides": ("governance.TierOverride", "pk"),
    "policy-packs": ("governance.PolicyPack", "code"),
    "tier-policies": ("governance.TierPolicy", "pk"),
    "findings": ("governance.Finding", "pk"),
    "ledger": ("governance.GovernanceEvent", "seq"),
    "gate": ("gate.GateDecision", "pk"),
    "metrics": ("monitoring.MetricObservation", "pk"),
    "monitoring-targets": ("monitoring.MonitoringTarget", "pk"),
    "drift-datasets": ("monitoring.DriftDataset", "pk"),
    "drift-runs": ("monitoring.DriftRun", "pk"),
    "evaluation-datasets": ("audits.EvaluationDataset", "pk"),
    "audit-runs": ("audits.AuditRun", "pk"),
    "compliance-sweeps": ("audits.ComplianceSweep", "pk"),
    "schedules": ("django_celery_beat.PeriodicTask", "pk"),
    "exports": ("reports.Export", "pk"),
}


def real_path_parameters(path: str, names: list[str]) -> dict[str, Any] | None:
    """Path parameters naming an object that exists (``/api/v1/findings/{id}/`` -> the first finding's id), or
    None when the path's collection is unknown or empty."""
    from django.apps import apps

    segment = path.removeprefix("/api/v1/").split("/")[0]
    if segment not in REAL_OBJECTS or len(names) != 1:
        return None
    label, field = REAL_OBJECTS[segment]
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    value = model._default_manager.order_by("pk").values_list(field, flat=True).first()
    return None if value is None else {names[0]: str(value)}


@pytest.fixture
def wsgi_requests() -> Iterator[None]:
    """Let cases call the real WSGI handler inside the test's transaction.

    The handler closes the database connection at the end of each request when it sits in a transaction; the
    test's own transaction is one, so that is switched off while the fuzzer runs (Django's test client does the
    same).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def role_headers(personas: Any) -> dict[str, dict[str, str]]:
    """The Authorization header of each persona, by persona name, as a pipeline sends it."""
    headers = {}
    for name in ("owner_a", "validator_assigned", "risk_officer", "auditor", "ci_scoped", "admin"):
        user = getattr(personas, name)
        _, clear = api_token_issue(actor=user, user=user, name="fuzz")
        headers[name] = {"Authorization": f"Token {clear}"}
    return headers
