"""The exports API: request, list, detail, download; each with the user who must be refused."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from rest_framework.test import APIClient

from governance.choices import EventType
from governance.models import GovernanceEvent
from reports.choices import ExportKind, ExportStatus
from reports.models import Export
from reports.services import export_execute, export_request
from reports.tasks import run_export

pytestmark = pytest.mark.django_db

URL = "/api/v1/exports/"


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch: Any) -> None:
    # The tests run the task themselves; a queued delay would need a broker.
    monkeypatch.setattr(run_export, "delay", lambda export_id: None)


def test_request_an_export(personas: Any, inventory: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.owner_a)

    response = client.post(
        URL, {"kind": "register_csv", "params": {"stage": ["production"], "as_of": "2026-01-31"}}, format="json"
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == "register_csv"
    assert body["status"] == "queued"
    assert body["params"] == {"stage": ["production"], "as_of": "2026-01-31"}
    assert body["requested_by"] == "owner_a"
    assert body["download_url"] is None
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    event = GovernanceEvent.objects.get(event_type=EventType.REPORT_EXPORTED)
    assert event.payload["params"] == {"stage": ["production"], "as_of": "2026-01-31"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "register_pdf"}, "kind"),
        ({}, "kind"),
        ({"kind": "register_csv", "params": {"stage": ["bogus"]}}, "stage"),
        ({"kind": "register_csv", "params": {"as_of": "2999-12-31"}}, "as_of"),
        ({"kind": "register_csv", "params": ["stage"]}, "params"),
        ({"kind": "register_csv", "format": "csv"}, "format"),
        ({"kind": "model_pdf", "params": {"model": "RB-0002"}}, "model"),
        ({"kind": "evidence_pack", "params": {"models": ["CB-0001"]}}, "models"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    personas: Any, inventory: Any, api_client_for: Any, body: dict[str, Any], field: str
) -> None:
    response = api_client_for(personas.owner_a).post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Export.objects.exists()
    assert not GovernanceEvent.objects.filter(event_type=EventType.REPORT_EXPORTED).exists()


def test_without_credentials_nothing(personas: Any) -> None:
    assert APIClient().post(URL, {"kind": "register_csv"}, format="json").status_code == 401
    assert APIClient().get(URL).status_code == 401


def test_list_shows_own_exports_and_everything_to_oversight(personas: Any, api_client_for: Any) -> None:
    mine = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    theirs = export_request(actor=personas.owner_b, kind=ExportKind.PORTFOLIO_PDF)

    def ids(user: Any, **query: str) -> set[int]:
        response = api_client_for(user).get(URL, query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids(personas.owner_a) == {mine.pk}
    assert ids(personas.owner_b) == {theirs.pk}
    assert ids(personas.no_role) == set()
    assert ids(personas.risk_officer) == {mine.pk, theirs.pk}
    assert ids(personas.auditor) == {mine.pk, theirs.pk}
    assert ids(personas.risk_officer, mine="true") == set()
    assert ids(personas.owner_a, kind="portfolio_pdf") == set()
    assert api_client_for(personas.owner_a).get(URL, {"status": "bogus"}).status_code == 400


def test_detail_of_another_users_export_is_404(personas: Any, api_client_for: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    url = f"{URL}{export.pk}/"

    assert api_client_for(personas.owner_a).get(url).status_code == 200
    assert api_client_for(personas.owner_b).get(url).status_code == 404
    assert api_client_for(personas.ci_scoped).get(url).status_code == 404
    assert api_client_for(personas.auditor).get(url).status_code == 200


def test_download_once_done(personas: Any, inventory: Any, api_client_for: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV, params={"tag": "pd"})
    url = f"{URL}{export.pk}/download/"
    client = api_client_for(personas.owner_a)

    not_ready = client.get(url)
    assert not_ready.status_code == 409
    assert "queued" in not_ready.json()["detail"]

    export_execute(export_id=export.pk)
    detail = client.get(f"{URL}{export.pk}/").json()
    assert detail["status"] == ExportStatus.DONE
    assert detail["row_count"] == 1
    assert detail["download_url"].endswith(url)
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-SHA256"] == detail["sha256"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(text))] == ["Model ID", "RB-0003"]
    assert api_client_for(personas.owner_b).get(url).status_code == 404
    assert api_client_for(personas.risk_officer).get(url).status_code == 200


def test_download_of_a_failed_export_says_why(personas: Any, api_client_for: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.ERROR, error="Business unit gone.")

    response = api_client_for(personas.owner_a).get(f"{URL}{export.pk}/download/")

    assert response.status_code == 409
    assert "Business unit gone." in response.json()["detail"]


def test_list_costs_a_fixed_number_of_queries(
    personas: Any, api_client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = api_client_for(personas.risk_officer)
    export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    with django_assert_max_num_queries(12) as few:
        assert client.get(URL).status_code == 200
    for user in (personas.owner_a, personas.owner_b, personas.auditor) * 3:
        export_request(actor=user, kind=ExportKind.PORTFOLIO_PDF)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)

    assert response.json()["count"] == 10
