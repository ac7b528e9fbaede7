"""The bias audit on N rows × two sensitive features: the fast path, bare fairlearn, the bare count, the product path.

The data are synthetic: a binary label, a prediction that depends on it and on the groups (so groups differ), and
two sensitive features held as strings, as :func:`audits.evaluation.read_table` hands them to the audit.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from audits import evaluation, fairness
from bench.report import Measurement, timed

SEXES = np.array(["female", "male", "nonbinary"], dtype=object)
AGE_GROUPS = np.array(["18-25", "26-35", "36-50", "51-65", "65+"], dtype=object)
MAPPING = {"label": "label", "prediction": "prediction", "sensitive": ["sex", "age_group"]}
# fairlearn is warmed up on a slice: a full-size warm-up would cost as much as a timed run.
FAIRLEARN_WARMUP_ROWS = 10_000


def synthetic(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """``rows`` rows of label, prediction, sex and age group, reproducible from ``seed``."""
    generator = np.random.default_rng(seed)
    sex = generator.integers(0, len(SEXES), rows)
    age = generator.integers(0, len(AGE_GROUPS), rows)
    label = (generator.random(rows) < 0.4).astype(np.int64)
    chance = 0.15 + 0.55 * label + 0.04 * sex + 0.02 * age
    prediction = (generator.random(rows) < chance).astype(np.int64)
    # Object columns of Python strings, as read_table hands the sensitive features on: pandas 3 would otherwise
    # infer Arrow-backed strings, and every case would pay a different conversion.
    return pd.DataFrame(
        {
            "label": label,
            "prediction": prediction,
            "sex": pd.Series(SEXES[sex], dtype=object),
            "age_group": pd.Series(AGE_GROUPS[age], dtype=object),
        }
    )


def fast_audit(frame: pd.DataFrame) -> fairness.FairnessResult:
    """The product's per-group table and disparities (no bootstrap: fairlearn's MetricFrame has none)."""
    return fairness.audit(
        frame["label"].to_numpy(),
        frame["prediction"].to_numpy(),
        {"sex": frame["sex"].to_numpy(), "age_group": frame["age_group"].to_numpy()},
        bootstrap_samples=0,
    )


def fairlearn_metric_frame(frame: pd.DataFrame) -> Any:
    """Bare fairlearn: MetricFrame with count, selection rate, TPR, FPR and FNR by sex × age group."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    metrics = {
        "count": count,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
    }
    return MetricFrame(
        metrics=metrics,
        y_true=frame["label"],
        y_pred=frame["prediction"],
        sensitive_features=frame[["sex", "age_group"]],
    ).by_group


def bare_count(frame: pd.DataFrame) -> np.ndarray:
    """The least any grouped count from string features does: factorize both, one bincount of the cells."""
    sex, sex_names = pd.factorize(frame["sex"])
    age, age_names = pd.factorize(frame["age_group"])
    codes = sex * len(age_names) + age
    cells = codes * 4 + frame["label"].to_numpy() * 2 + frame["prediction"].to_numpy()
    return np.bincount(cells, minlength=len(sex_names) * len(age_names) * 4)


def bincount_only(codes: np.ndarray, truth: np.ndarray, predicted: np.ndarray, groups: int) -> np.ndarray:
    """np.bincount alone, on group codes computed beforehand: the floor of any count."""
    return np.bincount(codes * 4 + truth * 2 + predicted, minlength=groups * 4)


def product_path(frame: pd.DataFrame) -> dict[str, float]:
    """CSV write, then what the audit task does without the database: read and validate the bytes, then audit
    each sensitive feature and their intersection with bootstrap intervals. Returns seconds per stage."""
    import time

    start = time.perf_counter()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    content = buffer.getvalue().encode("utf-8")
    written = time.perf_counter()
    table = evaluation.read_table(content, evaluation.mapping_clean(MAPPING), max_bytes=len(content))
    read = time.perf_counter()
    features = [[name] for name in table.sensitive]
    features.append(list(table.sensitive))
    for names in features:
        fairness.audit(table.y_true, table.y_pred, {name: table.sensitive[name] for name in names}).as_dict()
    audited = time.perf_counter()
    return {"csv_write": written - start, "read_validate": read - written, "audit_bootstrap": audited - read}


def run(rows: int, *, runs: int, fairlearn_runs: int, seed: int = 0) -> tuple[list[Measurement], dict[str, float]]:
    """Time every case on ``rows`` rows; the measurements and the ratios the issue sets targets for."""
    frame = synthetic(rows, seed=seed)
    params = {"rows": rows, "sensitive_features": ["sex", "age_group"], "groups": len(SEXES) * len(AGE_GROUPS)}
    codes, names = fairness.group_codes({"sex": frame["sex"], "age_group": frame["age_group"]}, rows)
    truth, predicted = frame["label"].to_numpy(), frame["prediction"].to_numpy()

    fast = Measurement(
        "fairness", "fast path: fairness.audit (no bootstrap)", timed(lambda: fast_audit(frame), runs=runs), params
    )
    fairlearn_warmup = frame.iloc[: min(rows, FAIRLEARN_WARMUP_ROWS)]
    fairlearn_metric_frame(fairlearn_warmup)
    reference = Measurement(
        "fairness",
        "fairlearn MetricFrame (5 metrics)",
        timed(lambda: fairlearn_metric_frame(frame), runs=fairlearn_runs, warmup=0),
        {**params, "warmup_rows": len(fairlearn_warmup)},
    )
    count = Measurement(
        "fairness", "bare count: factorize + np.bincount", timed(lambda: bare_count(frame), runs=runs), params
    )
    floor = Measurement(
        "fairness",
        "np.bincount alone (codes precomputed)",
        timed(lambda: bincount_only(codes, truth, predicted, len(names)), runs=runs),
        params,
    )

    product_path(frame)  # warm-up
    stages = [product_path(frame) for _ in range(runs)]
    product_params = {**params, "bootstrap_samples": 1000, "analyses": ["sex", "age_group", "sex × age_group"]}
    product = [
        Measurement("product", f"{stage}", [item[stage] for item in stages], product_params)
        for stage in ("csv_write", "read_validate", "audit_bootstrap")
    ]
    product.append(
        Measurement(
            "product", "total: CSV → read/validate → audit", [sum(item.values()) for item in stages], product_params
        )
    )
    ratios = {
        "fairlearn / fast path (target ≥ 10)": reference.median / fast.median,
        "fast path / bare count (target ≤ 3)": fast.median / count.median,
        "fast path / np.bincount alone": fast.median / floor.median,
    }
    return [fast, reference, count, floor, *product], ratios
