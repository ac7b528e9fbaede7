"""The bad-input corpus (tests/bad_inputs/, plus the inputs too big to commit, generated here) sent to every
endpoint it applies to: each is a 4xx whose message names the field and the problem, writes no row and no ledger
event, and never a 5xx. Hostile text that is legal (HTML, SQL, formulas in a name) is stored as given, shown
escaped in the HTML pages and neutralised in the CSV and XLSX register exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from rest_framework.test import APIClient

from audits.evaluation import MAX_CSV_COLUMNS
from audits.models import EvaluationDataset
from core.parsers import MAX_JSON_DEPTH
from gate.models import GateDecision
from governance.models import Finding, GovernanceEvent
from inventory.models import Artifact, Deployment, ModelVersion, RegisteredModel
from monitoring.models import DriftDataset, MetricObservation
from reports.models import Export
from reports.services import export_execute
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
MAPPING = {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"]}
DIGEST = "sha256:" + "d" * 64
# Every table a refused request could have written to; ledger events are one of them.
WATCHED = (
    RegisteredModel,
    ModelVersion,
    Finding,
    Artifact,
    Deployment,
    MetricObservation,
    EvaluationDataset,
    DriftDataset,
    GateDecision,
    Export,
    GovernanceEvent,
)


def row_counts() -> dict[str, int]:
    """How many rows each watched table holds."""
    return {model.__name__: model._default_manager.count() for model in WATCHED}


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def corpus_json(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def messages(response: Any) -> str:
    """Every message of a refusal as one text, field names included, for ``in`` assertions."""
    return json.dumps(response.json(), ensure_ascii=False)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GATE_KEY_DIR = tmp_path / "keys"
    settings.GATE_SIGNING_KEY = None


@pytest.fixture
def world(personas: Any) -> Any:
    """Model A approved at Tier 3 with version 1.0.0: every endpoint below has something to act on."""
    approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a, artifact_digest=DIGEST)
    return personas


def client_for(user: Any) -> APIClient:
    from tests.conftest import token_client

    return token_client(user)


# --- uploads: evaluation data (audits) and drift tables (monitoring) ----------------------------------------------


def million_columns() -> bytes:
    """A header of 10^6 columns and one row: 13 MB, generated rather than committed."""
    names = ",".join(f"c{i}" for i in range(1_000_000))
    return f"y_true,y_pred,sex,{names}\n".encode() + b"1,0,f" + b",1" * 1_000_000 + b"\n"


@dataclass(frozen=True)
class Upload:
    """A file of the corpus and what each upload endpoint must answer, as words of the message on ``file``."""

    name: str
    content: Callable[[], bytes]
    evaluation: str
    drift: str


UPLOADS = [
    Upload(
        "truncated_inside_quote.csv",
        lambda: corpus_bytes("truncated_inside_quote.csv"),
        "not a well-formed CSV",
        "not a well-formed CSV",
    ),
    Upload(
        "semicolon_delimited.csv",
        lambda: corpus_bytes("semicolon_delimited.csv"),
        "separated by semicolons",
        "separated by semicolons",
    ),
    Upload("utf16_with_bom.csv", lambda: corpus_bytes("utf16_with_bom.csv"), "UTF-16 encoded", "UTF-16 encoded"),
    Upload(
        "png_image_named_csv.csv",
        lambda: corpus_bytes("png_image_named_csv.csv"),
        "it is binary",
        "it is binary",
    ),
    Upload("header_only.csv", lambda: corpus_bytes("header_only.csv"), "a header but no rows", "a header but no rows"),
    Upload(
        "nan_and_inf_values.csv",
        lambda: corpus_bytes("nan_and_inf_values.csv"),
        "Column 'y_true' holds missing values",
        "Column 'y_true' holds NaN or infinite values",
    ),
    Upload(
        "million_columns.csv (generated)",
        million_columns,
        f"The header has 1000003 columns; at most {MAX_CSV_COLUMNS}",
        f"The header has 1000003 columns; at most {MAX_CSV_COLUMNS}",
    ),
]


def post_evaluation(client: APIClient, name: str, content: bytes) -> Any:
    body = {
        "model": "RB-0001",
        "version": "1.0.0",
        "name": "holdout",
        "mapping": json.dumps(MAPPING),
        "file": SimpleUploadedFile(name, content, content_type="text/csv"),
    }
    return client.post("/api/v1/evaluation-datasets/", body, format="multipart")


def post_drift(client: APIClient, name: str, content: bytes) -> Any:
    body = {
        "model": "RB-0001",
        "version": "1.0.0",
        "name": "current",
        "file": SimpleUploadedFile(name, content, content_type="text/csv"),
    }
    return client.post("/api/v1/drift-datasets/", body, format="multipart")


@pytest.mark.parametrize("upload", UPLOADS, ids=[upload.name for upload in UPLOADS])
@pytest.mark.parametrize("endpoint", ["evaluation", "drift"])
def test_bad_uploads_are_refused_naming_the_problem(world: Any, settings: Any, upload: Upload, endpoint: str) -> None:
    client = client_for(world.owner_a)
    content = upload.content()
    before = row_counts()

    post = post_evaluation if endpoint == "evaluation" else post_drift
    response = post(client, upload.name.split(" ")[0], content)

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["file"]
    assert getattr(upload, endpoint) in response.json()["file"][0]
    assert row_counts() == before
    assert not list((Path(settings.MEDIA_ROOT)).rglob("*.csv"))


# --- JSON bodies: models, findings, artifacts, metrics, the gate ---------------------------------------------------


def observation(day: int, value: Any = 0.91) -> dict[str, Any]:
    return {
        "model": "RB-0001",
        "version": "1.0.0",
        "environment": "production",
        "metric": "accuracy",
        "window_start": f"2026-11-{day:02d}T00:00:00+00:00",
        "window_end": f"2026-11-{day + 1:02d}T00:00:00+00:00",
        "value": value,
        "source": "prometheus",
    }


def commit() -> dict[str, Any]:
    return {"kind": "git_commit", "repository": "github.com/bank/pd", "sha": "3f786850e387550fdab836ed7e6dc881de23001b"}


@dataclass(frozen=True)
class Endpoint:
    """A JSON endpoint, who calls it, and a body it accepts (so a refusal is the bad input's doing)."""

    method: str
    url: str
    persona: str
    body: Callable[[], dict[str, Any]]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.url}"


