"""Pure rules: how MLflow records map to portal data, and how the client reads MLflow's JSON. No server, no database."""

from __future__ import annotations

import math

import pytest

from inventory.mlflow import mapping
from inventory.mlflow.client import (
    MlflowError,
    MlflowModelVersion,
    MlflowRun,
    check_tracking_uri,
    name_filter,
    parse_registered_model,
    parse_run,
)


def version(**kwargs: object) -> MlflowModelVersion:
    return MlflowModelVersion(**{"name": "m", "version": "3", **kwargs})  # type: ignore[arg-type]


def test_owners_come_from_the_specific_tags_then_owner_and_never_mlflow_user() -> None:
    hints = mapping.owner_hints({"owner": "ann", "portal.technical_owner": "tom", "mlflow.user": "someone"})
    assert (hints.business, hints.technical) == ("ann", "tom")
    assert hints.hint() == "business: ann; technical: tom"
    assert mapping.owner_hints({"owner": "ann"}).hint() == "ann"
    assert mapping.owner_hints({"mlflow.user": "someone"}).values() == []


def test_version_label_digest_and_source() -> None:
    assert mapping.version_label(version()) == "3"
    assert mapping.version_label(version(tags={"portal.version": " 2.1.0 "})) == "2.1.0"
    assert mapping.label_problem("2.1.0") == ""
    assert "not 1-50" in mapping.label_problem("two point one")
    hex64 = "AB" * 32
    assert mapping.version_digest(version(tags={"sha256": hex64})) == f"sha256:{hex64.lower()}"
    assert mapping.version_digest(version(tags={"sha256": f"sha256:{hex64}"})) == f"sha256:{hex64.lower()}"
    assert mapping.version_digest(version(tags={"sha256": "abc"})) == ""
    assert mapping.source_uri("/srv/mlruns/1/x/artifacts/model") == "file:///srv/mlruns/1/x/artifacts/model"
    assert mapping.source_uri("s3://bucket/model") == "s3://bucket/model"
    assert mapping.model_file_fields(version(source="s3://b/m")) is None  # no digest, no model file


def test_run_fields_drop_what_an_artifact_would_refuse() -> None:
    run = MlflowRun(
        run_id="r1",
        experiment_id="7",
        metrics={"auc": 0.8, "loss": math.nan, "x" * 300: 1.0, "inf": math.inf},
        params={"depth": "4", "blob": "y" * 6000},
        tags={"team": "risk"},
    )
    fields = mapping.experiment_run_fields(tracking_uri="http://mlflow:5000", run=run)
    assert fields["metrics"] == {"auc": 0.8}
    assert fields["params"] == {"depth": "4"}
    assert fields["experiment"] == "7"  # the id when the name is unknown


def test_record_fields_are_stable_whatever_order_mlflow_answers_in() -> None:
    raw = {
        "name": "m",
        "tags": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}],
        "latest_versions": [{"name": "m", "version": "10"}, {"name": "m", "version": "9"}],
    }
    reordered = {**raw, "tags": raw["tags"][::-1], "latest_versions": raw["latest_versions"][::-1]}
    first, second = (mapping.record_fields(parse_registered_model(item)) for item in (raw, reordered))
    assert first == second
    assert [v["version"] for v in first["latest_versions"]] == ["9", "10"]


@pytest.mark.parametrize(
    "raw",
    [None, [], {"tags": []}, {"name": "m", "tags": {"a": 1}}, {"name": "m", "latest_versions": [{"version": "1"}]}],
)
def test_malformed_registered_models_are_refused(raw: object) -> None:
    with pytest.raises(MlflowError):
        parse_registered_model(raw)


def test_runs_keep_the_latest_metric_value_and_refuse_garbage() -> None:
    run = parse_run({"info": {"run_id": "r"}, "data": {"metrics": [{"key": "auc", "value": 0.8}]}})
    assert run.metrics == {"auc": 0.8}
    with pytest.raises(MlflowError):
        parse_run({"info": {"run_id": "r"}, "data": {"metrics": [{"key": "auc", "value": "high"}]}})
    with pytest.raises(MlflowError):
        parse_run({"data": {}})


def test_tracking_uri_must_be_an_http_server_and_names_are_quoted_safely() -> None:
    assert check_tracking_uri("http://mlflow:5000/") == "http://mlflow:5000"
    for bad in ("databricks", "file:///tmp/mlruns", "sqlite:///mlflow.db", "http://", "http://h/?a=1"):
        with pytest.raises(MlflowError):
            check_tracking_uri(bad)
    assert name_filter("credit") == "name='credit'"
    assert name_filter("bob's") == 'name="bob\'s"'
