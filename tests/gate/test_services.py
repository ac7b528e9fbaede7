"""The gate's service against the database: every reason code reachable, decisions and ledger events written
together, the deployment report receiver, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import evidence_keys
from audits.models import AuditRun
from gate import signing
from gate.models import GateDecision
from gate.selectors import gate_facts
from gate.services import gate_check
from governance.choices import EventType, FindingSeverity, FindingSource
from governance.ledger import verify_ledger
from governance.models import Finding, GovernanceEvent
from governance.services.findings import finding_raise
from governance.services.workflow import version_retire
from inventory.models import ModelVersion, RegisteredModel
from inventory.services.artifacts import artifact_ingest, deployment_report
from tests.factories import ModelVersionFactory
from tests.gate.conftest import DIGEST, OTHER_DIGEST, approve, make_version

pytestmark = pytest.mark.django_db


def ask(personas: Any, *, version: str = "1.0.0", digest: str = DIGEST, environment: str = "production") -> Any:
    return gate_check(
        actor=personas.ci_scoped,
        model_key="RB-0001",
        version_label=version,
        environment=environment,
        digest=digest,
        pipeline={"ci_run_url": "https://ci.bank.example/runs/7", "commit_sha": "A" * 40},
    )


def codes(decision: GateDecision) -> list[str]:
    return [reason["code"] for reason in decision.reasons]


def test_an_approved_digest_is_allowed_recorded_in_the_ledger_and_signed(personas: Any, approved_version: Any) -> None:
    decision = ask(personas)

    assert (decision.decision, codes(decision), decision.gated) == ("allow", [], True)
    assert decision.version == approved_version
    assert decision.pipeline == {"ci_run_url": "https://ci.bank.example/runs/7", "commit_sha": "a" * 40}
    event = GovernanceEvent.objects.get(event_type=EventType.DEPLOYMENT_ALLOWED)
    assert decision.ledger_event == event
    assert (event.model_key, event.subject_type, event.subject_id) == ("RB-0001", "gatedecision", str(decision.pk))
    assert event.payload["decision_id"] == str(decision.pk)
    assert event.actor_username == "ci_scoped"
    claims = signing.verify(decision.token, signing.public_jwks(), issuer="http://127.0.0.1:8000")
    assert claims["jti"] == str(decision.pk)
    assert (claims["sub"], claims["version"], claims["environment"], claims["digest"]) == (
        "RB-0001",
        "1.0.0",
        "production",
        DIGEST,
    )
    assert (claims["decision"], claims["reasons"]) == ("allow", [])
    assert claims["exp"] - claims["iat"] == 3600
    assert int(decision.expires_at.timestamp()) == claims["exp"]
    assert verify_ledger().intact


def test_a_draft_is_denied_as_not_approved_and_the_denial_is_in_the_ledger(personas: Any, tier3_a: Any) -> None:
    make_version(personas)

    decision = ask(personas)

    assert (decision.decision, codes(decision)) == ("deny", ["not_approved"])
    event = GovernanceEvent.objects.get(event_type=EventType.DEPLOYMENT_DENIED)
    assert event.payload["reasons"] == ["not_approved"]
    assert signing.verify(decision.token, signing.public_jwks())["decision"] == "deny"


def test_another_digest_is_denied_as_a_mismatch(personas: Any, approved_version: Any) -> None:
    assert codes(ask(personas, digest=OTHER_DIGEST)) == ["digest_mismatch"]


def test_an_image_recorded_after_the_approval_is_not_approved(personas: Any, approved_version: Any) -> None:
    artifact_ingest(
        actor=personas.ci_scoped,
        version=approved_version,
        kind="container_image",
        data={"reference": "registry.bank.example/pd:1.0.0", "digest": OTHER_DIGEST},
    )
    assert codes(ask(personas, digest=OTHER_DIGEST)) == ["digest_mismatch"]


def test_an_expired_approval_is_denied(personas: Any, approved_version: Any) -> None:
    ModelVersion.objects.filter(pk=approved_version.pk).update(
        approval_expires_at=timezone.now() - dt.timedelta(days=1)
    )
    assert codes(ask(personas)) == ["approval_expired"]


def test_an_unregistered_version_is_denied_and_recorded(personas: Any, approved_version: Any) -> None:
    decision = ask(personas, version="9.9.9")

    assert (decision.decision, codes(decision), decision.version) == ("deny", ["version_not_found"], None)
    assert decision.version_label == "9.9.9"
    assert GovernanceEvent.objects.filter(event_type=EventType.DEPLOYMENT_DENIED).count() == 1


def test_a_retired_version_is_denied(personas: Any, approved_version: Any) -> None:
    version_retire(actor=personas.owner_a, version=approved_version, comment="Replaced by 2.0")
    assert codes(ask(personas)) == ["model_retired", "not_approved"]


def test_open_severe_findings_block(personas: Any, approved_version: Any) -> None:
    due = timezone.localdate() + dt.timedelta(days=30)
    finding_raise(actor=personas.risk_officer, model=personas.model_a, title="Minor", severity="low", due_date=due)
    assert codes(ask(personas)) == []

    finding_raise(
        actor=personas.risk_officer, model=personas.model_a, title="Leak", severity=FindingSeverity.HIGH, due_date=due
    )
    denied = ask(personas)
    assert codes(denied) == ["blocking_findings_open"]
    assert "1 open high or critical finding" in denied.reasons[0]["message"]


def test_approval_conditions_block_only_once_overdue(personas: Any, tier3_a: Any) -> None:
    version = make_version(personas)
    version.refresh_from_db()
    from governance.services.workflow import version_decide, version_submit

    version_submit(actor=personas.owner_a, version=version)
    due = timezone.localdate() + dt.timedelta(days=10)
    version_decide(
        actor=personas.risk_officer,
        version=version,
        approve=True,
        comment="Approved on a condition",
        conditions=[{"title": "Add a monitoring dashboard", "severity": "medium", "due_date": due.isoformat()}],
    )
    assert codes(ask(personas)) == []

    Finding.objects.filter(source=FindingSource.APPROVAL_CONDITION).update(due_date=due - dt.timedelta(days=20))
    assert codes(ask(personas)) == ["blocking_findings_open"]


def test_high_risk_models_need_a_passed_bias_audit_within_the_cadence(personas: Any, approved_version: Any) -> None:
    RegisteredModel.objects.filter(pk=personas.model_a.pk).update(eu_ai_act_category="high_risk")
    assert codes(ask(personas)) == ["bias_audit_missing"]

    run = AuditRun.objects.create(
        kind=AuditKind.BIAS,
        model=personas.model_a,
        version=approved_version,
        status=RunStatus.FAILED,
        idempotency_key="bias-1",
        requested_at=timezone.now(),
        finished_at=timezone.now(),
    )
    assert codes(ask(personas)) == ["bias_audit_failing"]

    AuditRun.objects.filter(pk=run.pk).update(status=RunStatus.PASSED)
    assert codes(ask(personas)) == []
    AuditRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - dt.timedelta(days=400))
    assert codes(ask(personas)) == ["bias_audit_missing"]


def test_evidence_the_tier_requires_must_be_recorded(personas: Any, tier3_a: Any) -> None:
    version = ModelVersionFactory(
        model=personas.model_a, version="1.0.0", actor=personas.owner_a, artifact_digest=DIGEST
    )
    approve(personas, version)

    denied = ask(personas)
    assert codes(denied) == ["evidence_missing"]
    assert "model_file" in denied.reasons[0]["message"]

    artifact_ingest(
        actor=personas.ci_scoped,
        version=version,
        kind="model_file",
        data={"uri": "s3://models/rb-0001/1.0.0/model.pkl", "digest": DIGEST},
    )
    assert codes(ask(personas)) == []


def test_the_evidence_read_with_the_version_is_every_artifact_s_evidence_once(personas: Any, tier3_a: Any) -> None:
    def evidence(label: str) -> frozenset[str]:
        return gate_facts(model=personas.model_a, version_label=label, digest=DIGEST, now=timezone.now())[0].evidence

    ModelVersionFactory(model=personas.model_a, version="0.9.0", actor=personas.owner_a)
    assert evidence("0.9.0") == frozenset()  # no artifacts at all
    version = make_version(personas)
    documents = [("model_card", "card"), ("model_card", "card-v2"), ("validation_report", "validation")]
    for document_type, name in documents:
        artifact_ingest(
            actor=personas.owner_a,
            version=version,
            kind="document",
            data={"document_type": document_type, "uri": f"https://docs.bank.example/{name}", "title": name},
        )
    for sha in ("a" * 40, "b" * 40):
        artifact_ingest(
            actor=personas.ci_scoped,
            version=version,
            kind="git_commit",
            data={"repository": "github.com/bank/pd", "sha": sha},
        )

    recorded = version.artifacts.values_list("kind", "metadata")
    assert len(recorded) == 6
    expected = set().union(*(evidence_keys(kind, metadata) for kind, metadata in recorded))
    assert evidence("1.0.0") == expected
    assert expected == {"model_file", "document", "document:model_card", "document:validation_report", "git_commit"}


def test_ungated_environments_allow_with_advisory_reasons(personas: Any, tier3_a: Any, gate_settings: Any) -> None:
    gate_settings.GATE_UNGATED_ENVIRONMENTS = ["dev"]
    make_version(personas)

    dev = ask(personas, environment="dev")
    production = ask(personas, environment="production")

    assert (dev.decision, dev.gated, codes(dev)) == ("allow", False, ["not_approved"])
    assert signing.verify(dev.token, signing.public_jwks())["gated"] is False
    assert (production.decision, production.gated) == ("deny", True)


def test_bad_input_names_each_field_and_writes_nothing(personas: Any, approved_version: Any) -> None:
    with pytest.raises(ValidationError) as error:
        gate_check(
            actor=personas.ci_scoped,
            model_key="rb-1",
            version_label="",
            environment="Prod!",
            digest="sha256:xyz",
            pipeline={"commit_sha": "abc", "ci_run_url": "javascript:alert(1)", "branch": "main"},
        )
    assert set(error.value.message_dict) == {
        "model",
        "version",
        "environment",
        "digest",
        "commit_sha",
        "ci_run_url",
        "branch",
    }
    assert not GateDecision.objects.exists()


def test_who_may_ask(personas: Any, approved_version: Any) -> None:
    for user in (personas.ci_unscoped, personas.owner_b, personas.no_role):
        with pytest.raises(Http404):
            gate_check(actor=user, model_key="RB-0001", version_label="1.0.0", environment="prod", digest=DIGEST)
    for user in (personas.auditor, personas.validator_assigned):
        with pytest.raises(PermissionDenied):
            gate_check(actor=user, model_key="RB-0001", version_label="1.0.0", environment="prod", digest=DIGEST)
    for user in (personas.ci_scoped, personas.owner_a, personas.risk_officer, personas.admin):
        decision = gate_check(actor=user, model_key="RB-0001", version_label="1.0.0", environment="prod", digest=DIGEST)
        assert decision.decision == "allow"
    assert GateDecision.objects.count() == 4


def test_the_gate_answers_in_a_bounded_number_of_queries(
    personas: Any, approved_version: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(20):
        ask(personas)
    due = timezone.localdate() + dt.timedelta(days=30)
    for index in range(15):
        artifact_ingest(
            actor=personas.ci_scoped,
            version=approved_version,
            kind="git_commit",
            data={"repository": "github.com/bank/pd", "sha": f"{index:040x}"},
        )
        finding_raise(
            actor=personas.risk_officer, model=personas.model_a, title=f"F{index}", severity="low", due_date=due
        )
        ModelVersionFactory(model=personas.model_a, version=f"0.{index}.0", actor=personas.owner_a)

    with django_assert_max_num_queries(20):
        assert ask(personas).decision == "allow"


def test_a_deployment_of_the_approved_digest_is_ledgered_without_a_finding(
    personas: Any, approved_version: Any
) -> None:
    deployment, _ = deployment_report(
        actor=personas.ci_scoped, version=approved_version, environment="production", digest=DIGEST
    )

    assert deployment.matches_approval
    event = GovernanceEvent.objects.get(event_type=EventType.DEPLOYMENT_REPORTED)
    assert (event.subject_type, event.subject_id) == ("deployment", str(deployment.pk))
    assert event.payload["matches_approval"] is True
    assert not Finding.objects.filter(source=FindingSource.DEPLOYMENT).exists()


def test_an_unapproved_deployment_raises_one_high_finding(personas: Any, approved_version: Any) -> None:
    for external_id in ("run-1", "run-2"):
        deployment_report(
            actor=personas.ci_scoped,
            version=approved_version,
            environment="production",
            digest=OTHER_DIGEST,
            external_id=external_id,
        )
    deployment_report(
        actor=personas.ci_scoped, version=approved_version, environment="staging", digest=OTHER_DIGEST, status="failed"
    )

    finding = Finding.objects.get(source=FindingSource.DEPLOYMENT)
    assert (finding.severity, finding.status, finding.model, finding.version) == (
        "high",
        "open",
        personas.model_a,
        approved_version,
    )
    assert "production" in finding.title
    assert finding.owner == personas.owner_a
    assert GovernanceEvent.objects.filter(event_type=EventType.DEPLOYMENT_REPORTED).count() == 3
    assert GovernanceEvent.objects.filter(event_type=EventType.FINDING_RAISED, model_key="RB-0001").count() == 1
    # The finding is high and open: the gate now blocks the model until it is dealt with.
    assert codes(ask(personas)) == ["blocking_findings_open"]
    assert verify_ledger().intact
