"""The MLflow sync against a real tracking server: what it imports, that it is idempotent, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from inventory.choices import ArtifactKind, ExternalModelStatus, VersionState
from inventory.models import Artifact, ExternalRegistryModel, ModelVersion, RegisteredModel
from inventory.services.mlflow import SERVICE_ACCOUNT_USERNAME, mlflow_service_account, mlflow_sync
from tests.inventory.mlflow.conftest import MODEL_FILE_SHA256, MlflowContent

pytestmark = pytest.mark.django_db


def outcome(report: Any, name: str) -> Any:
    return next(item for item in report.models if item.name == name)


def snapshot() -> dict[str, Any]:
    """Every row the sync could write, with the fields that would move if it wrote them."""
    return {
        "versions": list(ModelVersion.objects.order_by("pk").values()),
        "artifacts": list(Artifact.objects.order_by("pk").values()),
        "version_history": ModelVersion.history.count(),
        "artifact_history": Artifact.history.count(),
        "model_history": RegisteredModel.history.count(),
        "records": list(
            ExternalRegistryModel.objects.order_by("pk").values(
                "pk",
                "name",
                "description",
                "tags",
                "latest_versions",
                "owner_hint",
                "status",
                "registered_model",
                "first_seen_at",
                "updated_at",
            )
        ),
    }


def test_first_sync_records_every_model_for_triage_and_skips_models_it_may_not_report_for(
    personas: Any, mlflow_content: MlflowContent
) -> None:
    report = mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)

    assert outcome(report, "fraud-gbm").status == "unregistered"
    assert outcome(report, "churn-llm").status == "unregistered"
    # Tagged with an existing key, but nobody granted the sync account reporting: listed, nothing imported.
    for name, key in (("credit-pd", "RB-0001"), ("cards-limit", "RB-0002")):
        assert outcome(report, name).status == "skipped"
        assert outcome(report, name).model_key == key
        assert "may not report" in " ".join(outcome(report, name).notes)
    assert ModelVersion.objects.count() == 0
    records = {record.name: record for record in ExternalRegistryModel.objects.all()}
    assert set(records) == {"credit-pd", "fraud-gbm", "churn-llm", "cards-limit"}
    assert records["credit-pd"].status == ExternalModelStatus.LINKED
    assert records["credit-pd"].registered_model == personas.model_a
    assert records["fraud-gbm"].status == ExternalModelStatus.UNREGISTERED
    assert records["fraud-gbm"].registered_model is None
    assert records["fraud-gbm"].owner_hint == "business: owner_b; technical: ghost.user"
    assert records["churn-llm"].description == "Predicts which customers will leave."
    assert records["credit-pd"].tracking_uri == mlflow_content.url
    # Owners are matched by username or e-mail; the one MLflow names who is not a portal user is reported.
    assert report.unknown_owners == [{"name": "fraud-gbm", "owner": "ghost.user"}]
    assert mlflow_service_account().username == SERVICE_ACCOUNT_USERNAME
    assert mlflow_service_account().is_service_account


def test_sync_imports_versions_runs_metrics_tags_and_model_files_of_a_linked_model(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    report = mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)

    credit = outcome(report, "credit-pd")
    assert (credit.status, credit.versions_created, credit.artifacts_created) == ("linked", 2, 3)
    versions = {v.version: v for v in ModelVersion.objects.filter(model=personas.model_a)}
    assert set(versions) == {"1", "2.0.0"}  # MLflow's number, or the portal.version tag
    assert all(v.state == VersionState.DRAFT for v in versions.values())
    assert all(v.created_by == mlflow_service_account() for v in versions.values())

    run_1, run_2 = mlflow_content.credit_run_ids
    experiment_run = Artifact.objects.get(version=versions["1"], kind=ArtifactKind.EXPERIMENT_RUN)
    assert experiment_run.identity == f"{mlflow_content.url}#{run_1}"
    assert experiment_run.metadata["run_id"] == run_1
    assert experiment_run.metadata["experiment"] == "retail-credit"
    # The latest value of each metric; NaN (which MLflow accepts) is left out.
    assert experiment_run.metadata["metrics"] == {"auc": 0.81, "gini": 0.58}
    assert experiment_run.metadata["params"] == {"max_depth": "4"}
    assert experiment_run.metadata["tags"]["team"] == "retail-risk"
    model_file = Artifact.objects.get(version=versions["1"], kind=ArtifactKind.MODEL_FILE)
    assert model_file.digest == f"sha256:{MODEL_FILE_SHA256}"
    assert model_file.uri.startswith("file://") and model_file.uri.endswith(f"{run_1}/artifacts/model")
    assert model_file.metadata["tags"] == {"sha256": MODEL_FILE_SHA256}
    # Version 2 has no sha256 tag: its run is recorded, no model file, and the report says why.
    assert list(versions["2.0.0"].artifacts.values_list("kind", flat=True)) == [ArtifactKind.EXPERIMENT_RUN]
    assert versions["2.0.0"].artifacts.get().metadata["run_id"] == run_2
    assert any("no sha256 tag" in note for note in credit.notes)
    # Model B stays out of reach: the account reports for A only.
    assert outcome(report, "cards-limit").status == "skipped"
    assert not ModelVersion.objects.filter(model=personas.model_b).exists()


def test_second_sync_with_nothing_changed_writes_nothing(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    account = mlflow_service_account()
    first = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)
    assert first.changed
    before = snapshot()
    seen_before = dict(ExternalRegistryModel.objects.values_list("name", "last_seen_at"))

    second = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)

    assert not second.changed
    totals = second.totals
    assert (totals["versions_created"], totals["artifacts_created"], totals["artifacts_updated"]) == (0, 0, 0)
    assert (totals["versions_existing"], totals["artifacts_unchanged"]) == (2, 3)
    assert (totals["records_created"], totals["records_updated"]) == (0, 0)
    assert snapshot() == before
    # Only the sighting moves.
    for name, seen in ExternalRegistryModel.objects.values_list("name", "last_seen_at"):
        assert seen >= seen_before[name]


def test_sync_never_touches_a_versions_workflow_state_or_frozen_digest(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    account = mlflow_service_account()
    mlflow_sync(actor=account, tracking_uri=mlflow_content.url)
    frozen = "sha256:" + "b" * 64
    ModelVersion.objects.filter(model=personas.model_a, version="1").update(
        state=VersionState.APPROVED, artifact_digest=frozen
    )

    mlflow_sync(actor=account, tracking_uri=mlflow_content.url)

    version = ModelVersion.objects.get(model=personas.model_a, version="1")
    assert (version.state, version.artifact_digest) == (VersionState.APPROVED, frozen)


def test_dry_run_reports_what_would_change_and_writes_nothing(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    before = snapshot()
    report = mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url, dry_run=True)
    assert report.dry_run
    assert outcome(report, "credit-pd").versions_created == 2
    assert report.totals["records_created"] == 4
    assert snapshot() == before
    assert not ExternalRegistryModel.objects.exists()


def test_ignored_model_stays_ignored_even_when_tagged(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    from inventory.services.mlflow import external_model_ignore

    account = mlflow_service_account()
    mlflow_sync(actor=account, tracking_uri=mlflow_content.url)
    record = ExternalRegistryModel.objects.get(name="credit-pd")
    ModelVersion.objects.filter(model=personas.model_a).update(description="kept")
    external_model_ignore(actor=personas.risk_officer, record=record, reason="A sandbox copy, not governed.")
    Artifact.objects.all().delete()

    report = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)

    assert outcome(report, "credit-pd").status == "ignored"
    assert not Artifact.objects.exists()
    record.refresh_from_db()
    assert (record.status, record.registered_model) == (ExternalModelStatus.IGNORED, None)


def test_changes_in_mlflow_are_picked_up_by_the_next_sync(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_content.url, registry_uri=mlflow_content.url)
    account = mlflow_service_account()
    client.create_registered_model("credit-pd-challenger")
    try:
        report = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)
        assert outcome(report, "credit-pd-challenger").status == "unregistered"
        client.set_registered_model_tag("credit-pd-challenger", "portal.model_key", "RB-0001")
        client.create_model_version(
            "credit-pd-challenger", source="s3://models/challenger/1", tags={"portal.version": "9.0-challenger"}
        )

        report = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)

        challenger = outcome(report, "credit-pd-challenger")
        assert (challenger.status, challenger.record, challenger.versions_created) == ("linked", "updated", 1)
        assert ModelVersion.objects.filter(model=personas.model_a, version="9.0-challenger").exists()
    finally:
        client.delete_registered_model("credit-pd-challenger")

    report = mlflow_sync(actor=account, tracking_uri=mlflow_content.url)
    assert report.missing == ["credit-pd-challenger"]
    assert ExternalRegistryModel.objects.filter(name="credit-pd-challenger").exists()  # kept, with its last sighting


def test_only_service_accounts_risk_officers_and_admins_may_run_the_sync(
    personas: Any, mlflow_content: MlflowContent
) -> None:
    for refused in (personas.owner_a, personas.auditor, personas.validator_assigned):
        with pytest.raises(PermissionDenied):
            mlflow_sync(actor=refused, tracking_uri=mlflow_content.url)
    report = mlflow_sync(actor=personas.risk_officer, tracking_uri=mlflow_content.url, dry_run=True)
    # A Risk Officer holds change on every model, so nothing tagged is skipped.
    assert outcome(report, "cards-limit").status == "linked"
