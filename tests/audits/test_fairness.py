"""The fast fairness path against fairlearn (to 1e-12) and against the published reference figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl

from audits import fairness

DATA = Path(__file__).resolve().parents[2] / "demo" / "data"


def fairlearn_frame(y_true, y_pred, sensitive):
    return fl.MetricFrame(
        metrics={
            "count": fl.count,
            "selection_rate": fl.selection_rate,
            "tpr": fl.true_positive_rate,
            "fpr": fl.false_positive_rate,
            "fnr": fl.false_negative_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
    )


def assert_matches_fairlearn(y_true, y_pred, sensitive: dict[str, np.ndarray]):
    ours = fairness.audit(y_true, y_pred, sensitive, bootstrap_samples=0)
    frame = fairlearn_frame(y_true, y_pred, pd.DataFrame(sensitive))
    for key, row in frame.by_group.iterrows():
        name = fairness.GROUP_SEPARATOR.join(str(part) for part in (key if isinstance(key, tuple) else (key,)))
        group = ours.by_group[name]
        assert group["count"] == row["count"]
        for metric in ("selection_rate", "tpr", "fpr", "fnr"):
            assert group[metric] == pytest.approx(row[metric], abs=1e-12)
    features = pd.DataFrame(sensitive)
    expected = {
        "demographic_parity_difference": fl.demographic_parity_difference(y_true, y_pred, sensitive_features=features),
        "demographic_parity_ratio": fl.demographic_parity_ratio(y_true, y_pred, sensitive_features=features),
        "equalized_odds_difference": fl.equalized_odds_difference(y_true, y_pred, sensitive_features=features),
        "equalized_odds_ratio": fl.equalized_odds_ratio(y_true, y_pred, sensitive_features=features),
        "equal_opportunity_difference": fl.equal_opportunity_difference(y_true, y_pred, sensitive_features=features),
    }
    for name, value in expected.items():
        assert ours.disparities[name] == pytest.approx(value, abs=1e-12), name
    return ours


@pytest.fixture(scope="module")
def german():
    return pd.read_csv(DATA / "german_lr_predictions.csv")


@pytest.mark.parametrize(
    ("feature", "dpd", "eod"),
    [("sex", 0.1121, 0.1069), ("age_group", 0.1112, 0.1388)],
)
def test_german_credit_reference_figures(german, feature, dpd, eod):
    result = assert_matches_fairlearn(german.y_true.to_numpy(), german.y_pred.to_numpy(), {feature: german[feature]})
    assert round(result.overall["accuracy"], 4) == 0.7400
    assert round(result.disparities["demographic_parity_difference"], 4) == dpd
    assert round(result.disparities["equalized_odds_difference"], 4) == eod


def test_german_credit_per_group_reference(german):
    result = fairness.audit(german.y_true, german.y_pred, {"sex": german.sex}, bootstrap_samples=0)
    female, male = result.by_group["female"], result.by_group["male"]
    assert (female["count"], male["count"]) == (96, 204)
    assert [round(female[m], 4) for m in ("selection_rate", "tpr", "fpr")] == [0.6771, 0.7937, 0.4545]
    assert [round(male[m], 4) for m in ("selection_rate", "tpr", "fpr")] == [0.7892, 0.8776, 0.5614]


def test_intersectional_groups_match_fairlearn(german):
    result = assert_matches_fairlearn(
        german.y_true.to_numpy(), german.y_pred.to_numpy(), {"sex": german.sex, "age_group": german.age_group}
    )
    assert len(result.by_group) == 4
    assert "female × <25" in result.by_group


@pytest.mark.parametrize("seed", [1, 2])
def test_random_data_matches_fairlearn(seed):
    rng = np.random.default_rng(seed)
    rows = 3_000
    y_true = rng.integers(0, 2, rows)
    y_pred = (rng.random(rows) < 0.3 + 0.4 * y_true).astype(int)
    sensitive = {"a": rng.choice(["x", "y", "z"], rows, p=[0.6, 0.3, 0.1]), "b": rng.choice(["p", "q"], rows)}
    assert_matches_fairlearn(y_true, y_pred, sensitive)
    assert_matches_fairlearn(y_true, y_pred, {"a": sensitive["a"]})


def test_small_groups_are_flagged_and_kept_apart():
    y_true = np.array([1, 0] * 50 + [1, 1, 0])
    y_pred = np.array([1, 0] * 50 + [0, 0, 1])
    group = np.array(["big"] * 100 + ["tiny"] * 3)
    result = fairness.audit(y_true, y_pred, {"g": group}, min_group_size=30, bootstrap_samples=0)
    assert result.small_groups == ["tiny"]
    assert result.by_group["tiny"]["small"] is True
    assert result.disparities["demographic_parity_difference"] == pytest.approx(0.5 - 1 / 3)
    assert result.disparities_adequate_groups["demographic_parity_difference"] is None


def test_undefined_rates_are_none_not_zero():
    result = fairness.audit([0, 0, 1, 1], [0, 1, 1, 1], {"g": ["a", "a", "b", "b"]}, bootstrap_samples=0)
    assert result.by_group["a"]["tpr"] is None  # group a has no positives
    assert result.by_group["b"]["fpr"] is None  # group b has no negatives
    assert result.disparities["equal_opportunity_difference"] == 0.0


def test_bootstrap_intervals_contain_the_estimate_and_are_reproducible(german):
    first = fairness.audit(german.y_true, german.y_pred, {"sex": german.sex}, bootstrap_samples=500, seed=7)
    again = fairness.audit(german.y_true, german.y_pred, {"sex": german.sex}, bootstrap_samples=500, seed=7)
    assert first.intervals == again.intervals
    low, high = first.intervals["disparities"]["demographic_parity_difference"]
    assert low < first.disparities["demographic_parity_difference"] < high
    low, high = first.intervals["by_group"]["female"]["selection_rate"]
    assert low < 0.6771 < high
    assert high - low > 0.1  # 96 women: the interval is wide, as it should be


def test_bootstrap_equals_row_resampling_in_distribution():
    """Multinomial resampling of counts is row resampling: their means agree to sampling error."""
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 2000)
    y_pred = rng.integers(0, 2, 2000)
    group = rng.choice(["a", "b"], 2000)
    counts = fairness.confusion_counts(y_true, y_pred, {"g": group})
    fast = fairness.bootstrap_intervals(counts, samples=2000, confidence=0.95, seed=1)
    slow: list[float] = []
    for _ in range(400):
        index = rng.integers(0, 2000, 2000)
        resampled = fairness.audit(y_true[index], y_pred[index], {"g": group[index]}, bootstrap_samples=0)
        difference = resampled.disparities["demographic_parity_difference"]
        assert difference is not None
        slow.append(difference)
    low, high = fast["disparities"]["demographic_parity_difference"]
    slow_low, slow_high = np.percentile(slow, [2.5, 97.5])
    assert abs(low - slow_low) < 0.01
    assert abs(high - slow_high) < 0.01


@pytest.mark.parametrize(
    ("y_true", "y_pred", "sensitive", "message"),
    [
        ([0, 1, 2], [0, 1, 1], {"g": ["a", "b", "c"]}, "only 0 and 1"),
        ([0, 1], [0, 1, 1], {"g": ["a", "b"]}, "rows"),
        ([0, 1], [0, 1], {"g": ["a", None]}, "missing"),
        ([0, np.nan], [0, 1], {"g": ["a", "b"]}, "missing"),
        ([0, 1], [0, 1], {}, "at least one"),
        ([], [], {"g": []}, "no rows"),
    ],
)
def test_bad_inputs_are_explained(y_true, y_pred, sensitive, message):
    with pytest.raises(fairness.FairnessInputError, match=message):
        fairness.audit(y_true, y_pred, sensitive)


def _as_object(values):
    return np.asarray(values, dtype=object)


def test_group_codes_are_the_same_for_every_input_kind():
    """Object arrays (what read_table hands on), lists, Arrow-backed strings and categoricals give one result."""
    rng = np.random.default_rng(5)
    sex = rng.choice(["male", "female", "other"], 2_000)
    age = rng.choice(["<25", "25-50", ">50"], 2_000)
    expected_codes, expected_names = fairness.group_codes({"sex": _as_object(sex), "age": _as_object(age)}, 2_000)
    # Categories in another order, and one never used: codes and names still follow the sorted names present.
    categorical = pd.Categorical(sex, categories=["other", "unused", "male", "female"])
    for kind in (
        {"sex": list(sex), "age": list(age)},
        {"sex": pd.Series(sex, dtype="str"), "age": pd.Series(age, dtype="str")},
        {"sex": categorical, "age": pd.Series(age, dtype="category")},
    ):
        codes, names = fairness.group_codes(kind, 2_000)
        assert names == expected_names
        assert np.array_equal(codes, expected_codes)
    assert expected_names == sorted(expected_names)


def test_values_that_read_the_same_are_one_group():
    codes, names = fairness.group_codes({"g": _as_object([1, "1", 2.5, "b", True])}, 5)
    assert names == ["1", "2.5", "True", "b"]
    assert codes.tolist() == [0, 0, 1, 3, 2]


def test_many_combinations_are_counted_by_sorting_and_match_pandas():
    """Three features of 60 values each (216,000 combinations over 3,000 rows) take the sorting path."""
    rng = np.random.default_rng(3)
    rows = 3_000
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, rows),
            "p": rng.integers(0, 2, rows),
            **{name: rng.integers(0, 60, rows).astype(str).astype(object) for name in ("a", "b", "c")},
        }
    )
    counts = fairness.confusion_counts(frame.y, frame.p, {name: frame[name].to_numpy() for name in "abc"})
    cells = frame.assign(cell=frame.y * 2 + frame.p).groupby(["a", "b", "c", "cell"]).size().unstack(fill_value=0)
    expected = {
        fairness.GROUP_SEPARATOR.join(key): row.reindex(range(4), fill_value=0) for key, row in cells.iterrows()
    }
    assert counts.groups == list(expected)
    got = np.stack([counts.tn, counts.fp, counts.fn, counts.tp], axis=1)
    assert np.array_equal(got, np.array([row.to_numpy() for row in expected.values()]))


@pytest.mark.parametrize(
    "values",
    [pd.Categorical(["a", None, "b"]), pd.Series(["a", None, "b"], dtype="str"), _as_object(["a", np.nan, "b"])],
    ids=["categorical", "arrow", "object"],
)
def test_missing_sensitive_values_are_refused_in_every_input_kind(values):
    with pytest.raises(fairness.FairnessInputError, match="missing"):
        fairness.audit([0, 1, 1], [0, 1, 0], {"g": values})


def test_labels_of_any_integer_or_boolean_type_are_accepted_and_others_named():
    for dtype in (np.int8, np.uint16, np.int64, bool):
        result = fairness.audit(np.array([0, 1, 1, 0], dtype=dtype), [0, 1, 0, 0], {"g": list("aabb")})
        assert result.overall["count"] == 4
    with pytest.raises(fairness.FairnessInputError, match="found -1"):
        fairness.audit(np.array([-1, 1]), [0, 1], {"g": ["a", "b"]})
