"""Fixtures of the PDF reports and evidence pack tests (imported explicitly by those modules).

``report_world`` gives model A (owner_a's) a governance history made by the real services (risk assessment,
validation, approval with a condition, ledger entries) plus artifacts, a deployment, a failed bias audit with
per-group intervals and two compliance sweeps; model B (owner_b's, which owner_a may not see) gets findings,
a high-risk classification and an upstream link into model A, so every report can be checked for leaks.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.fairness import audit
from audits.models import AuditRun, ComplianceStatus
from core import roles
from governance.choices import FindingSeverity
from governance.models import GovernanceEvent
from governance.services import workflow
from governance.services.findings import finding_raise
from inventory.choices import ArtifactKind, EUAIActCategory, LifecycleStage, RegulatoryUse
from inventory.models import Artifact, Deployment, ModelDependency, ModelVersion, RegisteredModel
from tests.factories import ModelVersionFactory, UserFactory
from tests.governance.conftest import TIER_2_ANSWERS, approve_tier

IMAGE_DIGEST = "sha256:" + "ab" * 32
MODEL_DIGEST = "sha256:" + "cd" * 32
COMMIT = "github.com/bank/scorecard@3f2a9c1d0e4b5a6978877665544332211ffeeddc"


def pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's pdftotext extracts it (reading order, no layout)."""
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def bias_result(groups: dict[str, tuple[int, float]], feature: str = "applicant_group") -> dict[str, Any]:
    """An AuditRun.result as the audit service stores it, for one sensitive feature whose groups have the given
    size and selection rate (labels are random but fixed by the seed)."""
    rng = np.random.default_rng(7)
    truth, predicted, sensitive = [], [], []
    for name, (size, rate) in groups.items():
        truth.extend(rng.integers(0, 2, size).tolist())
        predicted.extend((rng.random(size) < rate).astype(int).tolist())
        sensitive.extend([name] * size)
    figures = audit(truth, predicted, {feature: sensitive}, bootstrap_samples=200).as_dict()
    value = figures["disparities_adequate_groups"]["demographic_parity_ratio"]
    figures["verdicts"] = {
        "demographic_parity_ratio": {
            "value": value,
            "threshold": 0.8,
            "rule": "min 0.8",
            "verdict": "pass" if value >= 0.8 else "fail",
        }
    }
    return {"dataset": {"rows": len(truth), "sha256": "e" * 64}, "analyses": {feature: figures}, "verdict": "failed"}


@dataclass
class ReportWorld:
    """The personas plus what the reports read about models A and B."""

    personas: Any
    model_a: RegisteredModel
    model_b: RegisteredModel
    version_a: ModelVersion
    bias_run: AuditRun
    sweeps: list[AuditRun]
    event_a: GovernanceEvent
    event_b: GovernanceEvent


def _sweep(when: dt.datetime, statuses: dict[RegisteredModel, tuple[str, list[dict[str, str]]]], key: str) -> AuditRun:
    run = AuditRun.objects.create(
        kind=AuditKind.COMPLIANCE,
        status=RunStatus.FAILED,
        idempotency_key=key,
        requested_at=when,
        finished_at=when,
        result={},
    )
    for model, (status, broken) in statuses.items():
        ComplianceStatus.objects.create(
            run=run,
            model=model,
            status=status,
            broken_rules=broken,
            rule_ids="," + ",".join(item["rule"] for item in broken) + "," if broken else "",
            evaluated_at=when,
        )
    return run