ENDPOINTS = [
    Endpoint(
        "post",
        "/api/v1/models/",
        "owner_a",
        lambda: {
            "name": "Mortgage LGD",
            "purpose": "Estimates loss given default for mortgages.",
            "model_type": "statistical",
            "business_unit": "RETAIL",
            "business_owner": "owner_a",
            "technical_owner": "owner_a",
        },
    ),
    Endpoint("patch", "/api/v1/models/RB-0001/", "owner_a", lambda: {"purpose": "Scores retail applications."}),
    Endpoint(
        "post",
        "/api/v1/findings/",
        "validator_assigned",
        lambda: {
            "model": "RB-0001",
            "title": "Override rate not monitored",
            "severity": "medium",
            "due_date": "2027-01-31",
        },
    ),
    Endpoint("post", "/api/v1/artifacts/", "ci_scoped", lambda: {"model": "RB-0001", "version": "1.0.0", **commit()}),
    Endpoint(
        "post",
        "/api/v1/artifacts/batch/",
        "ci_scoped",
        lambda: {"model": "RB-0001", "version": "1.0.0", "artifacts": [commit()]},
    ),
    Endpoint("post", "/api/v1/metrics/", "ci_scoped", lambda: {"observations": [observation(1)]}),
    Endpoint(
        "post",
        "/api/v1/gate/check/",
        "ci_scoped",
        lambda: {"model": "RB-0001", "version": "1.0.0", "environment": "production", "digest": DIGEST},
    ),
]
ENDPOINT_IDS = [endpoint.label for endpoint in ENDPOINTS]


