"""Drift arithmetic on the UCI Adult data: train split as reference, test split as current.

UCI drew both splits from the same census, so no feature should move; shifting age by ten years must flag age
and only age. The PSI is checked against an independent numpy computation over the same bins.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitoring import drift

ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
ADULT_SHA256 = "d6362d8cb6d5ececd0b8bffc9db874989768ec3d10f2e9fb0df602f598cafb3f"
FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
]
FEATURE_LIMIT = 0.1


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT)


@pytest.fixture(scope="module")
def splits(adult: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return adult[adult["split"] == "train"], adult[adult["split"] == "test"]


def independent_psi(reference: np.ndarray, current: np.ndarray, edges: list[float]) -> float:
    """PSI over the given inner edges, written apart from the module: pandas cut, open outer bins, floored shares."""
    bins = [-np.inf, *edges, np.inf]
    p = pd.cut(pd.Series(reference), bins=bins, right=True).value_counts(sort=False).to_numpy() / len(reference)
    q = pd.cut(pd.Series(current), bins=bins, right=True).value_counts(sort=False).to_numpy() / len(current)
    p, q = np.clip(p, drift.EPSILON, None), np.clip(q, drift.EPSILON, None)
    return float(((q - p) * np.log(q / p)).sum())


def test_the_shipped_file_is_the_credited_one() -> None:
    assert hashlib.sha256(ADULT.read_bytes()).hexdigest() == ADULT_SHA256


def test_train_against_test_split_has_no_drift(splits: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = splits
    report = drift.drift_report(reference, current, features=FEATURES, feature_threshold=FEATURE_LIMIT)
    for feature in report.features:
        print(f"{feature.name:16} {feature.kind:12} PSI {feature.psi:.6f}")
        assert feature.psi < 0.01, feature.name
    assert report.drifted_features == []
    assert report.as_dict()["verdict"] == "stable"
    kinds = {feature.name: feature.kind for feature in report.features}
    assert kinds["age"] == drift.NUMERIC
    assert kinds["workclass"] == drift.CATEGORICAL


def test_ten_years_older_flags_age_and_only_age(splits: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = splits
    older = current.assign(age=current["age"] + 10)
    report = drift.drift_report(reference, older, features=FEATURES, feature_threshold=FEATURE_LIMIT)
    assert report.drifted_features == ["age"]
    assert report.top_movers[0] == "age"
    result = report.as_dict()
    assert result["verdict"] == "drift"
    assert result["top_movers"][0]["name"] == "age"
    age = next(feature for feature in report.features if feature.name == "age")
    assert age.p_value is not None and age.p_value < 1e-6


def test_psi_matches_an_independent_numpy_computation(splits: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = splits
    older = current.assign(age=current["age"] + 10)
    for name, frame in (("age", older), ("hours_per_week", current), ("fnlwgt", current), ("capital_gain", current)):
        ref_values, cur_values = reference[name].to_numpy(float), frame[name].to_numpy(float)
        edges = np.unique(np.quantile(ref_values, np.linspace(0.1, 0.9, 9))).tolist()
        result = drift.feature_drift(name, reference[name], frame[name])
        # The bins are the reference's deciles; the independent computation then counts into exactly those bins.
        assert result.edges == pytest.approx(edges, rel=1e-12)
        # The module's extra missing bucket is empty on both sides here, so it adds exactly 0.
        assert result.psi == pytest.approx(independent_psi(ref_values, cur_values, result.edges), abs=1e-9)


def test_categorical_psi_has_other_and_missing_buckets() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 40 + ["c"] * 40 + [""] * 20)
    result = drift.feature_drift("x", reference, current)
    assert result.buckets == ["a", "b", drift.OTHER, drift.MISSING]
    assert result.current_share == pytest.approx([0.4, 0.0, 0.4, 0.2])
    p = np.array([0.5, 0.5, drift.EPSILON, drift.EPSILON])
    q = np.array([0.4, drift.EPSILON, 0.4, 0.2])
    assert result.psi == pytest.approx(float(((q - p) * np.log(q / p)).sum()), abs=1e-12)
    assert result.test == "chi2"


def test_values_beyond_the_reference_range_fall_in_the_outer_bins() -> None:
    edges = drift.numeric_edges(np.arange(100, dtype=float), bins=4)
    counts = drift.numeric_counts(np.array([-1e9, 1e9, np.nan]), edges)
    assert counts.tolist() == [1, 0, 0, 1, 1]


def test_identical_tables_have_zero_psi_and_empty_on_both_sides_adds_nothing() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0), "c": ["u", "v"] * 500})
    report = drift.drift_report(frame, frame, features=["x", "c"], feature_threshold=0.1, overall_threshold=0.1)
    assert [feature.psi for feature in report.features] == [0.0, 0.0]
    assert report.overall_psi == 0.0


def test_prediction_drift_is_reported_apart_from_the_features() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=5000), "score": rng.uniform(size=5000)})
    current = pd.DataFrame({"x": rng.normal(size=5000), "score": rng.uniform(size=5000) ** 3})
    report = drift.drift_report(reference, current, features=["x"], prediction="score", feature_threshold=0.2)
    assert report.drifted_features == []
    assert report.prediction is not None and report.prediction.drifted
    assert report.as_dict()["verdict"] == "drift"


def test_missing_columns_and_empty_tables_are_refused_with_the_field() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(drift.DriftInputError) as error:
        drift.drift_report(frame, frame.rename(columns={"x": "y"}), features=["x"])
    assert error.value.field == "current" and "x" in error.value.message
    with pytest.raises(drift.DriftInputError) as error:
        drift.drift_report(frame.iloc[:0], frame, features=["x"])
    assert error.value.field == "reference"
    with pytest.raises(drift.DriftInputError) as error:
        drift.drift_report(frame, frame, features=[])
    assert error.value.field == "features"
