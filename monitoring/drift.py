"""Data drift between a reference table and a current table: PSI, KS and chi-squared per feature.

No database here: frames in, plain data out, so the Celery task, the tests and the benchmark share it.

Bins are fixed on the reference and the current data is counted into the same bins:

- numeric feature: the inner edges are the reference's quantiles at 1/n … (n-1)/n (``DEFAULT_BINS`` = 10),
  duplicates dropped (a column that is mostly zero gets fewer bins); the outer bins are open-ended, so a
  current value beyond the reference's range still lands in the first or the last bin. Bins are closed on the
  right: bin ``i`` holds ``edges[i-1] < x <= edges[i]``.
- categorical feature: one bucket per category seen in the reference, plus ``OTHER`` for categories the
  reference never had.
- both kinds get a ``MISSING`` bucket for empty cells, so data that starts arriving empty is drift as well.

PSI = Σ (q − p) · ln(q / p) over the buckets, with p the reference share and q the current share. A bucket that
is empty on one side would make the logarithm infinite, so every share is raised to at least ``EPSILON``
(1e-4, i.e. one row in ten thousand) before the sum: a bucket empty on both sides then adds exactly zero, and
a bucket that empties or appears adds a large but finite term.

The KS test (numeric) and the chi-squared test (categorical) are reported with their p-values but do not
decide the verdict: with hundreds of thousands of rows they call every harmless wobble significant. The
verdict is PSI against the target's limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_BINS = 10
EPSILON = 1e-4
OTHER = "(other)"
MISSING = "(missing)"
TOP_MOVERS = 5
NUMERIC = "numeric"
CATEGORICAL = "categorical"


class DriftInputError(ValueError):
    """The tables cannot be compared: a column is missing, or a table is empty. ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class FeatureDrift:
    """The drift of one column: its buckets, both sides' shares, PSI, the test statistic and the verdict."""

    name: str
    kind: str
    buckets: list[str]
    edges: list[float]
    reference_share: list[float]
    current_share: list[float]
    psi: float
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (NaN written as ``None``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "buckets": self.buckets,
            "edges": self.edges,
            "reference_share": self.reference_share,
            "current_share": self.current_share,
            "psi": self.psi,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "verdict": "drift" if self.drifted else "stable",
        }


