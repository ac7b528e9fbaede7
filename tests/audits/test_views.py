"""Audits pages: who sees what, uploads and audit requests through the services, and the refused users."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from tests.audits.conftest import GERMAN_MAPPING, bias_schedule, upload

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def finished_run(personas: Any, version_a: Any, german_csv: bytes) -> AuditRun:
    dataset = evaluation_dataset_create(
        actor=personas.owner_a, version=version_a, name="test split", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )
    return bias_audit_execute(run_id=bias_audit_request(actor=personas.owner_a, dataset=dataset, enqueue=False).pk)


def test_upload_stores_the_data_and_a_bad_mapping_stores_nothing(
    personas: Any, version_a: Any, german_csv: bytes
) -> None:
    url = reverse("audits:model", args=[personas.model_a.key])
    form = {"version": version_a.pk, "name": "split", "label": "y_true", "prediction": "y_pred", "sensitive": "sex"}
    client = client_for(personas.owner_a)

    refused = client.post(url, {**form, "sensitive": "nope", "file": upload(german_csv)})
    assert refused.status_code == 400 and "nope" in refused.content.decode()
    assert not EvaluationDataset.objects.exists()

    assert client.post(url, {**form, "file": upload(german_csv)}).status_code == 302
    assert EvaluationDataset.objects.get().mapping == {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"]}
    page = client.get(url).content.decode()
    assert "Run bias audit" in page and EvaluationDataset.objects.get().sha256 in page


def test_readers_get_no_form_and_others_a_404(personas: Any, finished_run: AuditRun) -> None:
    url = reverse("audits:model", args=[personas.model_a.key])
    page = client_for(personas.auditor).get(url)
    assert page.status_code == 200 and "Add evaluation data" not in page.content.decode()
    assert client_for(personas.owner_b).get(url).status_code == 404
    assert client_for(personas.owner_b).get(reverse("audits:run", args=[finished_run.pk])).status_code == 404
    dataset_audit = reverse("audits:dataset-audit", args=[finished_run.dataset_id])
    assert client_for(personas.auditor).post(dataset_audit).status_code == 403
    assert client_for(personas.owner_b).post(dataset_audit).status_code == 404
    assert Client().get(url).status_code == 302


@pytest.mark.parametrize("form", [{}, {"version": "0", "name": "", "label": "nope"}])
def test_upload_from_who_may_not_audit_is_the_403_page_whatever_it_holds(
    personas: Any, version_a: Any, german_csv: bytes, form: dict[str, Any]
) -> None:
    url = reverse("audits:model", args=[personas.model_a.key])
    refused = client_for(personas.auditor).post(url, {**form, "file": upload(german_csv)})
    assert refused.status_code == 403
    assert "403.html" in [template.name for template in refused.templates]
    assert "You may not add evaluation data to RB-0001." in refused.content.decode()
    # The same form from the model's validator, who may audit it, comes back with the form's errors.
    assert client_for(personas.validator_assigned).post(url, {**form, "file": upload(german_csv)}).status_code == 400
    assert not EvaluationDataset.objects.exists()


def test_run_page_shows_verdicts_groups_and_provenance(personas: Any, finished_run: AuditRun) -> None:
    page = client_for(personas.auditor).get(reverse("audits:run", args=[finished_run.pk])).content.decode()
    assert "equalized_odds_difference" in page and "fail" in page
    assert "female" in page and "0.6771" in page
    assert finished_run.dataset_sha256 in page and finished_run.policy_revision in page and "fairlearn" in page


def test_request_an_audit_from_the_page(personas: Any, finished_run: AuditRun) -> None:
    response = client_for(personas.owner_a).post(reverse("audits:dataset-audit", args=[finished_run.dataset_id]))
    assert response.status_code == 302
    assert AuditRun.objects.count() == 2


def test_run_list_filters_by_status_and_compare(personas: Any, finished_run: AuditRun) -> None:
    client = client_for(personas.auditor)
    listed = client.get(reverse("audits:run-list"), {"status": "failed"}).content.decode()
    assert f"#{finished_run.pk}" in listed
    assert f"#{finished_run.pk}" not in client.get(reverse("audits:run-list"), {"status": "passed"}).content.decode()
    compared = client.get(reverse("audits:compare"), {"a": finished_run.pk, "b": finished_run.pk})
    assert compared.status_code == 200 and "B − A" in compared.content.decode()
    assert (
        client_for(personas.owner_b).get(reverse("audits:compare"), {"a": finished_run.pk, "b": 1}).status_code == 400
    )


def test_schedules_page_for_risk_officers_only(personas: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = bias_schedule()
    url = reverse("audits:schedules")
    assert client_for(personas.owner_a).get(url).status_code == 403
    assert (
        client_for(personas.owner_a).post(reverse("audits:schedule-step", args=[task.pk, "pause"])).status_code == 403
    )
    client = client_for(personas.risk_officer)
    assert escape(task.name) in client.get(url).content.decode()
    client.post(reverse("audits:schedule-step", args=[task.pk, "pause"]))
    task.refresh_from_db()
    assert task.enabled is False
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(reverse("audits:schedule-step", args=[task.pk, "run"])).status_code == 302
    assert len(callbacks) == 1
