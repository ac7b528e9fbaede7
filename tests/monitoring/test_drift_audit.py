"""The drift audit through the product path: tables stored, audit requested, executed, findings and triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audits.choices import RunStatus
from governance.choices import EventType, FindingSource
from governance.models import Finding, GovernanceEvent
from monitoring.models import DriftRun
from monitoring.services import drift_audit_execute, drift_audit_request, drift_dataset_create
from tests.monitoring.conftest import FEATURES, agreed_target, upload

pytestmark = pytest.mark.django_db


def table(personas: Any, version: Any, content: bytes, name: str) -> Any:
    return drift_dataset_create(actor=personas.owner_a, version=version, name=name, upload=upload(content))


def audit(personas: Any, reference: Any, current: Any, **kwargs: Any) -> DriftRun:
    run = drift_audit_request(actor=personas.owner_a, reference=reference, current=current, features=FEATURES, **kwargs)
    return drift_audit_execute(run_id=run.pk)


def test_train_against_test_passes_with_no_finding(personas: Any, version_a: Any, adult_splits: Any) -> None:
    reference = table(personas, version_a, adult_splits["train"], "Adult train")
    current = table(personas, version_a, adult_splits["test"], "Adult test")
    assert (reference.row_count, current.row_count) == (32561, 16281)
    run = audit(personas, reference, current)
    assert run.status == RunStatus.PASSED, run.error
    assert all(item["psi"] < 0.01 for item in run.result["features"])
    assert run.result["drifted_features"] == []
    assert not Finding.objects.exists()
    assert GovernanceEvent.objects.filter(event_type=EventType.AUDIT_PASSED, model_key="RB-0001").exists()


def test_ten_years_older_flags_age_only_and_raises_one_finding(
    personas: Any, version_a: Any, adult_splits: Any
) -> None:
    reference = table(personas, version_a, adult_splits["train"], "Adult train")
    older = table(personas, version_a, adult_splits["older"], "Adult test, ten years on")
    run = audit(personas, reference, older)
    assert run.status == RunStatus.FAILED
    assert run.result["drifted_features"] == ["age"]
    assert run.result["top_movers"][0]["name"] == "age"
    finding = Finding.objects.get()
    assert finding.source == FindingSource.MONITORING and "age" in finding.title
    assert run.findings == [finding.pk]
    # A second run that fails the same way adds no finding.
    again = audit(personas, reference, older)
    assert again.findings == [finding.pk] and Finding.objects.count() == 1


def test_a_target_that_asks_for_it_makes_the_revalidation_due_today(
    personas: Any, version_a: Any, adult_splits: Any
) -> None:
    agreed_target(personas, personas.model_a, psi_feature_max=0.2, revalidate_on_drift=True)
    reference = table(personas, version_a, adult_splits["train"], "Adult train")
    older = table(personas, version_a, adult_splits["older"], "Adult test, ten years on")
    run = audit(personas, reference, older)
    assert run.result["limits"]["target_revision"] == 1
    personas.model_a.refresh_from_db()
    assert personas.model_a.next_validation_due == timezone.localdate()
    assert run.result["revalidation"] == f"due {timezone.localdate().isoformat()}"


def test_without_the_trigger_the_due_date_stays(personas: Any, version_a: Any, adult_splits: Any) -> None:
    agreed_target(personas, personas.model_a, psi_feature_max=0.2, revalidate_on_drift=False)
    before = personas.model_a.next_validation_due
    reference = table(personas, version_a, adult_splits["train"], "Adult train")
    run = audit(personas, reference, table(personas, version_a, adult_splits["older"], "Older"))
    assert run.status == RunStatus.FAILED and "revalidation" not in run.result
    personas.model_a.refresh_from_db()
    assert personas.model_a.next_validation_due == before


def test_execution_records_once_and_the_key_finds_the_run(personas: Any, version_a: Any) -> None:
    reference = table(personas, version_a, b"x,c\n1,a\n2,b\n3,a\n", "Ref")
    current = table(personas, version_a, b"x,c\n1,a\n2,b\n3,b\n", "Cur")
    run = drift_audit_request(
        actor=personas.owner_a, reference=reference, current=current, features=["x", "c"], idempotency_key="k1"
    )
    same = drift_audit_request(
        actor=personas.owner_a, reference=reference, current=current, features=["x", "c"], idempotency_key="k1"
    )
    assert same.pk == run.pk
    first = drift_audit_execute(run_id=run.pk)
    second = drift_audit_execute(run_id=run.pk)
    assert first.finished_at == second.finished_at and second.attempts == 1
    with pytest.raises(ValidationError):
        drift_audit_request(
            actor=personas.owner_a, reference=current, current=reference, features=["x"], idempotency_key="k1"
        )


def test_a_changed_file_ends_the_run_in_error(personas: Any, version_a: Any) -> None:
    reference = table(personas, version_a, b"x\n1\n2\n", "Ref")
    current = table(personas, version_a, b"x\n1\n3\n", "Cur")
    run = drift_audit_request(actor=personas.owner_a, reference=reference, current=current, features=["x"])
    with current.file.open("wb") as handle:
        handle.write(b"x\n5\n6\n")
    run = drift_audit_execute(run_id=run.pk)
    assert run.status == RunStatus.ERROR and "changed" in run.error


def test_bad_requests_are_refused_on_their_field(personas: Any, version_a: Any) -> None:
    reference = table(personas, version_a, b"x,y\n1,2\n", "Ref")
    current = table(personas, version_a, b"x\n1\n", "Cur")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"features": ["y"]}, "current"),
        ({"features": []}, "features"),
        ({"features": "x"}, "features"),
        ({"features": ["x"], "prediction": "score"}, "reference"),
        ({"features": ["x"], "categorical": ["z"]}, "categorical"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as error:
            drift_audit_request(actor=personas.owner_a, reference=reference, current=current, **kwargs)
        assert field in error.value.message_dict, kwargs
    assert not DriftRun.objects.exists()


def test_bad_files_are_refused_and_nothing_is_stored(personas: Any, version_a: Any) -> None:
    for content, name in ((b"", "empty.csv"), (b"x,y\n", "header.csv"), (b"\xff\xfe x", "utf16.csv")):
        with pytest.raises(ValidationError) as error:
            drift_dataset_create(actor=personas.owner_a, version=version_a, name="Bad", upload=upload(content, name))
        assert "file" in error.value.message_dict


def test_who_may_store_and_audit(personas: Any, version_a: Any) -> None:
    for outsider in (personas.owner_b, personas.validator_other, personas.auditor, personas.ci_unscoped):
        with pytest.raises(PermissionDenied):
            drift_dataset_create(actor=outsider, version=version_a, name="X", upload=upload(b"x\n1\n"))
    # The scoped pipeline may send current windows; the assigned validator may audit.
    reference = drift_dataset_create(actor=personas.ci_scoped, version=version_a, name="R", upload=upload(b"x\n1\n2\n"))
    current = table(personas, version_a, b"x\n2\n3\n", "C")
    run = drift_audit_request(actor=personas.validator_assigned, reference=reference, current=current, features=["x"])
    assert run.status == RunStatus.QUEUED
    with pytest.raises(PermissionDenied):
        drift_audit_request(actor=personas.ci_scoped, reference=reference, current=current, features=["x"])


def test_api_upload_request_and_read(personas: Any, version_a: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.owner_a)
    ids = []
    for name, content in (("ref", b"x,c\n1,a\n2,b\n"), ("cur", b"x,c\n1,a\n9,z\n")):
        response = client.post(
            "/api/v1/drift-datasets/",
            {"model": "RB-0001", "version": "1.0.0", "name": name, "file": upload(content, f"{name}.csv")},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    bad = client.post(
        "/api/v1/drift-runs/", {"reference": ids[0], "current": ids[1], "features": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and "reference" in bad.json()
    response = client.post(
        "/api/v1/drift-runs/", {"reference": ids[0], "current": ids[1], "features": ["x", "c"]}, format="json"
    )
    assert response.status_code == 202, response.json()
    drift_audit_execute(run_id=response.json()["id"])
    detail = client.get(f"/api/v1/drift-runs/{response.json()['id']}/").json()
    assert detail["status"] in {"passed", "failed"} and len(detail["result"]["features"]) == 2
    assert api_client_for(personas.owner_b).get(f"/api/v1/drift-runs/{detail['id']}/").status_code == 404
    assert api_client_for(personas.owner_b).get(f"/api/v1/drift-datasets/{ids[0]}/").status_code == 404
    hidden = api_client_for(personas.owner_b).post(
        "/api/v1/drift-runs/", {"reference": ids[0], "current": ids[1], "features": ["x"]}, format="json"
    )
    assert hidden.status_code == 400 and "reference" in hidden.json()


def test_diffuse_drift_raises_the_overall_finding(personas: Any, version_a: Any) -> None:
    agreed_target(personas, personas.model_a, psi_feature_max=5.0, psi_overall_max=0.05)
    rows = "\n".join(f"{i % 10},{i % 7},{i % 5},{(i % 10) / 10}" for i in range(1000))
    shifted = "\n".join(f"{(i % 10) + 1},{(i % 7) + 1},{i % 5},{min((i % 10) / 5, 1)}" for i in range(1000))
    reference = table(personas, version_a, f"a,b,c,score\n{rows}\n".encode(), "Ref")
    current = table(personas, version_a, f"a,b,c,score\n{shifted}\n".encode(), "Cur")
    run = drift_audit_request(
        actor=personas.validator_assigned,
        reference=reference,
        current=current,
        features=["a", "b", "c"],
        prediction="score",
    )
    run = drift_audit_execute(run_id=run.pk)
    assert run.result["drifted_features"] == [] and run.result["overall"]["verdict"] == "drift"
    titles = sorted(Finding.objects.values_list("title", flat=True))
    assert len(titles) == 1 and "overall drift" in titles[0]


def test_the_trigger_acts_as_the_agreeing_risk_officer_when_the_requester_may_not_change(
    personas: Any, version_a: Any, adult_splits: Any
) -> None:
    agreed_target(personas, personas.model_a, psi_feature_max=0.2, revalidate_on_drift=True)
    reference = table(personas, version_a, adult_splits["train"], "Adult train")
    older = table(personas, version_a, adult_splits["older"], "Older")
    run = drift_audit_request(actor=personas.validator_assigned, reference=reference, current=older, features=["age"])
    run = drift_audit_execute(run_id=run.pk)
    personas.model_a.refresh_from_db()
    assert personas.model_a.next_validation_due == timezone.localdate()
    record = personas.model_a.history.order_by("-history_id").first()
    assert record.history_user == personas.risk_officer


def test_the_task_is_queued_on_commit_and_runs_the_service(
    personas: Any, version_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from monitoring.tasks import run_drift_audit

    reference = table(personas, version_a, b"x\n1\n2\n", "Ref")
    current = table(personas, version_a, b"x\n1\n3\n", "Cur")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = drift_audit_request(actor=personas.owner_a, reference=reference, current=current, features=["x"])
    assert len(callbacks) == 1
    assert run_drift_audit.acks_late
    run_drift_audit.apply(args=(run.pk,))
    run.refresh_from_db()
    assert run.status in {RunStatus.PASSED, RunStatus.FAILED} and run.attempts == 1


def test_a_drift_audit_queued_while_the_broker_was_down_is_sent_again_once_stale(
    personas: Any, version_a: Any, monkeypatch: Any
) -> None:
    from core.requeue import stale_work_requeue
    from monitoring.tasks import run_drift_audit

    reference = table(personas, version_a, b"x,c\n1,a\n2,b\n3,a\n", "Ref")
    current = table(personas, version_a, b"x,c\n1,a\n2,b\n3,b\n", "Cur")
    waiting = drift_audit_request(
        actor=personas.owner_a, reference=reference, current=current, features=["x", "c"], enqueue=False
    )
    done = drift_audit_execute(
        run_id=drift_audit_request(
            actor=personas.owner_a, reference=reference, current=current, features=["x"], enqueue=False
        ).pk
    )
    sent: list[int] = []
    monkeypatch.setattr(run_drift_audit, "delay", sent.append)

    stale_work_requeue()
    assert sent == [], "within the grace period a queued run may just be waiting for a busy worker"
    stale_work_requeue(queued_before=timezone.now() + dt.timedelta(seconds=1))
    assert sent == [waiting.pk] and done.pk not in sent
