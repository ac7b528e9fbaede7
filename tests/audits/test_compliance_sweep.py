"""The compliance sweep: records built set-based (the query count does not grow with the models), statuses
stored once per run, the summary, the task, and the API with its permission rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.models import AuditRun, ComplianceStatus
from audits.sweep import compliance_sweep_execute, compliance_sweep_request
from audits.tasks import run_compliance_sweep
from governance.choices import FindingSeverity
from governance.models import Finding, TierPolicy
from inventory.artifact_kinds import KINDS
from inventory.models import Artifact, ModelVersion, RegisteredModel
from inventory.services.artifacts import artifact_ingest, deployment_report
from tests.factories import ModelVersionFactory, RegisteredModelFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db


def _sweep(actor: Any) -> AuditRun:
    run = compliance_sweep_request(actor=actor, enqueue=False)
    return compliance_sweep_execute(run_id=run.pk)


def _statuses(run: AuditRun) -> dict[str, tuple[str, list[str]]]:
    return {
        status.model.key: (status.status, [item["rule"] for item in status.broken_rules])
        for status in ComplianceStatus.objects.filter(run=run).select_related("model")
    }


APPROVED_DIGEST = "sha256:" + "b" * 64
UNAPPROVED_DIGEST = "sha256:" + "c" * 64


def record_evidence(actor: Any, version: ModelVersion, names: list[str]) -> None:
    """One artifact per evidence name of a tier policy (``document:model_card`` a document of that type)."""
    for index, name in enumerate(names):
        kind, _, document_type = name.partition(":")
        spec = KINDS[kind]
        data = {field.name: field.example for field in spec.fields if field.required}
        if document_type:
            data.update(document_type=document_type, uri=f"https://docs.bank.example/{index}-{document_type}")
        artifact_ingest(actor=actor, version=version, kind=kind, data=data)


@pytest.fixture
def compliant_a(personas: Any) -> RegisteredModel:
    """Model A in production, Tier 1 high-risk, approved with every piece of evidence its tier requires, deployed
    to production with its approved digest, and audited: it meets every rule."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    now = timezone.now()
    ModelVersion.objects.filter(pk=version.pk).update(
        state="deployed",
        approved_by=personas.risk_officer,
        approved_at=now,
        approval_expires_at=now + dt.timedelta(days=300),
        artifact_digest=APPROVED_DIGEST,
        training_data_ref="s3://bank/train/2025-01",
    )
    version.refresh_from_db()
    policy = TierPolicy.objects.get(pack__is_active=True, tier=1)
    record_evidence(personas.ci_scoped, version, list(policy.required_evidence))
    deployment_report(actor=personas.ci_scoped, version=version, environment="production", digest=APPROVED_DIGEST)
    RegisteredModel.objects.filter(pk=personas.model_a.pk).update(
        lifecycle_stage="production", next_validation_due=now.date() + dt.timedelta(days=300)
    )
    AuditRun.objects.create(
        kind=AuditKind.BIAS,
        model=personas.model_a,
        version=version,
        status=RunStatus.PASSED,
        idempotency_key="bias-a",
        requested_at=now,
        finished_at=now - dt.timedelta(days=1),
    )
    personas.model_a.refresh_from_db()
    assert personas.model_a.eu_ai_act_category == "high_risk"
    return personas.model_a


def test_sweep_records_each_models_status_and_a_summary(personas: Any, compliant_a: Any) -> None:
    RegisteredModel.objects.filter(pk=personas.model_b.pk).update(lifecycle_stage="production")
    retired = RegisteredModelFactory(key="RB-0003", business_unit=personas.unit, lifecycle_stage="retired")

    run = _sweep(personas.risk_officer)

    assert run.status == RunStatus.FAILED
    assert _statuses(run) == {
        "RB-0001": ("compliant", []),
        "RB-0002": ("non_compliant", ["CMP-002", "CMP-003"]),
        retired.key: ("exempt", []),
    }
    assert run.result["by_status"] == {"compliant": 1, "non_compliant": 1, "exempt": 1}
    assert run.result["by_rule"]["CMP-002"] == 1
    assert run.result["by_rule"]["CMP-008"] == 0
    assert [rule["id"] for rule in run.result["rules"]][:2] == ["CMP-001", "CMP-002"]


