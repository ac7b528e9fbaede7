"""The demo's one real model: a logistic regression trained on the UCI Statlog German Credit data.

Pure code (pandas and scikit-learn, no ORM), so it is tested without a database and the seed command only has
to register what it returns. The recipe is the reference one the shipped prediction file was made with:
numeric attributes standardised, categorical attributes one-hot encoded (unknown codes ignored),
``LogisticRegression(max_iter=5000, random_state=0)`` on all 20 attributes, and a stratified 70/30 split with
``random_state=42``. Positive class: good credit (``credit_good == 1``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC_COLUMNS = (
    "duration_months",
    "credit_amount",
    "installment_rate_pct_income",
    "residence_since",
    "age_years",
    "existing_credits",
    "people_liable",
)
CATEGORICAL_COLUMNS = (
    "checking_status",
    "credit_history",
    "purpose",
    "savings",
    "employment_since",
    "personal_status_sex",
    "other_debtors",
    "property",
    "other_installment_plans",
    "housing",
    "job",
    "telephone",
    "foreign_worker",
)
FEATURE_COLUMNS = NUMERIC_COLUMNS + CATEGORICAL_COLUMNS
TARGET_COLUMN = "credit_good"
# Kept beside each prediction so bias audits can group by them; they are derived columns, not model inputs.
SENSITIVE_COLUMNS = ("sex", "age_group")
PREDICTION_COLUMNS = ("row", "y_true", "y_pred", "y_score", *SENSITIVE_COLUMNS)

TEST_SIZE = 0.3
SPLIT_RANDOM_STATE = 42
MODEL_RANDOM_STATE = 0
DECISION_THRESHOLD = 0.5


@dataclass(frozen=True)
class TrainingResult:
    """A fitted pipeline, its test-set figures and the test-set predictions (one row per test applicant)."""

    pipeline: Pipeline
    metrics: dict[str, float | int]
    predictions: pd.DataFrame


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_german_credit(path: Path) -> pd.DataFrame:
    """The German Credit CSV with named columns; refuses a file that lacks a column the model needs."""
    frame = pd.read_csv(path)
    missing = sorted({*FEATURE_COLUMNS, TARGET_COLUMN, *SENSITIVE_COLUMNS} - set(frame.columns))
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}")
    return frame


def build_pipeline() -> Pipeline:
    """The untrained reference pipeline: scaling and one-hot encoding feeding a logistic regression."""
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(NUMERIC_COLUMNS)),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_COLUMNS)),
        ]
    )
    classifier = LogisticRegression(max_iter=5000, random_state=MODEL_RANDOM_STATE)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def train(frame: pd.DataFrame) -> TrainingResult:
    """Split, fit and score the reference model; the test split is the one the reference predictions use."""
    features = frame[list(FEATURE_COLUMNS)]
    target = frame[TARGET_COLUMN]
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, random_state=SPLIT_RANDOM_STATE, stratify=target
    )
    pipeline = build_pipeline()
    pipeline.fit(x_train, y_train)
    scores = pipeline.predict_proba(x_test)[:, list(pipeline.classes_).index(1)]
    decisions = (scores >= DECISION_THRESHOLD).astype(int)
    auc = float(roc_auc_score(y_test, scores))
    metrics: dict[str, float | int] = {
        "accuracy": round(float(accuracy_score(y_test, decisions)), 4),
        "auc": round(auc, 4),
        "gini": round(2 * auc - 1, 4),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
    }
    predictions = pd.DataFrame(
        {
            "row": x_test.index.to_numpy(),
            "y_true": y_test.to_numpy(),
            "y_pred": decisions,
            "y_score": scores.round(6),
            **{column: frame.loc[x_test.index, column].to_numpy() for column in SENSITIVE_COLUMNS},
        },
        columns=list(PREDICTION_COLUMNS),
    )
    return TrainingResult(pipeline=pipeline, metrics=metrics, predictions=predictions)


def _write_atomically(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_model(pipeline: Pipeline, path: Path) -> str:
    """Save the fitted pipeline with joblib and return the file's hex SHA-256 (the artifact digest)."""
    _write_atomically(path, lambda target: joblib.dump(pipeline, target))
    return file_sha256(path)


def write_predictions(predictions: pd.DataFrame, path: Path) -> None:
    """Write the test-set predictions as CSV (``row, y_true, y_pred, y_score, sex, age_group``)."""
    _write_atomically(path, lambda target: predictions.to_csv(target, index=False))