def send(world: Any, endpoint: Endpoint, raw: bytes | str, content_type: str = "application/json") -> Any:
    client = client_for(getattr(world, endpoint.persona))
    return getattr(client, endpoint.method)(endpoint.url, data=raw, content_type=content_type)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_each_endpoint_accepts_its_baseline_body(world: Any, endpoint: Endpoint) -> None:
    """The control: the bodies the bad inputs are built from are accepted, so each refusal below is the input's."""
    response = send(world, endpoint, json.dumps(endpoint.body()))
    assert response.status_code in {200, 201}, response.content


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def bad_bodies(endpoint: Endpoint) -> dict[str, tuple[bytes | str, str]]:
    """Each bad body for ``endpoint`` and words its refusal must hold."""
    base = json.dumps(endpoint.body())
    too_deep = f"more than {MAX_JSON_DEPTH} levels deep"
    return {
        "nested_10000_levels": (base[:-1] + f', "name": {nested(10_000)}}}', too_deep),
        "nested_past_the_limit": (base[:-1] + f', "name": {nested(MAX_JSON_DEPTH + 1)}}}', too_deep),
        "bare_nan": (base[:-1] + ', "value": NaN}', "JSON parse error"),
        "bare_infinity": (base[:-1] + ', "value": -Infinity}', "JSON parse error"),
        "truncated_json": (base[:-5], "JSON parse error"),
        "not_utf8": (base.encode()[:-1] + b', "name": "\xff\xfe"}', "JSON parse error"),
        "array_not_object": (json.dumps([endpoint.body()]), "non_field_errors"),
    }


BAD_BODY_NAMES = list(bad_bodies(ENDPOINTS[0]))


