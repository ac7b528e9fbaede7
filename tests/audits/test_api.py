"""The audits API: uploads validated before anything is stored, runs requested and compared, the refused user."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_execute
from tests.audits.conftest import GERMAN_MAPPING, upload

pytestmark = pytest.mark.django_db

GOOD = b"y_true,y_pred,sex\n" + b"".join(
    f"{i % 2},{(i // 2) % 2},{'f' if i % 3 else 'm'}\n".encode() for i in range(90)
)


def _post(client: Any, content: bytes, mapping: Any = None, **extra: Any) -> Any:
    body = {
        "model": "RB-0001",
        "version": "1.0.0",
        "name": "holdout",
        "mapping": json.dumps(mapping or GERMAN_MAPPING),
        "file": upload(content),
        **extra,
    }
    return client.post("/api/v1/evaluation-datasets/", body, format="multipart")


def test_upload_stores_the_dataset(personas: Any, version_a: Any, api_client_for: Any, german_csv: bytes) -> None:
    response = _post(api_client_for(personas.owner_a), german_csv)

    assert response.status_code == 201, response.json()
    assert response.json()["row_count"] == 300
    assert response.json()["mapping"] == GERMAN_MAPPING
    assert response["Location"].endswith(f"/api/v1/evaluation-datasets/{response.json()['id']}/")


@pytest.mark.parametrize(
    ("content", "mapping", "field", "words"),
    [
        (GOOD, {**GERMAN_MAPPING, "prediction": "score"}, "mapping", "Missing column(s): score"),
        (GOOD.replace(b"\n1,", b"\n2,", 1), None, "mapping", "'y_true' must be binary"),
        (GOOD.decode().encode("utf-16"), None, "file", "UTF-16"),
        (GOOD.replace(b",", b";"), None, "file", "separated by semicolons"),
        (GOOD.replace(b"\n1,0,f", b"\n1,NaN,f", 1), None, "file", "Column 'y_pred' holds missing values"),
        (GOOD.replace(b"\n1,0,f", b"\n1,,f", 1), None, "file", "Column 'y_pred' has 1 empty"),
        (GOOD.replace(b"m\n", b"f\n"), None, "file", "single group"),
        ("y_true,y_pred,sex\n1,0,Fráu\n".encode("latin-1"), None, "file", "not UTF-8"),
    ],
    ids=["missing-column", "non-binary", "utf16", "delimiter", "nan", "empty-cell", "one-group", "latin1"],
)
def test_bad_uploads_are_refused_naming_the_problem_and_nothing_is_stored(
    personas: Any, version_a: Any, api_client_for: Any, content: bytes, mapping: Any, field: str, words: str
) -> None:
    response = _post(api_client_for(personas.owner_a), content, mapping)

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not EvaluationDataset.objects.exists()


def test_oversized_upload_is_refused(personas: Any, version_a: Any, api_client_for: Any, settings: Any) -> None:
    settings.EVALUATION_UPLOAD_MAX_BYTES = 1024
    response = _post(api_client_for(personas.owner_a), GOOD * 2)

    assert response.status_code == 400
    assert "the limit is 1024" in response.json()["file"][0]
    assert not EvaluationDataset.objects.exists()


def test_bad_mapping_json_and_unknown_version_are_refused(personas: Any, version_a: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.owner_a)
    body = {"model": "RB-0001", "version": "1.0.0", "name": "x", "mapping": "{not json", "file": upload(GOOD)}
    assert "Not valid JSON" in client.post("/api/v1/evaluation-datasets/", body).json()["mapping"][0]
    response = _post(client, GOOD, version="9.9.9")
    assert response.json() == {"version": ["Version 9.9.9 of RB-0001 does not exist."]}


def test_the_refused_user(personas: Any, version_a: Any, api_client_for: Any, german_csv: bytes) -> None:
    assert _post(api_client_for(personas.auditor), german_csv).status_code == 403
    # Owner B cannot see model A: its version "does not exist" for them.
    assert _post(api_client_for(personas.owner_b), german_csv).status_code == 400
    assert not EvaluationDataset.objects.exists()


def test_runs_are_requested_listed_filtered_and_compared(
    personas: Any, version_a: Any, api_client_for: Any, german_csv: bytes
) -> None:
    client = api_client_for(personas.owner_a)
    by_sex = _post(client, german_csv, {**GERMAN_MAPPING, "sensitive": ["sex", "age_group"]}).json()
    shuffled = b"\n".join(german_csv.splitlines()[:200])
    other = _post(client, shuffled, {**GERMAN_MAPPING, "sensitive": ["sex"]}).json()

    created = [client.post("/api/v1/audit-runs/", {"dataset": d["id"]}, format="json") for d in (by_sex, other)]
    assert [response.status_code for response in created] == [202, 202]
    assert created[0].json()["status"] == "queued"
    ids = [response.json()["id"] for response in created]
    for run_id in ids:
        bias_audit_execute(run_id=run_id)

    listed = client.get("/api/v1/audit-runs/", {"model": "RB-0001", "status": "failed"}).json()
    assert sorted(item["id"] for item in listed["results"]) == sorted(ids)
    assert client.get("/api/v1/audit-runs/", {"status": "passed"}).json()["results"] == []
    compared = client.get("/api/v1/audit-runs/compare/", {"a": ids[0], "b": ids[1]}).json()
    eod = compared["analyses"]["sex"]["disparities"]["equalized_odds_difference"]
    assert eod["difference"] == pytest.approx(eod["b"] - eod["a"])
    assert list(compared["analyses"]) == ["sex"]
    assert set(compared["analyses"]["sex"]["by_group"]) == {"female", "male"}

    outsider = api_client_for(personas.owner_b)
    assert outsider.get(f"/api/v1/audit-runs/{ids[0]}/").status_code == 404
    assert outsider.get("/api/v1/audit-runs/compare/", {"a": ids[0], "b": ids[1]}).status_code == 400
    assert outsider.post("/api/v1/audit-runs/", {"dataset": by_sex["id"]}, format="json").status_code == 400
    assert (
        api_client_for(personas.auditor)
        .post("/api/v1/audit-runs/", {"dataset": by_sex["id"]}, format="json")
        .status_code
        == 403
    )
    assert AuditRun.objects.count() == 2


def test_compare_names_a_run_without_result(
    personas: Any, version_a: Any, api_client_for: Any, german_csv: bytes
) -> None:
    client = api_client_for(personas.owner_a)
    dataset = _post(client, german_csv).json()
    run = client.post("/api/v1/audit-runs/", {"dataset": dataset["id"]}, format="json").json()

    response = client.get("/api/v1/audit-runs/compare/", {"a": run["id"], "b": "x"})

    assert response.status_code == 400
    assert response.json() == {"a": [f"Audit run {run['id']} has no result (queued)."]}