@pytest.fixture
def report_world(personas: Any) -> ReportWorld:
    p = personas
    today = timezone.localdate()
    second_officer = UserFactory(username="risk_officer_2", roles=[roles.RISK_OFFICER])
    model_a, model_b = p.model_a, p.model_b
    approve_tier(model_a, TIER_2_ANSWERS, p.owner_a, p.risk_officer)
    approve_tier(model_b, TIER_2_ANSWERS, p.owner_b, second_officer)
    version_a = ModelVersionFactory(model=model_a, version="1.0.0", artifact_digest=MODEL_DIGEST)
    workflow.version_submit(actor=p.owner_a, version=version_a, comment="Ready for validation")
    workflow.version_start_validation(actor=p.validator_assigned, version=version_a)
    workflow.version_validate(
        actor=p.validator_assigned,
        version=version_a,
        passed=True,
        comment="Conceptually sound and well documented",
        findings=[
            {"title": "Document the override process", "severity": "medium", "due_date": today + dt.timedelta(days=60)}
        ],
    )
    workflow.version_decide(
        actor=p.risk_officer,
        version=version_a,
        approve=True,
        comment="Approved subject to quarterly drift monitoring",
        conditions=[
            {
                "title": "Quarterly drift monitoring report",
                "severity": "high",
                "due_date": today + dt.timedelta(days=90),
            }
        ],
    )
    version_a.refresh_from_db()
    finding_raise(
        actor=p.risk_officer,
        model=model_b,
        title="Fraud threshold undocumented BETA-SECRET",
        severity=FindingSeverity.HIGH,
        due_date=today + dt.timedelta(days=10),
    )
    # The model A finding is overdue: its due date is moved into the past as an old finding would be.
    overdue = finding_raise(
        actor=p.risk_officer,
        model=model_a,
        title="Stale calibration evidence",
        severity=FindingSeverity.CRITICAL,
        due_date=today + dt.timedelta(days=1),
    )
    type(overdue).objects.filter(pk=overdue.pk).update(
        due_date=today - dt.timedelta(days=12), created_at=timezone.now() - dt.timedelta(days=40)
    )
    RegisteredModel.objects.filter(pk=model_a.pk).update(
        lifecycle_stage=LifecycleStage.PRODUCTION,
        next_validation_due=today - dt.timedelta(days=5),
        regulatory_uses=[RegulatoryUse.CREDIT_DECISION],
    )
    RegisteredModel.objects.filter(pk=model_b.pk).update(
        eu_ai_act_category=EUAIActCategory.HIGH_RISK, regulatory_uses=[RegulatoryUse.EMPLOYMENT]
    )
    model_a.refresh_from_db()
    model_b.refresh_from_db()

    now = timezone.now()
    Artifact.objects.create(version=version_a, kind=ArtifactKind.GIT_COMMIT, identity=COMMIT, name="3f2a9c1")
    Artifact.objects.create(
        version=version_a,
        kind=ArtifactKind.CI_RUN,
        identity="jenkins/pd-scorecard#4711",
        name="jenkins pd-scorecard #4711",
        uri="https://ci.bank.example/job/pd-scorecard/4711",
    )
    Artifact.objects.create(
        version=version_a,
        kind=ArtifactKind.CONTAINER_IMAGE,
        identity=IMAGE_DIGEST,
        name="registry.bank.example/pd-scorecard:1.0.0",
        digest=IMAGE_DIGEST,
    )
    Artifact.objects.create(
        version=version_a,
        kind=ArtifactKind.DATASET_VERSION,
        identity="s3://lake/credit/applications@v12",
        name="applications v12",
    )
    Deployment.objects.create(
        version=version_a,
        environment="production",
        target="k8s/prod/scorecard",
        digest=MODEL_DIGEST,
        deployed_at=now - dt.timedelta(days=1),
        matches_approval=True,
    )
    # Model A uses model B's output: the dependency names B, which owner_a may not see.
    ModelDependency.objects.create(upstream=model_b, downstream=model_a, description="fraud flag as input")

    bias_run = AuditRun.objects.create(
        kind=AuditKind.BIAS,
        model=model_a,
        version=version_a,
        status=RunStatus.FAILED,
        idempotency_key="bias-a-1",
        requested_by=p.owner_a,
        requested_at=now - dt.timedelta(hours=2),
        finished_at=now - dt.timedelta(hours=1),
        dataset_sha256="e" * 64,
        policy_revision="sr-11-7@1",
        result=bias_result({"Zephyrgroup": (400, 0.30), "Quillgroup": (300, 0.60), "Tinygroup": (12, 0.5)}),
    )
    bias_run.verdicts = {"applicant_group": {"demographic_parity_ratio": "fail"}}
    bias_run.save(update_fields=["verdicts"])

    cmp2 = {"rule": "CMP-002", "severity": "high", "reason": "No approved risk assessment."}
    cmp4 = {"rule": "CMP-004", "severity": "high", "reason": "Revalidation was due 5 days ago."}
    sweeps = [
        _sweep(
            now - dt.timedelta(days=14), {model_a: ("non_compliant", [cmp2, cmp4]), model_b: ("compliant", [])}, "s1"
        ),
        _sweep(
            now - dt.timedelta(days=7), {model_a: ("non_compliant", [cmp4]), model_b: ("non_compliant", [cmp2])}, "s2"
        ),
        _sweep(now - dt.timedelta(days=1), {model_a: ("non_compliant", [cmp4]), model_b: ("compliant", [])}, "s3"),
    ]
    event_a = GovernanceEvent.objects.filter(model=model_a).order_by("-seq").first()
    event_b = GovernanceEvent.objects.filter(model=model_b).order_by("-seq").first()
    assert event_a is not None and event_b is not None
    return ReportWorld(p, model_a, model_b, version_a, bias_run, sweeps, event_a, event_b)