@pytest.mark.parametrize("name", BAD_BODY_NAMES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_malformed_json_bodies_are_refused(world: Any, endpoint: Endpoint, name: str) -> None:
    raw, words = bad_bodies(endpoint)[name]
    before = row_counts()

    response = send(world, endpoint, raw)

    assert response.status_code == 400, response.content
    assert words in messages(response), response.content
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_oversize_body_is_refused(world: Any, settings: Any, endpoint: Endpoint) -> None:
    body = {**endpoint.body(), "description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    before = row_counts()

    response = send(world, endpoint, json.dumps(body))

    assert response.status_code in {400, 413}, response.content
    assert "too large" in messages(response).lower(), response.content
    assert row_counts() == before


UNKNOWN_ENUMS = corpus_json("unknown_enum_values.json")


@pytest.mark.parametrize("label", list(UNKNOWN_ENUMS))
def test_unknown_enum_values_are_refused_naming_the_field(world: Any, label: str) -> None:
    case = UNKNOWN_ENUMS[label]
    if label == "POST /api/v1/exports/":
        endpoint = Endpoint("post", "/api/v1/exports/", "risk_officer", lambda: {"kind": "register_csv"})
    else:
        endpoint = next(endpoint for endpoint in ENDPOINTS if endpoint.label == label)
    before = row_counts()

    response = send(world, endpoint, json.dumps({**endpoint.body(), case["field"]: case["value"]}))

    assert response.status_code == 400, response.content
    assert case["expect"] in " ".join(response.json()[case["field"]]), response.content
    assert row_counts() == before


@pytest.mark.parametrize("name", ["metric_batch_nan_infinity.json", "metric_batch_nan_infinity_as_text.json"])
def test_metric_batches_with_nan_or_infinity_are_refused(world: Any, name: str) -> None:
    endpoint = next(endpoint for endpoint in ENDPOINTS if endpoint.url == "/api/v1/metrics/")
    before = row_counts()

    response = send(world, endpoint, corpus_bytes(name))

    assert response.status_code == 400, response.content
    text = messages(response)
    assert "JSON parse error" in text or ("observations" in text and "value" in text), text
    assert row_counts() == before


WRONG_TYPES = corpus_json("wrong_types.json")


# Refusals that are a 500 today in code another change owns right now; reported to the lead. Strict: the test
# turns red once fixed, so the mark is removed.
@pytest.mark.parametrize("label", list(WRONG_TYPES))
def test_wrongly_typed_fields_are_refused_naming_the_field(world: Any, label: str) -> None:
    endpoint = next(endpoint for endpoint in ENDPOINTS if endpoint.label == label)
    change = WRONG_TYPES[label]
    before = row_counts()

    response = send(world, endpoint, json.dumps({**endpoint.body(), **change}))

    assert response.status_code == 400, response.content
    assert set(change) & set(response.json()), response.content
    assert row_counts() == before


# --- legal but hostile text: stored, escaped in pages, neutralised in exports --------------------------------------

FORMULAS = corpus_json("formula_injection.json")
MARKUP_AND_SQL = corpus_json("markup_and_sql.json")


def test_formulas_are_refused_as_tags(world: Any) -> None:
    endpoint = ENDPOINTS[0]
    before = row_counts()

    response = send(world, endpoint, json.dumps({**endpoint.body(), "tags": FORMULAS}))

    assert response.status_code == 400, response.content
    assert "A tag is 1-50 lower-case letters" in messages(response)
    assert row_counts() == before


def register_model(world: Any, name: str, purpose: str) -> str:
    """Register a model through the API with hostile text; its key."""
    body = {**ENDPOINTS[0].body(), "name": name, "purpose": purpose, "limitations": purpose}
    response = client_for(world.owner_a).post("/api/v1/models/", body, format="json")
    assert response.status_code == 201, response.content
    stored = response.json()
    # Stored as given, but for the surrounding whitespace every text field trims ("\t=1+1" becomes "=1+1").
    assert (stored["name"], stored["purpose"]) == (name.strip(), purpose.strip())
    return str(stored["key"])


def exported(world: Any, kind: str) -> bytes:
    """The register file of ``kind`` requested, produced and downloaded through the API as the risk officer."""
    client = client_for(world.risk_officer)
    response = client.post("/api/v1/exports/", {"kind": kind}, format="json")
    assert response.status_code == 202, response.content
    export_execute(export_id=response.json()["id"])
    download = client.get(f"/api/v1/exports/{response.json()['id']}/download/")
    assert download.status_code == 200
    return b"".join(download.streaming_content)  # type: ignore[attr-defined]


def inert(cell: Any) -> bool:
    """A cell a spreadsheet shows as text: it does not start a formula, or it is quoted."""
    return not isinstance(cell, str) or not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.startswith("'")


def test_formulas_in_text_fields_are_neutralised_in_csv_and_xlsx_exports(world: Any) -> None:
    keys = [register_model(world, formula, formula) for formula in FORMULAS]
    finding = client_for(world.validator_assigned).post(
        "/api/v1/findings/", {**ENDPOINTS[2].body(), "title": FORMULAS[0], "description": FORMULAS[1]}, format="json"
    )
    assert finding.status_code == 201, finding.content

    rows = list(csv.reader(io.StringIO(exported(world, "register_csv").decode("utf-8-sig"))))
    by_key = {row[0]: row for row in rows[1:]}
    assert set(keys) <= set(by_key)
    for key, formula in zip(keys, FORMULAS, strict=True):
        assert "'" + formula.strip() in by_key[key], by_key[key]
    assert all(inert(cell) for row in rows for cell in row)

    sheet = load_workbook(io.BytesIO(exported(world, "register_xlsx")), read_only=True).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    for formula in FORMULAS:
        assert "'" + formula.strip() in cells
    assert all(inert(cell) for cell in cells)


def test_markup_and_sql_text_is_stored_as_text_and_escaped_in_pages(world: Any, client: Any) -> None:
    keys = [register_model(world, text[:200], text) for text in MARKUP_AND_SQL]

    assert RegisteredModel.objects.filter(key__in=keys).count() == len(MARKUP_AND_SQL)
    client.force_login(world.owner_a)
    page = client.get(f"/inventory/models/{keys[1]}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    listing = client.get("/inventory/models/", {"q": "img"}).content.decode()
    assert "<img src=x onerror=alert(1)>" not in listing
    rows = list(csv.reader(io.StringIO(exported(world, "register_csv").decode("utf-8-sig"))))
    assert [text[:200] for text in MARKUP_AND_SQL] == [row[1] for row in rows[1:] if row[0] in keys]


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ('{"label": "y_true", "prediction": "y_pred", "sensitive": ' + nested(10_000) + "}", "levels deep"),
        ('{"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"], "threshold": NaN}', "NaN"),
    ],
    ids=["nested_10000_levels", "bare_nan"],
)
def test_a_hostile_mapping_in_a_multipart_upload_is_refused(world: Any, mapping: str, words: str) -> None:
    body = {
        "model": "RB-0001",
        "version": "1.0.0",
        "name": "holdout",
        "mapping": mapping,
        "file": SimpleUploadedFile("ok.csv", b"y_true,y_pred,sex\n1,0,f\n0,1,m\n", content_type="text/csv"),
    }
    before = row_counts()

    response = client_for(world.owner_a).post("/api/v1/evaluation-datasets/", body, format="multipart")

    assert response.status_code == 400, response.content
    assert words in response.json()["mapping"][0]
    assert row_counts() == before
