"""The drift audit on N rows × 20 features (14 numeric, 6 categorical) plus a prediction column, no database.

What one worker does for a drift run, in the order it does it: read both stored tables (Parquet here, the format
advised for tables of this size) through ``monitoring.services.read_frame``, hash them, and compute the report
(``monitoring.drift.drift_report``: bins fixed on the reference, PSI, KS or chi-squared per feature). The current
table is the reference's distribution with two features shifted, so the report has something to find.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from audits.choices import DatasetFormat
from bench.report import Measurement, timed
from monitoring import drift

NUMERIC = [f"num_{index:02d}" for index in range(14)]
CATEGORICAL = [f"cat_{index}" for index in range(6)]
FEATURES = [*NUMERIC, *CATEGORICAL]
LEVELS = np.array([f"level_{index}" for index in range(8)], dtype=object)


def synthetic(rows: int, *, seed: int, shift: bool) -> pd.DataFrame:
    """``rows`` rows of 14 numeric and 6 categorical features and a score; ``shift`` moves ``num_00`` by half a
    standard deviation and tilts ``cat_0`` towards its first level."""
    generator = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for index, name in enumerate(NUMERIC):
        values = generator.normal(loc=index, scale=1.0 + index / 10, size=rows)
        columns[name] = values + (0.5 * (1.0 + index / 10) if shift and index == 0 else 0.0)
    for index, name in enumerate(CATEGORICAL):
        weights = np.linspace(1.0, 2.0 + index, len(LEVELS))
        if shift and index == 0:
            weights[0] *= 3
        codes = generator.choice(len(LEVELS), size=rows, p=weights / weights.sum())
        columns[name] = pd.Series(LEVELS[codes], dtype=object)
    columns["score"] = 1 / (1 + np.exp(-(columns["num_00"] - 0.5)))
    return pd.DataFrame(columns)


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False)
    return buffer.getvalue()


def report(reference: pd.DataFrame, current: pd.DataFrame) -> drift.DriftReport:
    """The drift report as a run computes it, under tier 2's default limits."""
    return drift.drift_report(
        reference,
        current,
        features=FEATURES,
        categorical=CATEGORICAL,
        prediction="score",
        feature_threshold=0.2,
        overall_threshold=0.15,
    )


def worker_path(reference: bytes, current: bytes) -> dict[str, float]:
    """What the worker does after loading the run: read and hash both tables, compute the report; seconds each."""
    from monitoring.services import read_frame  # needs Django's apps loaded (see run)

    start = time.perf_counter()
    frames = [read_frame(content, DatasetFormat.PARQUET) for content in (reference, current)]
    read = time.perf_counter()
    for content in (reference, current):
        hashlib.sha256(content).hexdigest()
    hashed = time.perf_counter()
    report(*frames).as_dict()
    computed = time.perf_counter()
    return {"read": read - start, "hash": hashed - read, "report": computed - hashed}


def run(rows: int, *, runs: int, seed: int = 0) -> list[Measurement]:
    """Time the report alone and the worker's whole path on ``rows`` rows per table."""
    import django

    # The worker reads tables through the monitoring services, which load the app registry (no database is used).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    reference, current = synthetic(rows, seed=seed, shift=False), synthetic(rows, seed=seed + 1, shift=True)
    found = report(reference, current)
    params = {
        "rows": rows,
        "numeric": len(NUMERIC),
        "categorical": len(CATEGORICAL),
        "prediction": True,
        "drifted": found.drifted_features,
    }
    measurements = [
        Measurement(
            "drift",
            "drift report (PSI + KS / chi-squared)",
            timed(lambda: report(reference, current), runs=runs),
            params,
        )
    ]
    contents = parquet(reference), parquet(current)
    params = {**params, "format": "parquet", "bytes": sum(len(content) for content in contents)}
    stages = [worker_path(*contents) for _ in range(runs)]
    measurements += [
        Measurement("drift", f"worker: {stage}", [item[stage] for item in stages], params)
        for stage in ("read", "hash", "report")
    ]
    measurements.append(
        Measurement("drift", "worker total: read → hash → report", [sum(item.values()) for item in stages], params)
    )
    return measurements
