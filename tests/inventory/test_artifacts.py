"""Artifact kinds (pure format checks and canonical identities) and the ingestion services: idempotent, all or
nothing, permission-checked, and never touching what a version froze."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.query import QuerySet
from django.http import Http404
from django.utils import timezone

from inventory import artifact_kinds
from inventory.choices import VersionState
from inventory.models import Artifact, ModelVersion
from inventory.selectors import approved_digests
from inventory.services import artifacts as services
from tests.factories import ModelVersionFactory
from tests.markers import postgresql_only

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64

VALID: dict[str, dict[str, Any]] = {
    "git_commit": {"repository": "https://github.com/bank/pd-model.git", "sha": SHA, "message": "Fix PD floor"},
    "pull_request": {
        "repository": "github.com/bank/pd-model",
        "number": 12,
        "url": "https://github.com/bank/pd/pull/12",
    },
    "ci_run": {"system": "github-actions", "url": "https://ci.example.com/runs/9", "run_id": 9, "actor": "jdoe"},
    "container_image": {"reference": "registry.bank.example/risk/pd:2.3.0", "digest": DIGEST},
    "experiment_run": {"tracking_uri": "https://mlflow.bank.example", "run_id": "abc", "metrics": {"auc": 0.81}},
    "dataset_version": {"uri": "s3://risk-data/pd/2026-06/", "digest": DIGEST},
    "model_file": {"uri": "s3://models/pd/model.pkl", "sha256": "A" * 64},
    "document": {"document_type": "model_card", "uri": "https://docs.bank.example/pd", "title": "PD card"},
    "deployment": {"environment": "Production", "digest": DIGEST},
}

IDENTITIES = {
    "git_commit": f"github.com/bank/pd-model@{SHA}",
    "pull_request": "github.com/bank/pd-model#12",
    "ci_run": "github-actions:9",
    "container_image": DIGEST,
    "experiment_run": "https://mlflow.bank.example#abc",
    "dataset_version": f"s3://risk-data/pd/2026-06/@{DIGEST}",
    "model_file": f"s3://models/pd/model.pkl@{DIGEST}",
    "document": "https://docs.bank.example/pd",
    "deployment": f"production@{DIGEST}",
}


def refusal(kind: str, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        artifact_kinds.normalise(kind, data)
    return caught.value.message_dict


# --- pure: formats and identities -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_has_a_canonical_identity(kind):
    assert artifact_kinds.normalise(kind, VALID[kind]).identity == IDENTITIES[kind]


@pytest.mark.parametrize("kind", sorted(artifact_kinds.KINDS))
def test_every_documented_example_is_valid(kind):
    artifact_kinds.normalise(kind, artifact_kinds.KINDS[kind].example())


def test_the_same_commit_named_two_ways_is_one_identity():
    first = artifact_kinds.normalise(
        "git_commit", {"repository": "https://GitHub.com/bank/pd-model/", "sha": SHA.upper()}
    )
    second = artifact_kinds.normalise("git_commit", {"repository": "github.com/bank/pd-model.git", "sha": SHA})
    assert first.identity == second.identity == f"github.com/bank/pd-model@{SHA}"
    assert first.fields["sha"] == SHA


def test_credentials_in_a_repository_url_never_reach_the_record():
    normal = artifact_kinds.normalise(
        "git_commit", {"repository": "https://gitlab-ci-token:s3cret@gitlab.example.com/risk/pd.git", "sha": SHA}
    )
    assert "s3cret" not in repr(normal)
    assert normal.fields["repository"] == "gitlab.example.com/risk/pd"


@pytest.mark.parametrize(
    ("kind", "data", "field", "words"),
    [
        ("git_commit", {"repository": "github.com/a/b", "sha": "abc123"}, "sha", "40 hex"),
        ("git_commit", {"repository": "github.com/a/b", "sha": "g" * 40}, "sha", "40 hex"),
        ("git_commit", {"repository": "not a repo", "sha": SHA}, "repository", "host/path"),
        ("container_image", {"reference": "reg/app:1", "digest": "sha256:abc"}, "digest", "64 hex"),
        ("container_image", {"reference": "reg/app:1", "digest": "md5:" + "a" * 64}, "digest", "sha256"),
        ("container_image", {"reference": "Reg Bad/App", "digest": DIGEST}, "reference", "image reference"),
        ("container_image", {"reference": f"reg/app@{OTHER_DIGEST}", "digest": DIGEST}, "reference", "other"),
        ("ci_run", {"system": "jenkins", "url": "javascript:alert(1)", "run_id": "1", "actor": "x"}, "url", "URL"),
        ("ci_run", {"system": "jenkins", "url": "ftp://ci/1", "run_id": "1", "actor": "x"}, "url", "http(s)"),
        (
            "ci_run",
            {"system": "jenkins", "url": "https://u:p@ci.example.com/1", "run_id": "1", "actor": "x"},
            "url",
            "credentials",
        ),
        (
            "pull_request",
            {"repository": "github.com/a/b", "number": 0, "url": "https://x.example/1"},
            "number",
            "positive",
        ),
        (
            "pull_request",
            {"repository": "github.com/a/b", "number": "12a", "url": "https://x.example/1"},
            "number",
            "positive",
        ),
        (
            "pull_request",
            {"repository": "github.com/a/b", "number": True, "url": "https://x.example/1"},
            "number",
            "positive",
        ),
        (
            "experiment_run",
            {"tracking_uri": "https://m.example", "run_id": "1", "metrics": {"auc": "high"}},
            "metrics",
            "auc",
        ),
        (
            "experiment_run",
            {"tracking_uri": "https://m.example", "run_id": "1", "metrics": {"auc": float("nan")}},
            "metrics",
            "finite",
        ),
        ("experiment_run", {"tracking_uri": "https://m.example", "run_id": "1", "metrics": [1]}, "metrics", "object"),
        ("experiment_run", {"tracking_uri": "mlflow", "run_id": "1"}, "tracking_uri", "scheme"),
        ("dataset_version", {"uri": "data:text/plain,hi", "digest": DIGEST}, "uri", "not accepted"),
        ("model_file", {"uri": "s3://m/x", "sha256": "xyz"}, "sha256", "64 hex"),
        ("model_file", {"uri": "s3://m/x", "sha256": "a" * 64, "digest": OTHER_DIGEST}, "sha256", "Differs"),
        (
            "document",
            {"document_type": "memo", "uri": "https://d.example/x", "title": "x"},
            "document_type",
            "model_card",
        ),
        ("deployment", {"environment": "prod env", "digest": DIGEST}, "environment", "lower-case"),
        ("deployment", {"environment": "prod", "digest": DIGEST, "status": "exploded"}, "status", "succeeded"),
    ],
)
def test_malformed_fields_are_refused_naming_the_field(kind, data, field, words):
    errors = refusal(kind, data)
    assert field in errors, errors
    assert words in " ".join(errors[field])


def test_missing_and_unknown_fields_are_named_together():
    errors = refusal("git_commit", {"repository": "github.com/a/b", "branch": "main", "colour": "red"})
    assert errors["sha"] == ["This field is required."]
    assert "Unknown field for kind git_commit" in errors["branch"][0]
    assert "repository, sha" in errors["colour"][0]


def test_an_unknown_kind_names_the_kinds_there_are():
    errors = refusal("tarball", {})
    assert "git_commit" in errors["kind"][0] and "document" in errors["kind"][0]


def test_name_uri_and_digest_follow_from_the_fields():
    image = artifact_kinds.normalise("container_image", VALID["container_image"])
    assert (image.name, image.uri, image.digest) == ("registry.bank.example/risk/pd:2.3.0", image.uri, DIGEST)
    model_file = artifact_kinds.normalise("model_file", VALID["model_file"])
    assert model_file.digest == DIGEST
    assert model_file.fields == {"uri": "s3://models/pd/model.pkl", "digest": DIGEST}


# --- services ------------------------------------------------------------------------------------------------------


@pytest.fixture
def version(personas) -> ModelVersion:
    created = ModelVersionFactory(model=personas.model_a, version="1.0")
    assert isinstance(created, ModelVersion)
    return created


def approve(version: ModelVersion, approver: Any) -> None:
    """Put the version in the approved state the workflow would leave (the workflow is not under test here)."""
    ModelVersion.objects.filter(pk=version.pk).update(
        state=VersionState.APPROVED, approved_by=approver, approved_at=timezone.now()
    )
    version.refresh_from_db()


def test_the_same_artifact_twice_is_one_record(personas, version):
    first, created = services.artifact_ingest(
        actor=personas.ci_scoped, version=version, kind="git_commit", data=VALID["git_commit"]
    )
    again, created_again = services.artifact_ingest(
        actor=personas.ci_scoped,
        version=version,
        kind="git_commit",
        data={**VALID["git_commit"], "repository": "github.com/bank/pd-model", "sha": SHA.upper()},
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert Artifact.objects.count() == 1
    assert Artifact.history.count() == 1  # nothing changed: no second history record


def test_a_report_with_new_fields_updates_and_merges(personas, version):
    artifact, _ = services.artifact_ingest(
        actor=personas.ci_scoped, version=version, kind="git_commit", data=VALID["git_commit"]
    )
    updated, created = services.artifact_ingest(
        actor=personas.owner_a,
        version=version,
        kind="git_commit",
        data={"repository": "github.com/bank/pd-model", "sha": SHA, "author": "Jane"},
    )
    assert not created
    updated.refresh_from_db()
    assert updated.metadata["author"] == "Jane"
    assert updated.metadata["message"] == "Fix PD floor"  # kept from the first report
    assert updated.reported_by == personas.owner_a
    assert artifact.history.count() == 2
    assert "metadata" in (artifact.history.first().history_change_reason or "")


def test_a_race_on_the_same_identity_becomes_an_update(personas, version, monkeypatch):
    """Another report inserts the identity between this report's lookup and its insert: the unique constraint
    refuses the insert inside a savepoint and the report updates the row instead of failing."""
    services.artifact_ingest(actor=personas.ci_scoped, version=version, kind="ci_run", data=VALID["ci_run"])
    real_first = QuerySet.first
    calls = {"n": 0}

    def first_missing_once(self: QuerySet[Any]) -> Any:
        if self.model is Artifact and calls["n"] == 0:
            calls["n"] += 1
            return None
        return real_first(self)

    monkeypatch.setattr(QuerySet, "first", first_missing_once)
    artifact, created = services.artifact_ingest(
        actor=personas.ci_scoped, version=version, kind="ci_run", data={**VALID["ci_run"], "status": "success"}
    )
    assert calls["n"] == 1
    assert not created
    assert Artifact.objects.count() == 1
    assert artifact.metadata["status"] == "success"


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("owner_a", True),
        ("risk_officer", True),
        ("admin", True),
        ("ci_scoped", True),
        ("owner_b", False),
        ("auditor", False),
        ("validator_assigned", False),
        ("validator_other", False),
        ("ci_unscoped", False),
        ("no_role", False),
    ],
)
def test_who_may_report(personas, version, name, allowed):
    actor = getattr(personas, name)
    assert services.may_report(actor, personas.model_a) is allowed
    if allowed:
        services.artifact_ingest(actor=actor, version=version, kind="ci_run", data=VALID["ci_run"])
    else:
        with pytest.raises(PermissionDenied):
            services.artifact_ingest(actor=actor, version=version, kind="ci_run", data=VALID["ci_run"])
        assert not Artifact.objects.exists()


def test_version_for_reporting_hides_invisible_models_and_refuses_visible_ones(personas, version):
    assert services.version_for_reporting(actor=personas.ci_scoped, model_key="RB-0001", version_label="1.0") == version
    with pytest.raises(Http404):
        services.version_for_reporting(actor=personas.ci_scoped, model_key="RB-0002", version_label="1.0")
    with pytest.raises(Http404):
        services.version_for_reporting(actor=personas.ci_unscoped, model_key="RB-0001", version_label="1.0")
    with pytest.raises(PermissionDenied):
        services.version_for_reporting(actor=personas.auditor, model_key="RB-0001", version_label="1.0")
    with pytest.raises(ValidationError) as caught:
        services.version_for_reporting(actor=personas.ci_scoped, model_key="RB-0001", version_label="9.9")
    assert "create_version" in caught.value.message_dict["version"][0]


def test_a_reporter_may_register_a_draft_version(personas):
    created = services.version_for_reporting(
        actor=personas.ci_scoped, model_key="RB-0001", version_label="2.0", create=True, reason="from CI"
    )
    assert created.state == VersionState.DRAFT
    assert created.created_by == personas.ci_scoped
    assert created.history.get().history_change_reason == "from CI"
    again = services.version_for_reporting(
        actor=personas.ci_scoped, model_key="RB-0001", version_label="2.0", create=True
    )
    assert again.pk == created.pk
    with pytest.raises(ValidationError) as caught:
        services.version_for_reporting(
            actor=personas.ci_scoped, model_key="RB-0001", version_label="bad label", create=True
        )
    assert "version" in caught.value.message_dict


def test_artifacts_arrive_after_approval_without_unfreezing_the_version(personas, version):
    ModelVersion.objects.filter(pk=version.pk).update(artifact_digest=DIGEST)
    version.refresh_from_db()
    approve(version, personas.risk_officer)
    services.artifact_ingest(
        actor=personas.ci_scoped,
        version=version,
        kind="container_image",
        data={"reference": "reg.example/pd:late", "digest": OTHER_DIGEST},
    )
    version.refresh_from_db()
    assert version.artifact_digest == DIGEST
    assert version.state == VersionState.APPROVED
    assert approved_digests(version) == {DIGEST}  # the late image was never reviewed


def test_deployments_are_not_artifacts(personas, version):
    with pytest.raises(ValidationError) as caught:
        services.artifact_ingest(actor=personas.ci_scoped, version=version, kind="deployment", data=VALID["deployment"])
    assert "deployment_report" in caught.value.message_dict["kind"][0]


def test_a_batch_is_all_or_nothing(personas, version):
    good = [{"kind": "git_commit", **VALID["git_commit"]}, {"kind": "ci_run", **VALID["ci_run"]}]
    bad = [*good, {"kind": "container_image", "reference": "reg/app:1", "digest": "sha256:short"}]
    with pytest.raises(ValidationError) as caught:
        services.artifact_ingest_many(actor=personas.ci_scoped, version=version, items=bad)
    assert list(caught.value.message_dict) == ["artifacts[2].digest"]
    assert not Artifact.objects.exists()
    results = services.artifact_ingest_many(actor=personas.ci_scoped, version=version, items=[*good, good[0]])
    assert [created for _, created in results] == [True, True, False]
    assert Artifact.objects.count() == 2


def test_a_batch_has_a_size_limit(personas, version):
    items = [{"kind": "ci_run", **VALID["ci_run"], "run_id": str(n)} for n in range(services.BATCH_MAX + 1)]
    with pytest.raises(ValidationError) as caught:
        services.artifact_ingest_many(actor=personas.ci_scoped, version=version, items=items)
    assert "At most 100" in caught.value.message_dict["artifacts"][0]


@postgresql_only  # SQLite serialises writers, so there is no race to lose
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_artifact_make_one_record(personas):
    """Real concurrent transactions (PostgreSQL): every report succeeds and one row exists."""
    import threading

    from django.db import connections

    version = ModelVersionFactory(model=personas.model_a, version="1.0")
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []

    def report() -> None:
        try:
            barrier.wait()
            outcomes.append(
                services.artifact_ingest(
                    actor=personas.ci_scoped, version=version, kind="ci_run", data=VALID["ci_run"]
                )[1]
            )
        except Exception as error:  # the assertion below shows what went wrong
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [False, False, False, True]
    assert Artifact.objects.count() == 1
