"""The MLflow triage page: who sees it, and the three decisions taken from it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from inventory.choices import ExternalModelStatus
from inventory.models import ExternalRegistryModel, RegisteredModel
from inventory.services.mlflow import mlflow_service_account, mlflow_sync
from tests.inventory.mlflow.conftest import MlflowContent

pytestmark = pytest.mark.django_db

LIST = reverse("inventory:external-model-list")


@pytest.fixture
def records(personas: Any, mlflow_content: MlflowContent) -> dict[str, ExternalRegistryModel]:
    mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)
    return {record.name: record for record in ExternalRegistryModel.objects.all()}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_risk_officer_sees_the_triage_page_with_decisions_and_auditor_without(
    personas: Any, records: dict[str, ExternalRegistryModel], django_assert_max_num_queries: Any
) -> None:
    client = client_for(personas.risk_officer)
    with django_assert_max_num_queries(20):
        page = client.get(LIST, {"status": "unregistered"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "fraud-gbm" in text and "churn-llm" in text and "credit-pd" not in text
    assert "business: owner_b; technical: ghost.user" in text
    assert "Register as a new model" in text
    auditor_page = client_for(personas.auditor).get(LIST).content.decode()
    assert "credit-pd" in auditor_page and "Register as a new model" not in auditor_page
    for refused in (personas.owner_a, personas.validator_assigned, personas.no_role):
        assert client_for(refused).get(LIST).status_code == 403
    assert (
        client_for(personas.auditor)
        .post(reverse("inventory:external-model-link", args=[records["fraud-gbm"].pk]), {"model": "RB-0002"})
        .status_code
        == 403
    )


def test_link_and_ignore_from_the_page(personas: Any, records: dict[str, ExternalRegistryModel]) -> None:
    client = client_for(personas.risk_officer)
    fraud, churn = records["fraud-gbm"], records["churn-llm"]
    answer = client.post(reverse("inventory:external-model-link", args=[fraud.pk]), {"model": "RB-0002", "next": LIST})
    assert answer.status_code == 302
    fraud.refresh_from_db()
    assert (fraud.status, fraud.registered_model) == (ExternalModelStatus.LINKED, personas.model_b)

    answer = client.post(reverse("inventory:external-model-ignore", args=[churn.pk]), {}, follow=True)
    assert "Say why this MLflow model is not governed." in answer.content.decode()
    churn.refresh_from_db()
    assert churn.status == ExternalModelStatus.UNREGISTERED
    client.post(reverse("inventory:external-model-ignore", args=[churn.pk]), {"change_reason": "A notebook toy."})
    churn.refresh_from_db()
    assert churn.status == ExternalModelStatus.IGNORED

    answer = client.post(reverse("inventory:external-model-link", args=[churn.pk]), {"model": "RB-9999"}, follow=True)
    assert "no inventory model RB-9999" in answer.content.decode()


def test_register_from_the_page(personas: Any, records: dict[str, ExternalRegistryModel]) -> None:
    client = client_for(personas.risk_officer)
    url = reverse("inventory:external-model-register", args=[records["fraud-gbm"].pk])
    form = client.get(url)
    assert form.status_code == 200
    assert "MLflow names: ghost.user." in form.content.decode()
    assert client_for(personas.auditor).get(url).status_code == 403

    refused = client.post(
        url, {"business_unit": personas.unit.pk, "name": "Fraud GBM", "purpose": "Flags fraud.", "model_type": "ml"}
    )
    assert refused.status_code == 200
    assert "ghost.user" in refused.content.decode()

    answer = client.post(
        url,
        {
            "business_unit": personas.unit.pk,
            "name": "Fraud GBM",
            "purpose": "Flags card fraud.",
            "model_type": "ml",
            "technical_owner": personas.owner_b.pk,
        },
    )
    model = RegisteredModel.objects.get(name="Fraud GBM")
    assert answer.status_code == 302 and answer["Location"] == reverse("inventory:model-detail", args=[model.key])
    assert (model.business_owner, model.technical_owner) == (personas.owner_b, personas.owner_b)
