"""The triage API (``/api/v1/external-models/``) on records a real sync made: who sees them, who decides."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from inventory.choices import ExternalModelStatus
from inventory.models import ExternalRegistryModel, ModelVersion, RegisteredModel
from inventory.services.artifacts import may_report
from inventory.services.mlflow import mlflow_service_account, mlflow_sync
from tests.inventory.mlflow.conftest import MlflowContent

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(personas: Any, mlflow_content: MlflowContent) -> dict[str, ExternalRegistryModel]:
    mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)
    return {record.name: record for record in ExternalRegistryModel.objects.all()}


def url(record: ExternalRegistryModel, action: str = "") -> str:
    if action:
        return reverse(f"externalmodel-{action}", args=[record.pk])
    return reverse("externalmodel-detail", args=[record.pk])


LIST = "/api/v1/external-models/"


def test_risk_officers_auditors_and_admins_see_the_triage_list_and_nobody_else(
    personas: Any, records: dict[str, ExternalRegistryModel], api_client_for: Any
) -> None:
    for reader in (personas.risk_officer, personas.auditor, personas.admin):
        answer = api_client_for(reader).get(LIST, {"status": "unregistered"})
        assert answer.status_code == 200
        assert sorted(row["name"] for row in answer.json()["results"]) == ["churn-llm", "fraud-gbm"]
    detail = api_client_for(personas.risk_officer).get(url(records["credit-pd"])).json()
    assert detail["registered_model"] == {"key": "RB-0001", "name": personas.model_a.name}
    assert detail["tags"]["portal.model_key"] == "RB-0001"
    assert detail["latest_versions"][-1]["label"] == "2.0.0"
    assert detail["links"]["model"].endswith("/api/v1/models/RB-0001/")
    for outsider in (personas.owner_a, personas.validator_assigned, personas.ci_scoped, personas.no_role):
        client = api_client_for(outsider)
        assert client.get(LIST).json()["results"] == []
        assert client.get(url(records["fraud-gbm"])).status_code == 404
        assert client.post(url(records["fraud-gbm"], "link"), {"model": "RB-0001"}).status_code == 404


def test_list_filters_refuse_a_bad_status_with_a_message(personas: Any, records: Any, api_client_for: Any) -> None:
    answer = api_client_for(personas.risk_officer).get(LIST, {"status": "maybe"})
    assert answer.status_code == 400
    assert "status" in answer.json()


def test_risk_officer_links_a_model_and_the_next_sync_imports_it(
    personas: Any, records: dict[str, ExternalRegistryModel], mlflow_content: MlflowContent, api_client_for: Any
) -> None:
    record = records["fraud-gbm"]
    for refused in (personas.auditor,):
        answer = api_client_for(refused).post(url(record, "link"), {"model": "RB-0002"})
        assert answer.status_code == 403
    assert api_client_for(personas.owner_b).post(url(record, "link"), {"model": "RB-0002"}).status_code == 404

    answer = api_client_for(personas.risk_officer).post(
        url(record, "link"), {"model": "RB-0002", "change_reason": "The card fraud model's training pipeline."}
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "linked"
    assert answer.json()["registered_model"]["key"] == "RB-0002"
    assert may_report(mlflow_service_account(), personas.model_b)
    history = personas.model_b.history.first()
    assert history.history_change_reason == "The card fraud model's training pipeline."
    # The link is a decision in the portal: the sync follows it (and the account may now report for model B).
    mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)
    assert ModelVersion.objects.filter(model=personas.model_b, version="1").exists()


def test_link_refuses_an_unknown_or_invisible_model_naming_the_field(
    personas: Any, records: dict[str, ExternalRegistryModel], api_client_for: Any
) -> None:
    client = api_client_for(personas.risk_officer)
    answer = client.post(url(records["fraud-gbm"], "link"), {"model": "RB-9999"})
    assert answer.status_code == 400
    assert "RB-9999" in answer.json()["model"][0]
    answer = client.post(url(records["fraud-gbm"], "link"), {"model": "RB-0001", "colour": "red"})
    assert answer.status_code == 400
    assert "colour" in answer.json()
    assert ExternalRegistryModel.objects.get(name="fraud-gbm").status == ExternalModelStatus.UNREGISTERED


def test_ignore_needs_a_reason_and_a_risk_officer(
    personas: Any, records: dict[str, ExternalRegistryModel], api_client_for: Any
) -> None:
    record = records["churn-llm"]
    assert api_client_for(personas.auditor).post(url(record, "ignore"), {"change_reason": "x"}).status_code == 403
    client = api_client_for(personas.risk_officer)
    answer = client.post(url(record, "ignore"), {})
    assert answer.status_code == 400
    assert "change_reason" in answer.json()

    answer = client.post(url(record, "ignore"), {"change_reason": "A data-science experiment, never deployed."})

    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"


def test_register_creates_the_inventory_model_with_owners_mapped_from_mlflow(
    personas: Any, records: dict[str, ExternalRegistryModel], api_client_for: Any
) -> None:
    record = records["churn-llm"]  # owner tag: owner_a's e-mail address
    assert (
        api_client_for(personas.auditor).post(url(record, "register"), {"business_unit": "RETAIL"}).status_code == 403
    )
    assert (
        api_client_for(personas.owner_a).post(url(record, "register"), {"business_unit": "RETAIL"}).status_code == 404
    )

    answer = api_client_for(personas.risk_officer).post(url(record, "register"), {"business_unit": "RETAIL"})

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["name"] == "churn-llm"
    assert body["purpose"] == "Predicts which customers will leave."
    assert body["business_owner"]["username"] == body["technical_owner"]["username"] == "owner_a"
    model = RegisteredModel.objects.get(key=body["key"])
    assert answer["Location"].endswith(f"/api/v1/models/{model.key}/")
    record.refresh_from_db()
    assert (record.status, record.registered_model) == (ExternalModelStatus.LINKED, model)
    assert may_report(mlflow_service_account(), model)
    again = api_client_for(personas.risk_officer).post(url(record, "register"), {"business_unit": "RETAIL"})
    assert again.status_code == 400
    assert "already linked" in again.json()["non_field_errors"][0]


def test_register_refuses_an_owner_mlflow_names_who_is_not_a_portal_user(
    personas: Any, records: dict[str, ExternalRegistryModel], api_client_for: Any
) -> None:
    record = records["fraud-gbm"]  # technical owner tag: ghost.user
    client = api_client_for(personas.risk_officer)
    answer = client.post(url(record, "register"), {"business_unit": "RETAIL", "purpose": "Flags fraud."})
    assert answer.status_code == 400
    assert "ghost.user" in answer.json()["technical_owner"][0]
    assert RegisteredModel.objects.count() == 2

    answer = client.post(
        url(record, "register"),
        {"business_unit": "RETAIL", "purpose": "Flags fraud.", "technical_owner": "owner_b", "model_type": "ml"},
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["business_owner"]["username"] == "owner_b"