@dataclass(frozen=True)
class DriftReport:
    """Every feature's drift, the prediction's drift, the overall PSI (mean over features) and the top movers."""

    features: list[FeatureDrift]
    prediction: FeatureDrift | None
    overall_psi: float
    overall_threshold: float | None
    reference_rows: int
    current_rows: int

    @property
    def drifted_features(self) -> list[str]:
        """Names of the features over their PSI limit."""
        return [feature.name for feature in self.features if feature.drifted]

    @property
    def overall_drifted(self) -> bool:
        """Whether the mean PSI is over the overall limit."""
        return self.overall_threshold is not None and self.overall_psi > self.overall_threshold

    @property
    def top_movers(self) -> list[str]:
        """The features with the largest PSI, largest first."""
        ranked = sorted(self.features, key=lambda feature: (-feature.psi, feature.name))
        return [feature.name for feature in ranked[:TOP_MOVERS]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready result, as the drift audit stores it."""
        prediction_drifted = self.prediction is not None and self.prediction.drifted
        breached = bool(self.drifted_features) or self.overall_drifted or prediction_drifted
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "bins": DEFAULT_BINS,
            "epsilon": EPSILON,
            "features": [feature.as_dict() for feature in self.features],
            "prediction": self.prediction.as_dict() if self.prediction is not None else None,
            "overall": {
                "psi": self.overall_psi,
                "threshold": self.overall_threshold,
                "verdict": "drift" if self.overall_drifted else "stable",
            },
            "drifted_features": self.drifted_features,
            "top_movers": [
                {"name": name, "psi": next(f.psi for f in self.features if f.name == name)} for name in self.top_movers
            ],
            "verdict": "drift" if breached else "stable",
        }


def psi(reference_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = EPSILON) -> float:
    """Population stability index of two count vectors over the same buckets (shares floored at ``epsilon``)."""
    reference = np.asarray(reference_counts, dtype=float)
    current = np.asarray(current_counts, dtype=float)
    p = np.maximum(reference / max(reference.sum(), 1.0), epsilon)
    q = np.maximum(current / max(current.sum(), 1.0), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def numeric_edges(reference: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Inner bin edges: the reference's quantiles at 1/bins … (bins-1)/bins, each once (missing values ignored)."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(finite, np.arange(1, bins) / bins))


def numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (len(edges) + 1 right-closed bins, the outer ones open-ended), then the missing count."""
    finite = np.isfinite(values)
    index = np.searchsorted(edges, values[finite], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return np.append(counts, int((~finite).sum()))


def _numeric_labels(edges: np.ndarray) -> list[str]:
    if edges.size == 0:
        return ["all values", MISSING]
    bounds = [f"{edge:g}" for edge in edges]
    labels = [f"≤ {bounds[0]}"]
    labels += [f"({low}, {high}]" for low, high in itertools.pairwise(bounds)]
    return [*labels, f"> {bounds[-1]}", MISSING]


def _tally(values: pd.Series) -> tuple[pd.Series, int]:
    """Counts per stripped, non-empty value, and the number of missing (empty or null) cells.

    Counting the raw values first and stripping only the distinct labels keeps a million-row column to one pass.
    """
    raw = values.value_counts(dropna=True)
    labels = raw.index.map(lambda value: str(value).strip())
    tally = raw.groupby(labels).sum()
    missing = int(values.isna().sum()) + int(tally.get("", 0))
    return tally.drop("", errors="ignore"), missing


def categorical_counts(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Counts per reference category, then the count of other categories, then the missing count."""
    tally, missing = _tally(values)
    known = np.array([int(tally.get(category, 0)) for category in categories], dtype=np.int64)
    other = int(tally.sum() - known.sum())
    return np.append(known, [other, missing])


def _as_numeric(values: pd.Series) -> np.ndarray:
    # Empty cells are missing (NaN); anything else that does not parse was refused when the kind was chosen.
    return pd.to_numeric(values.replace("", np.nan), errors="coerce").to_numpy(dtype=float)


def is_numeric(values: pd.Series) -> bool:
    """Whether every non-empty cell is a number (such a column is binned by quantiles)."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    # The distinct values decide, not every row: a text column of a million rows has a few dozen of them.
    distinct = pd.Series(values.dropna().unique()).astype(str).str.strip()
    distinct = distinct[distinct != ""]
    return bool(len(distinct)) and bool(pd.to_numeric(distinct, errors="coerce").notna().all())


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def feature_drift(
    name: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    kind: str | None = None,
    threshold: float | None = None,
    bins: int = DEFAULT_BINS,
) -> FeatureDrift:
    """PSI with bins fixed on ``reference``, and a KS (numeric) or chi-squared (categorical) test."""
    kind = kind or (NUMERIC if is_numeric(reference) else CATEGORICAL)
    if kind == NUMERIC:
        ref_values, cur_values = _as_numeric(reference), _as_numeric(current)
        edges = numeric_edges(ref_values, bins)
        ref_counts, cur_counts = numeric_counts(ref_values, edges), numeric_counts(cur_values, edges)
        buckets, edge_list, test = _numeric_labels(edges), [float(edge) for edge in edges], "ks"
        ref_finite, cur_finite = ref_values[np.isfinite(ref_values)], cur_values[np.isfinite(cur_values)]
        if ref_finite.size and cur_finite.size:
            ks = stats.ks_2samp(ref_finite, cur_finite)
            statistic, p_value = _finite(ks.statistic), _finite(ks.pvalue)
        else:
            statistic = p_value = None
    else:
        categories = sorted(str(label) for label in _tally(reference)[0].index)
        ref_counts = categorical_counts(reference, categories)
        cur_counts = categorical_counts(current, categories)
        buckets, edge_list, test = [*categories, OTHER, MISSING], [], "chi2"
        table = np.vstack([ref_counts, cur_counts])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] >= 2:
            chi2 = stats.chi2_contingency(table, correction=False)
            statistic, p_value = _finite(chi2.statistic), _finite(chi2.pvalue)
        else:
            # One bucket on both sides: nothing can have moved.
            statistic, p_value = 0.0, 1.0
    value = psi(ref_counts, cur_counts)
    return FeatureDrift(
        name=name,
        kind=kind,
        buckets=buckets,
        edges=edge_list,
        reference_share=(ref_counts / max(ref_counts.sum(), 1)).tolist(),
        current_share=(cur_counts / max(cur_counts.sum(), 1)).tolist(),
        psi=value,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=threshold is not None and value > threshold,
    )


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: Iterable[str],
    categorical: Iterable[str] = (),
    prediction: str | None = None,
    feature_threshold: float | None = None,
    overall_threshold: float | None = None,
    prediction_threshold: float | None = None,
    per_feature_thresholds: Mapping[str, float] | None = None,
) -> DriftReport:
    """Drift of every feature of ``current`` against ``reference``, of the prediction column, and overall.

    ``categorical`` forces columns to be treated as categories (a numeric code such as a branch number); other
    columns are numeric when every non-empty reference cell is a number. The overall PSI is the mean of the
    features' PSI.
    """
    names = list(dict.fromkeys(features))
    forced = set(categorical)
    if not names:
        raise DriftInputError("features", "Name at least one feature column.")
    for label, frame in (("reference", reference), ("current", current)):
        if frame.empty:
            raise DriftInputError(label, f"The {label} data has no rows.")
        missing = [name for name in [*names, *([prediction] if prediction else [])] if name not in frame.columns]
        if missing:
            raise DriftInputError(label, f"The {label} data has no column(s): {', '.join(missing)}.")
    limits = dict(per_feature_thresholds or {})
    results = [
        feature_drift(
            name,
            reference[name],
            current[name],
            kind=CATEGORICAL if name in forced else None,
            threshold=limits.get(name, feature_threshold),
        )
        for name in names
    ]
    prediction_drift = None
    if prediction:
        prediction_drift = feature_drift(
            prediction,
            reference[prediction],
            current[prediction],
            kind=CATEGORICAL if prediction in forced else None,
            threshold=prediction_threshold if prediction_threshold is not None else feature_threshold,
        )
    return DriftReport(
        features=results,
        prediction=prediction_drift,
        overall_psi=float(np.mean([result.psi for result in results])),
        overall_threshold=overall_threshold,
        reference_rows=len(reference),
        current_rows=len(current),
    )
