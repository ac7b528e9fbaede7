"""Parquet evaluation data: read with pyarrow, validated like CSV, stored under its own extension, audited alike."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from audits.choices import DatasetFormat, RunStatus
from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from tests.audits.conftest import GERMAN_MAPPING, upload

pytestmark = pytest.mark.django_db

MAPPING = {**GERMAN_MAPPING, "sensitive": ["sex", "age_group"]}


def parquet_of(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet bytes, written by pyarrow."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False)
    return buffer.getvalue()


@pytest.fixture
def german_frame(german_csv: bytes) -> pd.DataFrame:
    """The German Credit predictions with the types a Parquet export keeps: integer labels, text groups."""
    return pd.read_csv(io.BytesIO(german_csv))


def _store(actor: Any, version: Any, content: bytes, name: str, mapping: dict[str, Any] = MAPPING) -> EvaluationDataset:
    return evaluation_dataset_create(
        actor=actor, version=version, name="German test split", mapping=mapping, upload=upload(content, name)
    )


def _audit(actor: Any, dataset: EvaluationDataset) -> AuditRun:
    run = bias_audit_request(actor=actor, dataset=dataset)
    return bias_audit_execute(run_id=run.pk)


def _stored_files(settings: Any) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_a_parquet_upload_audits_to_the_figures_of_the_same_csv(
    personas: Any, version_a: Any, german_csv: bytes, german_frame: pd.DataFrame, settings: Any
) -> None:
    content = parquet_of(german_frame)
    from_csv = _store(personas.owner_a, version_a, german_csv, "predictions.csv")
    from_parquet = _store(personas.owner_a, version_a, content, "predictions.parquet")

    assert from_parquet.file_format == DatasetFormat.PARQUET
    assert from_csv.file_format == DatasetFormat.CSV
    assert from_parquet.file.name == f"evaluation/{from_parquet.sha256}.parquet"
    assert Path(from_parquet.file.path).read_bytes() == content
    assert (from_parquet.row_count, from_parquet.columns) == (300, list(german_frame.columns))
    csv_run, parquet_run = _audit(personas.owner_a, from_csv), _audit(personas.owner_a, from_parquet)
    assert parquet_run.status == csv_run.status == RunStatus.FAILED
    assert parquet_run.result["analyses"] == csv_run.result["analyses"]
    assert parquet_run.verdicts == csv_run.verdicts
    assert round(parquet_run.result["analyses"]["sex"]["disparities"]["equalized_odds_difference"], 4) == 0.1069
    assert parquet_run.dataset_sha256 == from_parquet.sha256 != from_csv.sha256


def test_parquet_is_recognised_by_its_magic_bytes_whatever_its_name(
    personas: Any, version_a: Any, german_frame: pd.DataFrame
) -> None:
    dataset = _store(personas.owner_a, version_a, parquet_of(german_frame), "export.bin")

    assert dataset.file_format == DatasetFormat.PARQUET
    assert dataset.file.name.endswith(".parquet")


def test_typed_parquet_columns_are_read_as_a_csv_would_give_them(personas: Any, version_a: Any) -> None:
    # Booleans, floats and categories are what exports write; the audit reads them as 0/1 and group names.
    frame = pd.DataFrame(
        {
            "y_true": [True, False] * 40,
            "y_pred": [1.0, 1.0, 0.0, 0.0] * 20,
            "sex": pd.Categorical(["f", "m", "m", "f"] * 20),
        }
    )
    run = _audit(
        personas.owner_a, _store(personas.owner_a, version_a, parquet_of(frame), "typed.parquet", GERMAN_MAPPING)
    )

    by_group = run.result["analyses"]["sex"]["by_group"]
    assert {name: (group["count"], group["tp"], group["fp"]) for name, group in by_group.items()} == {
        "f": (40, 20, 0),
        "m": (40, 0, 20),
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda frame: frame.assign(y_pred=frame["y_pred"].astype(float).mask(frame.index == 5)),
            "'y_pred' has 1 empty",
        ),
        (lambda frame: frame.assign(sex=frame["sex"].mask(frame.index == 7)), "'sex' has 1 empty"),
        (lambda frame: frame.assign(y_true=frame["y_true"] * 2), "'y_true' must be binary"),
        (lambda frame: frame.drop(columns="sex"), "Missing column(s): sex"),
        (lambda frame: frame.assign(sex="female"), "single group"),
        (lambda frame: frame.iloc[:0], "no rows"),
    ],
    ids=["null-prediction", "null-group", "non-binary", "missing-column", "one-group", "no-rows"],
)
def test_parquet_is_validated_like_csv_and_nothing_is_stored(
    personas: Any, version_a: Any, german_frame: pd.DataFrame, settings: Any, change: Any, words: str
) -> None:
    content = parquet_of(change(german_frame))
    with pytest.raises(ValidationError) as refused:
        _store(personas.owner_a, version_a, content, "predictions.parquet")

    assert words in " ".join(refused.value.messages)
    assert not EvaluationDataset.objects.exists()
    assert _stored_files(settings) == []


@pytest.mark.parametrize(
    ("corrupt", "words"),
    [
        (lambda content: content[: len(content) // 2], "The Parquet file cannot be read"),
        (lambda content: content[:4] + b"\x00" * (len(content) - 8) + content[-4:], "The Parquet file cannot be read"),
        (lambda content: b"y_true,y_pred,sex\n1,0,f\n", "is not a Parquet file"),
    ],
    ids=["truncated", "zeroed", "csv-named-parquet"],
)
def test_a_corrupt_or_false_parquet_file_is_refused_and_nothing_is_stored(
    personas: Any, version_a: Any, german_frame: pd.DataFrame, settings: Any, corrupt: Any, words: str
) -> None:
    content = corrupt(parquet_of(german_frame))
    with pytest.raises(ValidationError) as refused:
        _store(personas.owner_a, version_a, content, "predictions.parquet")

    assert list(refused.value.message_dict) == ["file"]
    assert words in refused.value.message_dict["file"][0]
    assert not EvaluationDataset.objects.exists()
    assert _stored_files(settings) == []


def test_the_size_limit_holds_for_parquet(
    personas: Any, version_a: Any, german_frame: pd.DataFrame, settings: Any
) -> None:
    content = parquet_of(german_frame)
    settings.EVALUATION_UPLOAD_MAX_BYTES = len(content) - 1
    with pytest.raises(ValidationError, match=f"the limit is {len(content) - 1}"):
        _store(personas.owner_a, version_a, content, "predictions.parquet")

    assert not EvaluationDataset.objects.exists()


def test_a_stored_parquet_file_that_changed_ends_the_audit_in_error(
    personas: Any, version_a: Any, german_frame: pd.DataFrame
) -> None:
    dataset = _store(personas.owner_a, version_a, parquet_of(german_frame), "predictions.parquet")
    Path(dataset.file.path).write_bytes(parquet_of(german_frame.assign(y_pred=1)))

    run = _audit(personas.owner_a, dataset)

    assert run.status == RunStatus.ERROR
    assert "changed since it was stored" in run.error
    assert run.result == {}


def _post(client: Any, content: bytes, name: str) -> Any:
    body = {
        "model": "RB-0001",
        "version": "1.0.0",
        "name": "holdout",
        "mapping": json.dumps(MAPPING),
        "file": upload(content, name),
    }
    return client.post("/api/v1/evaluation-datasets/", body, format="multipart")


def test_the_api_stores_parquet_and_answers_its_format(
    personas: Any, version_a: Any, api_client_for: Any, german_frame: pd.DataFrame
) -> None:
    client = api_client_for(personas.owner_a)
    response = _post(client, parquet_of(german_frame), "predictions.parquet")

    assert response.status_code == 201, response.json()
    assert (response.json()["file_format"], response.json()["row_count"]) == ("parquet", 300)
    run = client.post("/api/v1/audit-runs/", {"dataset": response.json()["id"]}, format="json")
    assert run.status_code == 202, run.json()
    assert bias_audit_execute(run_id=run.json()["id"]).status == RunStatus.FAILED


def test_the_api_refuses_a_corrupt_parquet_file_naming_the_problem(
    personas: Any, version_a: Any, api_client_for: Any, german_frame: pd.DataFrame
) -> None:
    response = _post(api_client_for(personas.owner_a), parquet_of(german_frame)[:-100], "predictions.parquet")

    assert response.status_code == 400
    assert "The Parquet file cannot be read" in response.json()["file"][0]
    assert not EvaluationDataset.objects.exists()
