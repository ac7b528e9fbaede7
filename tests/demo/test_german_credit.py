"""The German Credit reference model: shipped data, the published reference figures, the saved artifact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from demo import german_credit

DATA_DIR = Path(__file__).resolve().parents[2] / "demo" / "data"

# The digests DATA_LICENSES.md lists for the shipped copies.
PUBLISHED_SHA256 = {
    "german.data": "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
    "german_credit.csv": "4c1c948b576b6190b54c23c3acd43c2d2c0761cdbcaade19d6575d630c23f7ea",
    "german_lr_predictions.csv": "463f1b981a77d26913c288e01cc1cc4c1b978c0c7355813e49b190fabf1b856b",
}


@pytest.fixture(scope="module")
def result() -> german_credit.TrainingResult:
    """The reference model trained once on the shipped CSV."""
    return german_credit.train(german_credit.load_german_credit(DATA_DIR / "german_credit.csv"))


@pytest.mark.parametrize("name", sorted(PUBLISHED_SHA256))
def test_shipped_files_are_the_published_ones(name):
    assert german_credit.file_sha256(DATA_DIR / name) == PUBLISHED_SHA256[name]


def test_accuracy_on_the_test_split_is_the_reference_figure(result):
    assert result.metrics["accuracy"] == 0.74
    assert (result.metrics["train_rows"], result.metrics["test_rows"]) == (700, 300)


def test_predictions_agree_with_the_reference_prediction_file(result):
    reference = pd.read_csv(DATA_DIR / "german_lr_predictions.csv")
    ours = result.predictions
    assert list(ours["row"]) == list(reference["row"])
    for column in ("y_true", "sex", "age_group"):
        assert list(ours[column]) == list(reference[column])
    agreement = (ours["y_pred"].to_numpy() == reference["y_pred"].to_numpy()).mean()
    assert agreement == 1.0


@pytest.mark.parametrize(
    ("feature", "group", "selection_rate", "tpr", "fpr"),
    [
        ("sex", "female", 0.6771, 0.7937, 0.4545),
        ("sex", "male", 0.7892, 0.8776, 0.5614),
        ("age_group", "<25", 0.6596, 0.7308, 0.5714),
        ("age_group", ">=25", 0.7708, 0.8696, 0.5072),
    ],
)
def test_group_rates_match_the_published_reference_figures(result, feature, group, selection_rate, tpr, fpr):
    rows = result.predictions[result.predictions[feature] == group]
    positives, negatives = rows[rows["y_true"] == 1], rows[rows["y_true"] == 0]
    assert round(rows["y_pred"].mean(), 4) == selection_rate
    assert round(positives["y_pred"].mean(), 4) == tpr
    assert round(negatives["y_pred"].mean(), 4) == fpr


def test_auc_and_gini_come_from_the_scores_and_decisions_from_the_threshold(result):
    predictions = result.predictions
    auc = roc_auc_score(predictions["y_true"], predictions["y_score"])
    assert result.metrics["auc"] == pytest.approx(auc, abs=1e-4)
    assert result.metrics["gini"] == pytest.approx(2 * result.metrics["auc"] - 1, abs=1e-4)
    assert ((predictions["y_score"] >= 0.5).astype(int) == predictions["y_pred"]).all()


def test_predictions_file_has_the_columns_bias_audits_read(result, tmp_path):
    path = tmp_path / "nested" / "predictions.csv"
    german_credit.write_predictions(result.predictions, path)
    written = pd.read_csv(path)
    assert tuple(written.columns) == ("row", "y_true", "y_pred", "y_score", "sex", "age_group")
    assert len(written) == 300
    assert set(written["sex"]) == {"female", "male"}
    assert set(written["age_group"]) == {"<25", ">=25"}


def test_saved_model_digest_is_the_file_sha256_and_retraining_reproduces_it(result, tmp_path):
    first = german_credit.save_model(result.pipeline, tmp_path / "first.joblib")
    assert first == hashlib.sha256((tmp_path / "first.joblib").read_bytes()).hexdigest()
    retrained = german_credit.train(german_credit.load_german_credit(DATA_DIR / "german_credit.csv"))
    assert german_credit.save_model(retrained.pipeline, tmp_path / "second.joblib") == first
    loaded = joblib.load(tmp_path / "first.joblib")
    frame = german_credit.load_german_credit(DATA_DIR / "german_credit.csv")
    test_rows = frame.loc[result.predictions["row"], list(german_credit.FEATURE_COLUMNS)]
    assert list(loaded.predict(test_rows)) == list(result.predictions["y_pred"])
    assert not list(tmp_path.glob(".*")), "no temporary files are left behind"


def test_a_file_without_a_needed_column_is_refused(tmp_path):
    frame = pd.read_csv(DATA_DIR / "german_credit.csv").drop(columns=["age_years"])
    frame.to_csv(tmp_path / "broken.csv", index=False)
    with pytest.raises(ValueError, match="age_years"):
        german_credit.load_german_credit(tmp_path / "broken.csv")
