"""Artifacts API: reporting per persona (404 for what the caller cannot see, 403 for what it may not report for),
201 then 200 for the same artifact, refusals naming the field, batches all or nothing, filtered lists at a fixed
query cost, and the OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Artifact, Deployment, ModelVersion
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

ARTIFACTS = "/api/v1/artifacts/"
BATCH = "/api/v1/artifacts/batch/"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
DIGEST = "sha256:" + "c" * 64


@pytest.fixture
def versions(personas) -> tuple[ModelVersion, ModelVersion]:
    """Version 1.0 of model A and of model B."""
    return (
        ModelVersionFactory(model=personas.model_a, version="1.0"),
        ModelVersionFactory(model=personas.model_b, version="1.0"),
    )


def commit(model: str = "RB-0001", **overrides: Any) -> dict[str, Any]:
    body = {"model": model, "version": "1.0", "kind": "git_commit", "repository": "github.com/bank/pd", "sha": SHA}
    body.update(overrides)
    return body


def test_the_same_artifact_twice_answers_201_then_200_and_is_one_record(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    first = client.post(ARTIFACTS, commit(), format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True
    assert body["identity"] == f"github.com/bank/pd@{SHA}"
    assert body["kind"] == "git_commit"
    assert body["model"]["key"] == "RB-0001"
    assert body["version"]["version"] == "1.0"
    assert body["links"]["self"].endswith(f"/api/v1/artifacts/{body['id']}/")
    assert body["links"]["version"].endswith(f"/api/v1/versions/{versions[0].pk}/")
    assert first["Location"] == body["links"]["self"]
    second = client.post(ARTIFACTS, commit(sha=SHA.upper()), format="json")
    assert second.status_code == 200, second.content
    assert second.json()["created"] is False
    assert second.json()["id"] == body["id"]
    assert Artifact.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "model", "code"),
    [
        ("ci_scoped", "RB-0001", 201),
        ("owner_a", "RB-0001", 201),
        ("risk_officer", "RB-0002", 201),
        ("admin", "RB-0002", 201),
        ("ci_scoped", "RB-0002", 404),
        ("ci_unscoped", "RB-0001", 404),
        ("owner_b", "RB-0001", 404),
        ("validator_other", "RB-0001", 404),
        ("no_role", "RB-0001", 404),
        ("auditor", "RB-0001", 403),
        ("validator_assigned", "RB-0001", 403),
    ],
)
def test_who_may_report_through_the_api(personas, versions, api_client_for, name, model, code):
    response = api_client_for(getattr(personas, name)).post(ARTIFACTS, commit(model), format="json")
    assert response.status_code == code, response.content
    if code == 404:
        assert model in response.json()["detail"]
    assert Artifact.objects.count() == (1 if code == 201 else 0)


def test_anonymous_callers_are_refused(versions):
    from rest_framework.test import APIClient

    assert APIClient().post(ARTIFACTS, commit(), format="json").status_code in {401, 403}
    assert APIClient().get(ARTIFACTS).status_code in {401, 403}


def test_a_token_scoped_to_model_a_cannot_report_for_model_b(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    response = client.post(ARTIFACTS, commit("RB-0002", create_version=True), format="json")
    assert response.status_code == 404
    batch = client.post(BATCH, {"model": "RB-0002", "version": "1.0", "artifacts": [commit()]}, format="json")
    assert batch.status_code == 404
    assert not Artifact.objects.exists()
    assert not ModelVersion.objects.filter(model=personas.model_b).exclude(pk=versions[1].pk).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"sha": "deadbeef"}, "sha", "40 hex"),
        (
            {"kind": "container_image", "sha": None, "repository": None, "reference": "r/a:1", "digest": "sha256:1"},
            "digest",
            "64 hex",
        ),
        (
            {
                "kind": "ci_run",
                "sha": None,
                "repository": None,
                "system": "jenkins",
                "url": "not a url",
                "run_id": "1",
                "actor": "x",
            },
            "url",
            "URL",
        ),
        ({"kind": "pull_request", "sha": None, "number": -3, "url": "https://g.example/pr/1"}, "number", "positive"),
        (
            {
                "kind": "experiment_run",
                "sha": None,
                "repository": None,
                "tracking_uri": "https://m.example",
                "run_id": "1",
                "metrics": {"auc": "x"},
            },
            "metrics",
            "finite",
        ),
        ({"kind": "tarball"}, "kind", "valid choice"),
        ({"branch": "main"}, "branch", "Unknown field"),
        ({"model": 42}, "model", "valid string"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(personas, versions, api_client_for, overrides, field, words):
    body = {key: value for key, value in {**commit(), **overrides}.items() if value is not None}
    response = api_client_for(personas.ci_scoped).post(ARTIFACTS, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()
    assert not Artifact.objects.exists()


def test_a_missing_version_is_named_or_registered_on_request(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    missing = client.post(ARTIFACTS, commit(version="2.0"), format="json")
    assert missing.status_code == 400
    assert "create_version" in missing.json()["version"][0]
    created = client.post(ARTIFACTS, commit(version="2.0", create_version=True), format="json")
    assert created.status_code == 201, created.content
    assert ModelVersion.objects.get(model=personas.model_a, version="2.0").created_by == personas.ci_scoped


def test_a_refused_artifact_leaves_no_version_behind(personas, versions, api_client_for):
    response = api_client_for(personas.ci_scoped).post(
        ARTIFACTS, commit(version="3.0", create_version=True, sha="short"), format="json"
    )
    assert response.status_code == 400
    assert not ModelVersion.objects.filter(version="3.0").exists()


def test_a_deployment_sent_to_the_artifacts_endpoint_is_a_deployment_record(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    body = {
        "model": "RB-0001",
        "version": "1.0",
        "kind": "deployment",
        "environment": "production",
        "digest": DIGEST,
        "external_id": "d-1",
        "deployed_at": "2026-01-02T03:04:05Z",
    }
    first = client.post(ARTIFACTS, body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["kind"] == "deployment"
    assert first.json()["identity"] == "production#d-1"
    assert first.json()["links"]["self"].endswith(f"/api/v1/deployments/{first.json()['id']}/")
    assert client.post(ARTIFACTS, body, format="json").status_code == 200
    assert Deployment.objects.count() == 1
    assert not Artifact.objects.exists()
    bad = client.post(ARTIFACTS, {**body, "deployed_at": "yesterday"}, format="json")
    assert bad.status_code == 400 and "deployed_at" in bad.json()


def test_a_batch_is_all_or_nothing(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    items = [
        {"kind": "git_commit", "repository": "github.com/bank/pd", "sha": SHA},
        {"kind": "ci_run", "system": "gitlab-ci", "url": "https://gitlab.example/p/1", "run_id": "1", "actor": "bot"},
        {"kind": "container_image", "reference": "reg.example/pd:1", "digest": "sha256:nope"},
    ]
    refused = client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": items}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["artifacts[2].digest"]
    assert not Artifact.objects.exists()
    items[2]["digest"] = DIGEST
    accepted = client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": items}, format="json")
    assert accepted.status_code == 201, accepted.content
    body = accepted.json()
    assert (body["created"], body["existing"]) == (3, 0)
    assert [row["kind"] for row in body["results"]] == ["git_commit", "ci_run", "container_image"]
    assert body["results"][2]["identity"] == DIGEST
    again = client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": items}, format="json")
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["existing"]) == (0, 3)
    assert Artifact.objects.count() == 3


def test_a_batch_refuses_deployments_and_oversized_lists(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    deployment = {"kind": "deployment", "environment": "prod", "digest": DIGEST}
    response = client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": [deployment]}, format="json")
    assert response.status_code == 400 and "artifacts[0].kind" in response.json()
    many = [
        {"kind": "ci_run", "system": "x", "url": "https://c.example/1", "run_id": str(n), "actor": "a"}
        for n in range(101)
    ]
    response = client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": many}, format="json")
    assert response.status_code == 400 and "At most 100" in response.json()["artifacts"][0]


def test_lists_show_what_the_caller_may_see_filtered(personas, versions, api_client_for):
    api_client_for(personas.risk_officer).post(ARTIFACTS, commit("RB-0001"), format="json")
    api_client_for(personas.risk_officer).post(ARTIFACTS, commit("RB-0002"), format="json")
    image = {
        "model": "RB-0001",
        "version": "1.0",
        "kind": "container_image",
        "reference": "r.example/a:1",
        "digest": DIGEST,
    }
    api_client_for(personas.risk_officer).post(ARTIFACTS, image, format="json")

    def kinds(name: str, **params: Any) -> list[tuple[str, str]]:
        response = api_client_for(getattr(personas, name)).get(ARTIFACTS, params)
        assert response.status_code == 200, response.content
        return sorted((row["model"]["key"], row["kind"]) for row in response.json()["results"])

    assert kinds("ci_scoped") == [("RB-0001", "container_image"), ("RB-0001", "git_commit")]
    assert kinds("owner_b") == [("RB-0002", "git_commit")]
    assert len(kinds("auditor")) == 3
    assert kinds("ci_unscoped") == []
    assert kinds("risk_officer", model="RB-0002") == [("RB-0002", "git_commit")]
    assert kinds("risk_officer", kind="container_image") == [("RB-0001", "container_image")]
    assert kinds("risk_officer", digest=DIGEST.upper().replace("SHA256", "sha256")) == [("RB-0001", "container_image")]
    assert kinds("risk_officer", version="9.9") == []
    other = Artifact.objects.get(version__model=personas.model_b)
    assert api_client_for(personas.ci_scoped).get(f"{ARTIFACTS}{other.pk}/").status_code == 404
    assert api_client_for(personas.owner_b).get(f"{ARTIFACTS}{other.pk}/").status_code == 200
    history = api_client_for(personas.owner_b).get(f"{ARTIFACTS}{other.pk}/history/")
    assert history.status_code == 200 and history.json()["count"] == 1


def test_the_list_costs_the_same_queries_whatever_its_size(personas, versions, api_client_for):
    client = api_client_for(personas.ci_scoped)
    items = [
        {"kind": "ci_run", "system": "x", "url": "https://c.example/1", "run_id": str(n), "actor": "a"}
        for n in range(30)
    ]
    assert (
        client.post(BATCH, {"model": "RB-0001", "version": "1.0", "artifacts": items}, format="json").status_code == 201
    )

    def cost(page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(ARTIFACTS, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        return len(queries)

    assert cost(2) == cost(30)


def test_the_schema_documents_every_kind(personas, api_client_for):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    mapping = components["ArtifactReportRequest"]["discriminator"]["mapping"]
    assert set(mapping) == {
        "git_commit",
        "pull_request",
        "ci_run",
        "container_image",
        "experiment_run",
        "dataset_version",
        "model_file",
        "document",
        "deployment",
    }
    post = schema["paths"]["/api/v1/artifacts/"]["post"]
    assert {"200", "201", "400", "401", "403", "404"} <= set(post["responses"])
    assert "GitCommit" in post["requestBody"]["content"]["application/json"]["examples"]