@pytest.mark.parametrize(
    ("breach", "rule_id"),
    [
        ("owner_inactive", "CMP-001"),
        ("expired", "CMP-003"),
        ("overdue_revalidation", "CMP-004"),
        ("no_model_card", "CMP-005"),
        ("unapproved_deployment", "CMP-006"),
        ("deployed_state_without_approver", "CMP-006"),
        ("stale_bias_audit", "CMP-007"),
        ("overdue_finding", "CMP-008"),
    ],
)
def test_sweep_reads_each_fact_from_the_database(personas: Any, compliant_a: Any, breach: str, rule_id: str) -> None:
    past = timezone.now() - dt.timedelta(days=400)
    versions = ModelVersion.objects.filter(model=compliant_a)
    if breach == "owner_inactive":
        type(personas.owner_a).objects.filter(pk=personas.owner_a.pk).update(is_active=False)
    elif breach == "expired":
        versions.update(approval_expires_at=past)
    elif breach == "overdue_revalidation":
        RegisteredModel.objects.filter(pk=compliant_a.pk).update(next_validation_due=past.date())
    elif breach == "no_model_card":
        Artifact.objects.filter(kind="document", metadata__document_type="model_card").delete()
    elif breach == "unapproved_deployment":
        deployment_report(
            actor=personas.ci_scoped, version=versions.get(), environment="production", digest=UNAPPROVED_DIGEST
        )
    elif breach == "deployed_state_without_approver":
        ModelVersionFactory(model=compliant_a, version="2.0.0", actor=personas.owner_a)
        versions.filter(version="2.0.0").update(state="deployed")
    elif breach == "stale_bias_audit":
        AuditRun.objects.filter(kind=AuditKind.BIAS).update(finished_at=past)
    else:
        Finding.objects.create(
            model=compliant_a,
            source="manual",
            title="Overdue",
            severity=FindingSeverity.CRITICAL,
            owner=personas.owner_a,
            due_date=past.date(),
        )

    run = _sweep(personas.risk_officer)

    assert _statuses(run)["RB-0001"] == ("non_compliant", [rule_id])
    assert run.result["by_rule"][rule_id] == 1


def test_only_the_latest_successful_deployment_per_environment_counts(personas: Any, compliant_a: Any) -> None:
    version = ModelVersion.objects.get(model=compliant_a)
    earlier = timezone.now() - dt.timedelta(days=3)

    def report(environment: str, digest: str, **extra: Any) -> None:
        deployment_report(actor=personas.ci_scoped, version=version, environment=environment, digest=digest, **extra)

    # Superseded by the approved deployment of the fixture, and a failed attempt: neither runs now.
    report("production", UNAPPROVED_DIGEST, deployed_at=earlier)
    report("production", UNAPPROVED_DIGEST, status="failed")
    assert _statuses(_sweep(personas.risk_officer))["RB-0001"] == ("compliant", [])

    report("staging", UNAPPROVED_DIGEST)
    report("canary", UNAPPROVED_DIGEST)
    run = _sweep(personas.risk_officer)
    status = ComplianceStatus.objects.get(run=run, model=compliant_a)
    assert [rule["rule"] for rule in status.broken_rules] == ["CMP-006"]
    assert "latest deployment to canary (and 1 other environment)" in status.broken_rules[0]["reason"]

    report("staging", APPROVED_DIGEST)
    report("canary", APPROVED_DIGEST)
    assert _statuses(_sweep(personas.risk_officer))["RB-0001"] == ("compliant", [])


def test_a_deployment_reported_before_the_approval_counts_once_the_digest_is_approved(
    personas: Any, compliant_a: Any
) -> None:
    draft = ModelVersionFactory(model=compliant_a, version="2.0.0", actor=personas.owner_a)
    deployment_report(actor=personas.ci_scoped, version=draft, environment="eu-prod", digest=UNAPPROVED_DIGEST)
    assert _statuses(_sweep(personas.risk_officer))["RB-0001"] == ("non_compliant", ["CMP-006"])

    ModelVersion.objects.filter(pk=draft.pk).update(
        state="approved",
        approved_by=personas.risk_officer,
        approved_at=timezone.now(),
        artifact_digest=UNAPPROVED_DIGEST,
    )
    # What runs in eu-prod is approved now; the new approved version still lacks its evidence (CMP-005).
    assert _statuses(_sweep(personas.risk_officer))["RB-0001"] == ("non_compliant", ["CMP-005"])


def _portfolio(personas: Any, count: int) -> None:
    for _ in range(count):
        model = RegisteredModelFactory(business_unit=personas.unit, business_owner=personas.owner_b)
        ModelVersionFactory(model=model, actor=personas.owner_b)


