"""Deployment reports: whether the digest matches the approval, idempotence on the pipeline's id, the signal the
gate listens to (once per report), and the deployments API per persona."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inventory.choices import DeploymentStatus, VersionState
from inventory.models import Deployment, ModelVersion
from inventory.services import artifacts as services
from inventory.signals import deployment_reported
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

DEPLOYMENTS = "/api/v1/deployments/"
APPROVED = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


@pytest.fixture
def version(personas) -> ModelVersion:
    """Version 1.0 of model A, approved with digest APPROVED."""
    created = ModelVersionFactory(model=personas.model_a, version="1.0", artifact_digest=APPROVED)
    ModelVersion.objects.filter(pk=created.pk).update(
        state=VersionState.APPROVED, approved_by=personas.risk_officer, approved_at=timezone.now()
    )
    created.refresh_from_db()
    return created


@pytest.fixture
def signals() -> Iterator[list[dict[str, Any]]]:
    """Every ``deployment_reported`` sent while the test runs."""
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    deployment_reported.connect(receiver, dispatch_uid="test-deployments")
    yield received
    deployment_reported.disconnect(dispatch_uid="test-deployments")


def report(actor: Any, version: ModelVersion, **fields: Any) -> tuple[Deployment, bool]:
    return services.deployment_report(actor=actor, version=version, **{"environment": "production", **fields})


def test_the_approved_digest_matches_and_another_does_not(personas, version, signals):
    matching, created = report(personas.ci_scoped, version, digest=APPROVED)
    differing, _ = report(personas.ci_scoped, version, digest=OTHER.upper().replace("SHA256", "sha256"))
    assert created
    assert matching.matches_approval is True
    assert differing.matches_approval is False
    assert differing.digest == OTHER
    assert Deployment.objects.count() == 2  # without an external id every report is a deployment of its own


def test_a_version_without_approval_matches_nothing(personas, signals):
    draft = ModelVersionFactory(model=personas.model_a, version="2.0", artifact_digest=APPROVED)
    deployment, _ = report(personas.ci_scoped, draft, digest=APPROVED)
    assert deployment.matches_approval is False


def test_the_signal_fires_once_per_report(personas, version, signals):
    deployment, _ = report(personas.ci_scoped, version, digest=OTHER, external_id="run-7")
    assert len(signals) == 1
    assert signals[0] == {
        "signal": deployment_reported,
        "deployment": deployment,
        "actor": personas.ci_scoped,
        "created": True,
    }
    report(personas.ci_scoped, version, digest=OTHER, external_id="run-7", status=DeploymentStatus.ROLLED_BACK)
    assert len(signals) == 2
    assert signals[1]["created"] is False
    report(personas.ci_scoped, version, digest=OTHER, external_id="run-7", status=DeploymentStatus.ROLLED_BACK)
    assert len(signals) == 2  # an identical retry changes nothing and tells nobody


def test_reports_are_idempotent_on_the_external_id(personas, version, signals):
    first, created = report(personas.ci_scoped, version, digest=APPROVED, external_id="deploy-1", target="k8s/a")
    again, created_again = report(
        personas.owner_a, version, digest=APPROVED, external_id="deploy-1", status="failed", metadata={"job": 4}
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.status, again.target, again.metadata) == ("failed", "k8s/a", {"job": 4})
    assert Deployment.objects.count() == 1
    assert first.history.count() == 2
    other_env, created_other = report(
        personas.ci_scoped, version, environment="staging", digest=APPROVED, external_id="deploy-1"
    )
    assert created_other and other_env.pk != first.pk


def test_matches_approval_is_fixed_by_the_first_report(personas, version, signals):
    report(personas.ci_scoped, version, digest=APPROVED, external_id="d")
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.RETIRED)
    version.refresh_from_db()
    again, _ = report(personas.ci_scoped, version, digest=APPROVED, external_id="d", status="decommissioned")
    again.refresh_from_db()
    assert again.matches_approval is True


def test_an_external_id_cannot_change_its_digest(personas, version, signals):
    report(personas.ci_scoped, version, digest=APPROVED, external_id="d")
    with pytest.raises(ValidationError) as caught:
        report(personas.ci_scoped, version, digest=OTHER, external_id="d")
    assert "digest" in caught.value.message_dict
    assert len(signals) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"environment": "Prod West!", "digest": APPROVED}, "environment"),
        ({"digest": "sha256:xyz"}, "digest"),
        ({"digest": APPROVED, "status": "exploded"}, "status"),
        ({"digest": APPROVED, "metadata": ["not", "an", "object"]}, "metadata"),
        ({"digest": APPROVED, "deployed_at": timezone.now() + dt.timedelta(days=1)}, "deployed_at"),
    ],
)
def test_bad_reports_are_refused_naming_the_field(personas, version, signals, fields, field):
    with pytest.raises(ValidationError) as caught:
        report(personas.ci_scoped, version, **fields)
    assert field in caught.value.message_dict
    assert not Deployment.objects.exists()
    assert not signals


@pytest.mark.parametrize("name", ["auditor", "validator_assigned", "ci_unscoped", "owner_b"])
def test_only_reporters_report(personas, version, signals, name):
    with pytest.raises(PermissionDenied):
        report(getattr(personas, name), version, digest=APPROVED)
    assert not signals


def test_a_failing_receiver_aborts_the_report(personas, version):
    def refuse(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("gate down")

    deployment_reported.connect(refuse, dispatch_uid="test-refuse")
    try:
        with pytest.raises(RuntimeError):
            report(personas.ci_scoped, version, digest=APPROVED)
    finally:
        deployment_reported.disconnect(dispatch_uid="test-refuse")
    assert not Deployment.objects.exists()


# --- API -----------------------------------------------------------------------------------------------------------


def body(**overrides: Any) -> dict[str, Any]:
    data = {"model": "RB-0001", "version": "1.0", "environment": "production", "digest": APPROVED}
    data.update(overrides)
    return data


def test_report_through_the_api_201_then_200(personas, version, api_client_for):
    client = api_client_for(personas.ci_scoped)
    first = client.post(DEPLOYMENTS, body(external_id="gh-1", target="eks/risk"), format="json")
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["created"], data["matches_approval"], data["identity"]) == (True, True, "production#gh-1")
    assert data["reported_by"]["username"] == "ci_scoped"
    assert first["Location"] == data["links"]["self"]
    second = client.post(DEPLOYMENTS, body(external_id="gh-1", status="rolled_back"), format="json")
    assert second.status_code == 200
    assert second.json()["status"] == "rolled_back"
    unapproved = client.post(DEPLOYMENTS, body(digest=OTHER), format="json")
    assert unapproved.status_code == 201 and unapproved.json()["matches_approval"] is False


@pytest.mark.parametrize(
    ("name", "model", "code"),
    [
        ("ci_scoped", "RB-0001", 201),
        ("risk_officer", "RB-0001", 201),
        ("ci_scoped", "RB-0002", 404),
        ("ci_unscoped", "RB-0001", 404),
        ("no_role", "RB-0001", 404),
        ("auditor", "RB-0001", 403),
        ("validator_assigned", "RB-0001", 403),
    ],
)
def test_who_may_report_deployments(personas, version, api_client_for, name, model, code):
    ModelVersionFactory(model=personas.model_b, version="1.0")
    response = api_client_for(getattr(personas, name)).post(DEPLOYMENTS, body(model=model), format="json")
    assert response.status_code == code, response.content


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"digest": "sha256:abc"}, "digest"),
        ({"environment": "PROD WEST"}, "environment"),
        ({"status": "done"}, "status"),
        ({"deployed_at": "soon"}, "deployed_at"),
        ({"colour": "blue"}, "colour"),
        ({"metadata": "x"}, "metadata"),
    ],
)
def test_bad_reports_are_a_400_naming_the_field(personas, version, api_client_for, overrides, field):
    response = api_client_for(personas.ci_scoped).post(DEPLOYMENTS, body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Deployment.objects.exists()


def test_deployments_are_listed_to_who_may_see_them(personas, version, api_client_for):
    client = api_client_for(personas.ci_scoped)
    client.post(DEPLOYMENTS, body(), format="json")
    client.post(DEPLOYMENTS, body(environment="staging", digest=OTHER), format="json")

    def envs(name: str, **params: Any) -> list[str]:
        response = api_client_for(getattr(personas, name)).get(DEPLOYMENTS, params)
        assert response.status_code == 200, response.content
        return sorted(row["environment"] for row in response.json()["results"])

    assert envs("ci_scoped") == ["production", "staging"]
    assert envs("auditor", matches_approval="false") == ["staging"]
    assert envs("risk_officer", environment="Production") == ["production"]
    assert envs("owner_a", digest=OTHER, model="RB-0001") == ["staging"]
    assert envs("owner_b") == []
    assert envs("ci_unscoped") == []
    deployment = Deployment.objects.first()
    assert deployment is not None
    assert api_client_for(personas.owner_b).get(f"{DEPLOYMENTS}{deployment.pk}/").status_code == 404
    assert api_client_for(personas.auditor).get(f"{DEPLOYMENTS}{deployment.pk}/").status_code == 200


def test_the_admin_shows_reports_read_only(personas, version, api_client_for):
    from rest_framework.test import APIClient

    from inventory.models import Artifact

    api_client_for(personas.ci_scoped).post(DEPLOYMENTS, body(), format="json")
    services.artifact_ingest(
        actor=personas.ci_scoped,
        version=version,
        kind="container_image",
        data={"reference": "reg.example/pd:1", "digest": APPROVED},
    )
    personas.admin.is_staff = True
    personas.admin.save(update_fields=["is_staff"])
    admin = APIClient()
    admin.force_login(personas.admin)
    deployment = Deployment.objects.get()
    artifact = Artifact.objects.get()
    assert admin.get("/admin/inventory/deployment/").status_code == 200
    assert admin.get("/admin/inventory/artifact/").status_code == 200
    page = admin.get(f"/admin/inventory/deployment/{deployment.pk}/change/")
    assert page.status_code == 200 and APPROVED in page.content.decode()
    assert admin.get(f"/admin/inventory/artifact/{artifact.pk}/change/").status_code == 200
    assert admin.get("/admin/inventory/artifact/add/").status_code == 403
    assert admin.post(f"/admin/inventory/deployment/{deployment.pk}/delete/").status_code == 403
