"""The bias audit through the product path: data stored by the service, the run executed, the result stored.

The German Credit figures are those of the shared datasets README (computed there with pandas, fairlearn and
aif360), reproduced to four decimals from what the audit stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.choices import RunStatus
from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from governance.choices import EventType, FindingSource
from governance.models import Finding, GovernanceEvent
from tests.audits.conftest import GERMAN_MAPPING, upload

pytestmark = pytest.mark.django_db

# sensitive feature → (accuracy, DPD, EOD, {group: (n, selection rate, TPR, FPR)})
GERMAN_REFERENCE = {
    "sex": (
        0.7400,
        0.1121,
        0.1069,
        {"female": (96, 0.6771, 0.7937, 0.4545), "male": (204, 0.7892, 0.8776, 0.5614)},
    ),
    "age_group": (
        0.7400,
        0.1112,
        0.1388,
        {"<25": (47, 0.6596, 0.7308, 0.5714), ">=25": (253, 0.7708, 0.8696, 0.5072)},
    ),
}


def _audit(actor: Any, version: Any, content: bytes, mapping: dict[str, Any]) -> AuditRun:
    dataset = evaluation_dataset_create(
        actor=actor, version=version, name="German test split", mapping=mapping, upload=upload(content)
    )
    run = bias_audit_request(actor=actor, dataset=dataset)
    return bias_audit_execute(run_id=run.pk)


@pytest.mark.parametrize("feature", ["sex", "age_group"])
def test_german_credit_reproduces_the_reference_figures(
    personas: Any, version_a: Any, german_csv: bytes, feature: str
) -> None:
    run = _audit(personas.owner_a, version_a, german_csv, {**GERMAN_MAPPING, "sensitive": [feature]})

    run.refresh_from_db()
    accuracy, dpd, eod, groups = GERMAN_REFERENCE[feature]
    analysis = run.result["analyses"][feature]
    assert round(analysis["overall"]["accuracy"], 4) == accuracy
    assert round(analysis["disparities"]["demographic_parity_difference"], 4) == dpd
    assert round(analysis["disparities"]["equalized_odds_difference"], 4) == eod
    for group, (count, selection, tpr, fpr) in groups.items():
        figures = analysis["by_group"][group]
        assert figures["count"] == count
        assert (round(figures["selection_rate"], 4), round(figures["tpr"], 4), round(figures["fpr"], 4)) == (
            selection,
            tpr,
            fpr,
        )
    # EOD above 0.1 fails the Tier 1 policy; the four-fifths rule passes (ratio ≈ 0.86).
    assert run.status == RunStatus.FAILED
    assert analysis["verdicts"]["equalized_odds_difference"]["verdict"] == "fail"
    assert analysis["verdicts"]["demographic_parity_ratio"]["verdict"] == "pass"
    dataset = EvaluationDataset.objects.get()
    assert run.dataset_sha256 == dataset.sha256 == run.result["dataset"]["sha256"]
    assert dataset.row_count == 300
    assert run.library_versions["fairlearn"] == run.result["library_versions"]["fairlearn"]
    assert run.policy_revision.endswith("@1")
    assert analysis["intervals"]["disparities"]["equalized_odds_difference"][0] is not None


def test_failing_audit_raises_one_finding_per_failing_metric_and_a_rerun_none(
    personas: Any, version_a: Any, german_csv: bytes
) -> None:
    mapping = {**GERMAN_MAPPING, "sensitive": ["sex", "age_group"]}
    first = _audit(personas.owner_a, version_a, german_csv, mapping)
    failing = [
        (analysis, metric)
        for analysis, verdicts in first.verdicts.items()
        for metric, verdict in verdicts.items()
        if verdict == "fail"
    ]
    assert ("sex", "equalized_odds_difference") in failing
    assert "sex × age_group" in first.result["analyses"]
    assert first.result["analyses"]["sex × age_group"]["small_groups"], "groups under 30 rows are flagged"
    assert Finding.objects.filter(source=FindingSource.AUDIT).count() == len(failing)

    second = _audit(personas.owner_a, version_a, german_csv, mapping)

    assert second.pk != first.pk
    assert second.status == RunStatus.FAILED
    assert Finding.objects.filter(source=FindingSource.AUDIT).count() == len(failing)
    assert GovernanceEvent.objects.filter(event_type=EventType.AUDIT_FAILED).count() == 2


def test_passing_audit_is_recorded_in_the_ledger_without_findings(personas: Any, version_a: Any) -> None:
    rows = ["y,p,g"] + [f"{i % 2},{i % 2},{'a' if i < 100 else 'b'}" for i in range(200)]
    run = _audit(
        personas.owner_a, version_a, "\n".join(rows).encode(), {"label": "y", "prediction": "p", "sensitive": ["g"]}
    )

    assert run.status == RunStatus.PASSED
    assert not Finding.objects.exists()
    event = GovernanceEvent.objects.get(event_type=EventType.AUDIT_PASSED)
    assert event.payload["run"] == run.pk


def test_a_redelivered_task_records_nothing_twice(personas: Any, version_a: Any, german_csv: bytes) -> None:
    run = _audit(personas.owner_a, version_a, german_csv, GERMAN_MAPPING)
    findings, events = Finding.objects.count(), GovernanceEvent.objects.count()

    again = bias_audit_execute(run_id=run.pk)

    assert again.status == run.status
    assert again.attempts == 1
    assert (Finding.objects.count(), GovernanceEvent.objects.count()) == (findings, events)


def test_the_same_idempotency_key_finds_the_same_run(personas: Any, version_a: Any, german_csv: bytes) -> None:
    dataset = evaluation_dataset_create(
        actor=personas.owner_a, version=version_a, name="d", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )
    first = bias_audit_request(actor=personas.owner_a, dataset=dataset, idempotency_key="nightly-1")
    second = bias_audit_request(actor=personas.risk_officer, dataset=dataset, idempotency_key="nightly-1")

    assert first.pk == second.pk
    assert AuditRun.objects.count() == 1


def test_uploads_are_stored_content_addressed(personas: Any, version_a: Any, german_csv: bytes, settings: Any) -> None:
    dataset = evaluation_dataset_create(
        actor=personas.risk_officer, version=version_a, name="d", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )

    assert dataset.file.name == f"evaluation/{dataset.sha256}.csv"
    assert (Path(settings.MEDIA_ROOT) / dataset.file.name).read_bytes() == german_csv
    assert dataset.columns == ["row", "y_true", "y_pred", "sex", "age_group"]
    assert dataset.size_bytes == len(german_csv)


@pytest.mark.parametrize("who", ["owner_b", "no_role", "auditor"])
def test_users_who_may_not_change_or_validate_the_model_are_refused(
    personas: Any, version_a: Any, german_csv: bytes, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        evaluation_dataset_create(
            actor=getattr(personas, who), version=version_a, name="d", mapping=GERMAN_MAPPING, upload=upload(german_csv)
        )
    dataset = evaluation_dataset_create(
        actor=personas.validator_assigned,
        version=version_a,
        name="d",
        mapping=GERMAN_MAPPING,
        upload=upload(german_csv),
    )
    with pytest.raises(PermissionDenied):
        bias_audit_request(actor=getattr(personas, who), dataset=dataset)
    assert EvaluationDataset.objects.count() == 1
    assert not AuditRun.objects.exists()


def test_a_model_without_a_tier_cannot_be_audited(personas: Any, german_csv: bytes) -> None:
    from tests.factories import ModelVersionFactory

    version = ModelVersionFactory(model=personas.model_b, version="0.1.0", actor=personas.owner_b)
    dataset = evaluation_dataset_create(
        actor=personas.owner_b, version=version, name="d", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )
    with pytest.raises(ValidationError, match="risk assessment"):
        bias_audit_request(actor=personas.owner_b, dataset=dataset)


class TestReferencedFiles:
    def test_a_file_inside_the_allowed_roots_is_stored_with_its_hash(
        self, personas: Any, version_a: Any, german_csv: bytes, settings: Any, tmp_path: Path
    ) -> None:
        root = tmp_path / "logged"
        root.mkdir()
        (root / "preds.csv").write_bytes(german_csv)
        settings.EVALUATION_DATA_ROOTS = [root]

        dataset = evaluation_dataset_create(
            actor=personas.owner_a,
            version=version_a,
            name="logged",
            mapping=GERMAN_MAPPING,
            reference_path=str(root / "preds.csv"),
        )

        assert dataset.source == "reference"
        assert not dataset.file
        run = bias_audit_execute(run_id=bias_audit_request(actor=personas.owner_a, dataset=dataset).pk)
        assert run.status == RunStatus.FAILED

    def test_a_changed_file_ends_the_audit_in_error_with_the_reason(
        self, personas: Any, version_a: Any, german_csv: bytes, settings: Any, tmp_path: Path
    ) -> None:
        (tmp_path / "preds.csv").write_bytes(german_csv)
        settings.EVALUATION_DATA_ROOTS = [tmp_path]
        dataset = evaluation_dataset_create(
            actor=personas.owner_a,
            version=version_a,
            name="logged",
            mapping=GERMAN_MAPPING,
            reference_path=str(tmp_path / "preds.csv"),
        )
        run = bias_audit_request(actor=personas.owner_a, dataset=dataset)
        (tmp_path / "preds.csv").write_bytes(german_csv.replace(b"female", b"woman"))

        run = bias_audit_execute(run_id=run.pk)

        assert run.status == RunStatus.ERROR
        assert "changed since it was stored" in run.error
        assert not Finding.objects.exists()

    @pytest.mark.parametrize("path", ["../outside.csv", "sub/../../outside.csv", "link.csv"])
    def test_paths_outside_the_roots_are_refused(
        self, personas: Any, version_a: Any, german_csv: bytes, settings: Any, tmp_path: Path, path: str
    ) -> None:
        root = tmp_path / "root"
        (root / "sub").mkdir(parents=True)
        (tmp_path / "outside.csv").write_bytes(german_csv)
        (root / "link.csv").symlink_to(tmp_path / "outside.csv")
        settings.EVALUATION_DATA_ROOTS = [root]

        with pytest.raises(ValidationError, match="outside the allowed directories"):
            evaluation_dataset_create(
                actor=personas.owner_a,
                version=version_a,
                name="x",
                mapping=GERMAN_MAPPING,
                reference_path=str(root / path),
            )
        assert not EvaluationDataset.objects.exists()

    def test_references_are_refused_when_no_root_is_configured(
        self, personas: Any, version_a: Any, settings: Any, tmp_path: Path
    ) -> None:
        settings.EVALUATION_DATA_ROOTS = []
        with pytest.raises(ValidationError, match="allows no referenced files"):
            evaluation_dataset_create(
                actor=personas.owner_a,
                version=version_a,
                name="x",
                mapping=GERMAN_MAPPING,
                reference_path="/etc/passwd",
            )