def test_sweep_query_count_does_not_grow_with_the_models(personas: Any, compliant_a: Any) -> None:
    counts = []
    version = ModelVersion.objects.get(model=compliant_a)
    for size in (5, 25):
        _portfolio(personas, size - RegisteredModel.objects.count())
        for environment in ("dev", "staging", "canary"):
            deployment_report(
                actor=personas.ci_scoped, version=version, environment=f"{environment}-{size}", digest=UNAPPROVED_DIGEST
            )
        artifact_ingest(
            actor=personas.ci_scoped,
            version=version,
            kind="git_commit",
            data={"repository": "github.com/bank/pd", "sha": f"{size:040x}"},
        )
        run = compliance_sweep_request(actor=personas.risk_officer, enqueue=False)
        with CaptureQueriesContext(connection) as queries:
            compliance_sweep_execute(run_id=run.pk)
        assert ComplianceStatus.objects.filter(run=run).count() == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_sweep_inserts_in_batches(personas: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("audits.sweep.BATCH_SIZE", 3)
    _portfolio(personas, 5)

    run = _sweep(personas.risk_officer)

    assert ComplianceStatus.objects.filter(run=run).count() == 7
    assert run.result["models"] == 7


def test_a_sweep_delivered_twice_records_one_result(personas: Any) -> None:
    run = compliance_sweep_request(actor=personas.risk_officer, idempotency_key="nightly", enqueue=False)
    assert compliance_sweep_request(actor=personas.risk_officer, idempotency_key="nightly", enqueue=False) == run

    run_compliance_sweep(run.pk)
    run_compliance_sweep(run.pk)

    run.refresh_from_db()
    assert run.attempts == 1
    assert ComplianceStatus.objects.filter(run=run).count() == 2


def test_the_scheduled_task_sweeps_once_a_day(personas: Any) -> None:
    run_compliance_sweep()
    run_compliance_sweep()

    run = AuditRun.objects.get(kind=AuditKind.COMPLIANCE)
    assert run.idempotency_key == f"compliance:scheduled:{timezone.localdate().isoformat()}"
    assert run.requested_by is None
    assert ComplianceStatus.objects.filter(run=run).count() == 2


def test_only_risk_officers_start_sweeps(personas: Any, api_client_for: Any) -> None:
    for user in (personas.owner_a, personas.auditor, personas.validator_assigned):
        assert api_client_for(user).post("/api/v1/compliance-sweeps/", {}, format="json").status_code == 403
    assert not AuditRun.objects.exists()

    response = api_client_for(personas.risk_officer).post(
        "/api/v1/compliance-sweeps/", {"idempotency_key": "k1"}, format="json"
    )

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    assert response["Location"].endswith(f"/api/v1/compliance-sweeps/{response.json()['id']}/")


def test_sweeps_are_read_by_portfolio_roles_and_statuses_through_the_gate(
    personas: Any, compliant_a: Any, api_client_for: Any
) -> None:
    RegisteredModel.objects.filter(pk=personas.model_b.pk).update(lifecycle_stage="production")
    run = _sweep(personas.risk_officer)
    auditor, owner_a = api_client_for(personas.auditor), api_client_for(personas.owner_a)

    assert auditor.get(f"/api/v1/compliance-sweeps/{run.pk}/").json()["result"]["models"] == 2
    assert owner_a.get("/api/v1/compliance-sweeps/").json()["results"] == []
    assert owner_a.get(f"/api/v1/compliance-sweeps/{run.pk}/").status_code == 404

    broken = auditor.get(f"/api/v1/compliance-sweeps/{run.pk}/models/?status=non_compliant&rule=CMP-003").json()
    assert [item["model"] for item in broken["results"]] == ["RB-0002"]
    assert broken["results"][0]["broken_rules"][1]["severity"] == "critical"
    assert auditor.get(f"/api/v1/compliance-sweeps/{run.pk}/models/?rule=CMP-999").status_code == 400

    mine = owner_a.get("/api/v1/compliance-status/").json()["results"]
    assert [(item["model"], item["status"], item["sweep"]) for item in mine] == [("RB-0001", "compliant", run.pk)]
    assert owner_a.get("/api/v1/compliance-status/?model=RB-0002").json()["results"] == []
    everyone = auditor.get("/api/v1/compliance-status/?status=non_compliant").json()["results"]
    assert [item["model"] for item in everyone] == ["RB-0002"]


def test_compliance_status_shows_the_latest_finished_sweep(personas: Any, api_client_for: Any) -> None:
    _sweep(personas.risk_officer)
    RegisteredModel.objects.filter(pk=personas.model_a.pk).update(lifecycle_stage="development")
    latest = _sweep(personas.risk_officer)
    compliance_sweep_request(actor=personas.risk_officer, enqueue=False)  # queued, not finished: not shown

    results = api_client_for(personas.risk_officer).get("/api/v1/compliance-status/?model=RB-0001").json()["results"]

    assert [(item["sweep"], item["status"]) for item in results] == [(latest.pk, "non_compliant")]
