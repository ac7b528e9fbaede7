"""Group fairness metrics for binary classifiers, computed from per-group confusion matrices.

Pure NumPy/pandas, no database. Every figure derives from one vectorised count of (group, true label,
prediction) cells, so a million rows cost one pass; fairlearn's ``MetricFrame`` remains the reference the
tests compare against (to 1e-12). Definitions follow fairlearn:

- per group: selection rate (TP+FP)/n, TPR = recall TP/(TP+FN), FPR FP/(FP+TN), FNR FN/(TP+FN),
  accuracy (TP+TN)/n, precision TP/(TP+FP);
- demographic parity difference/ratio: max - min and min / max of the groups' selection rates;
- equalized odds difference: the larger of the TPR and FPR differences; ratio: the smaller of the two ratios;
- equal opportunity difference: the TPR difference.

A rate whose denominator is zero in a group is undefined (NaN), reported as such and left out of the
disparities, never silently taken as 0. Groups smaller than ``min_group_size`` are flagged. Bootstrap intervals
resample rows; since every statistic depends only on the cell counts, resampling the counts from a multinomial
is the same as resampling rows, at a cost independent of the number of rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audits.choices import RATE_METRICS

DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
)
GROUP_SEPARATOR = " × "
# Group codes combine the features as one int64 number; beyond this their product would overflow.
MAX_GROUP_SPACE = 2**62


class FairnessInputError(ValueError):
    """The inputs cannot be audited (mismatched lengths, non-binary labels, missing values); says why."""


@dataclass(frozen=True)
class ConfusionCounts:
    """True negatives, false positives, false negatives and true positives per group (arrays of equal length)."""

    groups: list[str]
    tn: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tp: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return self.tn + self.fp + self.fn + self.tp


@dataclass
class FairnessResult:
    """Per-group metrics, disparities over all groups and over groups of adequate size, and intervals."""

    sensitive_features: list[str]
    overall: dict[str, float | None]
    by_group: dict[str, dict[str, Any]]
    disparities: dict[str, float | None]
    disparities_adequate_groups: dict[str, float | None]
    small_groups: list[str]
    min_group_size: int
    intervals: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sensitive_features": self.sensitive_features,
            "overall": self.overall,
            "by_group": self.by_group,
            "disparities": self.disparities,
            "disparities_adequate_groups": self.disparities_adequate_groups,
            "small_groups": self.small_groups,
            "min_group_size": self.min_group_size,
            "intervals": self.intervals,
        }


def _binary(name: str, values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise FairnessInputError(f"{name} must be one column")
    # Integer and boolean columns (what read_table hands on) are checked by their range: two passes, no sort.
    if array.dtype.kind in "biu" and (len(array) == 0 or (array.min() >= 0 and array.max() <= 1)):
        return array.astype(np.int64, copy=False)
    if pd.isna(array).any():
        raise FairnessInputError(f"{name} has missing values")
    unique = set(np.unique(array).tolist())
    if not unique <= {0, 1}:
        shown = ", ".join(repr(value) for value in sorted(unique, key=str)[:5])
        raise FairnessInputError(f"{name} must hold only 0 and 1; found {shown}")
    return array.astype(np.int64)


def _feature_codes(feature: str, values: Any, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A code per row and the group names (as text, sorted) of one sensitive feature.

    Values are hashed as they are (categorical columns give their codes at no cost) and only the distinct values
    are turned into text: values with the same text (``1`` and ``"1"``) are one group, as in a CSV.
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.array
    if isinstance(values, pd.Categorical):
        raw_codes, uniques = np.asarray(values.codes, dtype=np.int64), np.asarray(values.categories, dtype=object)
    else:
        if not isinstance(values, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
            values = np.asarray(values, dtype=object)
        if getattr(values, "ndim", 1) != 1:
            raise FairnessInputError(f"sensitive feature {feature!r} must be one column")
        raw_codes, uniques = pd.factorize(values)
        uniques = np.asarray(uniques, dtype=object)
    if len(raw_codes) != length:
        raise FairnessInputError(f"sensitive feature {feature!r} has {len(raw_codes)} rows, expected {length}")
    # factorize marks None, NaN and NaT with -1.
    if length and raw_codes.min() < 0:
        raise FairnessInputError(f"sensitive feature {feature!r} has missing values")
    if values.dtype.kind not in "iub" and not all(isinstance(value, str) for value in uniques):
        # Hashing merged values that are equal but read differently (True and 1, 1 and 1.0, 0.0 and -0.0):
        # group by their text instead. Strings (all that read_table hands on) never take this path.
        raw_codes, uniques = pd.factorize(np.asarray(values, dtype=object).astype(str))
        uniques = np.asarray(uniques, dtype=object)
    names, merged = np.unique(np.array([str(value) for value in uniques], dtype=object), return_inverse=True)
    return merged.astype(np.int64)[raw_codes], names


def group_codes(sensitive: Mapping[str, Any], length: int) -> tuple[np.ndarray, list[str]]:
    """An integer group code per row and the group names; several features give intersectional groups.

    Features are combined arithmetically (mixed-radix codes over the features' sorted names), then renumbered
    densely over the groups that occur, in name order.
    """
    if not sensitive:
        raise FairnessInputError("give at least one sensitive feature")
    codes = np.zeros(length, dtype=np.int64)
    feature_names: list[np.ndarray] = []
    total = 1
    for feature, values in sensitive.items():
        feature_codes, names = _feature_codes(feature, values, length)
        total *= max(len(names), 1)
        if total >= MAX_GROUP_SPACE:
            raise FairnessInputError("the sensitive features have too many combinations of values to audit")
        codes = feature_codes if not feature_names else codes * len(names) + feature_codes
        feature_names.append(names)
    sizes = tuple(len(names) for names in feature_names)
    if total <= max(length, 1 << 16):
        # A count over the code space finds the groups present without sorting the rows.
        present = np.flatnonzero(np.bincount(codes, minlength=total))
        lookup = np.zeros(total, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        dense = lookup[codes]
    else:
        # Too many combinations to count over (many features of many values): sort instead.
        present, dense = np.unique(codes, return_inverse=True)
    parts = np.unravel_index(present, sizes)
    labels = [
        GROUP_SEPARATOR.join(str(feature_names[index][part[position]]) for index, part in enumerate(parts))
        for position in range(len(present))
    ]
    return dense.astype(np.int64, copy=False), labels


def confusion_counts(y_true: Any, y_pred: Any, sensitive: Mapping[str, Any]) -> ConfusionCounts:
    """Per-group confusion matrices in one vectorised count over (group, true label, prediction)."""
    truth = _binary("the true label", y_true)
    predicted = _binary("the prediction", y_pred)
    if len(truth) != len(predicted):
        raise FairnessInputError(f"the true label has {len(truth)} rows but the prediction {len(predicted)}")
    if len(truth) == 0:
        raise FairnessInputError("there are no rows")
    codes, names = group_codes(sensitive, len(truth))
    cells = np.bincount(codes * 4 + truth * 2 + predicted, minlength=len(names) * 4).reshape(len(names), 4)
    return ConfusionCounts(names, cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3])


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def rates(tn: np.ndarray, fp: np.ndarray, fn: np.ndarray, tp: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-group rate from the counts (works on arrays of any shape: groups, or samples × groups)."""
    n = tn + fp + fn + tp
    return {
        "selection_rate": _divide(tp + fp, n),
        "tpr": _divide(tp, tp + fn),
        "fpr": _divide(fp, fp + tn),
        "fnr": _divide(fn, tp + fn),
        "accuracy": _divide(tp + tn, n),
        "precision": _divide(tp, tp + fp),
    }


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max - min, min / max) over the last axis, ignoring undefined (NaN) groups."""
    # An all-undefined column ("All-NaN slice") is a legitimate outcome here, reported as NaN.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        high = np.nanmax(values, axis=-1)
        low = np.nanmin(values, axis=-1)
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1), np.where(high == 0, 1.0, np.nan))
    return high - low, ratio


def disparities(group_rates: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Differences and ratios between groups, over the last axis of each rate array."""
    sr_diff, sr_ratio = _spread(group_rates["selection_rate"])
    tpr_diff, tpr_ratio = _spread(group_rates["tpr"])
    fpr_diff, fpr_ratio = _spread(group_rates["fpr"])
    return {
        "demographic_parity_difference": sr_diff,
        "demographic_parity_ratio": sr_ratio,
        "equalized_odds_difference": np.fmax(tpr_diff, fpr_diff),
        "equalized_odds_ratio": np.fmin(tpr_ratio, fpr_ratio),
        "equal_opportunity_difference": tpr_diff,
    }


def _number(value: Any) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number


def audit(
    y_true: Any,
    y_pred: Any,
    sensitive: Mapping[str, Any],
    *,
    min_group_size: int = 30,
    bootstrap_samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> FairnessResult:
    """Audit predictions for group fairness; see the module docstring for the definitions."""
    if not 0 < confidence < 1:
        raise FairnessInputError("confidence must be between 0 and 1")
    counts = confusion_counts(y_true, y_pred, sensitive)
    group_rates = rates(counts.tn, counts.fp, counts.fn, counts.tp)
    all_disparities = disparities(group_rates)
    adequate = counts.n >= min_group_size
    adequate_disparities = (
        disparities({name: values[adequate] for name, values in group_rates.items()})
        if adequate.sum() >= 2
        else dict.fromkeys(DISPARITIES, np.array(np.nan))
    )
    total = rates(counts.tn.sum(), counts.fp.sum(), counts.fn.sum(), counts.tp.sum())
    by_group = {
        name: {
            "count": int(counts.n[index]),
            "tn": int(counts.tn[index]),
            "fp": int(counts.fp[index]),
            "fn": int(counts.fn[index]),
            "tp": int(counts.tp[index]),
            "small": bool(not adequate[index]),
            **{metric: _number(group_rates[metric][index]) for metric in RATE_METRICS},
        }
        for index, name in enumerate(counts.groups)
    }
    result = FairnessResult(
        sensitive_features=list(sensitive),
        overall={"count": int(counts.n.sum()), **{metric: _number(total[metric]) for metric in RATE_METRICS}},
        by_group=by_group,
        disparities={name: _number(value) for name, value in all_disparities.items()},
        disparities_adequate_groups={name: _number(value) for name, value in adequate_disparities.items()},
        small_groups=[name for index, name in enumerate(counts.groups) if not adequate[index]],
        min_group_size=min_group_size,
    )
    if bootstrap_samples > 0:
        result.intervals = bootstrap_intervals(counts, samples=bootstrap_samples, confidence=confidence, seed=seed)
    return result


def bootstrap_intervals(counts: ConfusionCounts, *, samples: int, confidence: float, seed: int) -> dict[str, Any]:
    """Percentile intervals of every per-group rate and every disparity under row resampling.

    Resampling N rows with replacement and counting cells is a multinomial draw over the cells with the
    observed proportions, so ``samples`` draws cost samples × cells, not samples × rows.
    """
    cells = np.stack([counts.tn, counts.fp, counts.fn, counts.tp], axis=1).ravel()
    total = int(cells.sum())
    generator = np.random.default_rng(seed)
    draws = generator.multinomial(total, cells / total, size=samples).reshape(samples, len(counts.groups), 4)
    sampled_rates = rates(draws[..., 0], draws[..., 1], draws[..., 2], draws[..., 3])
    sampled_disparities = disparities(sampled_rates)
    low_q, high_q = (1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100

    def interval(values: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanpercentile(values, [low_q, high_q], axis=0)

    per_group: dict[str, dict[str, list[float | None]]] = {name: {} for name in counts.groups}
    for metric in RATE_METRICS:
        bounds = interval(sampled_rates[metric])
        for index, name in enumerate(counts.groups):
            per_group[name][metric] = [_number(bounds[0][index]), _number(bounds[1][index])]
    return {
        "method": "percentile bootstrap (multinomial resampling of rows)",
        "samples": samples,
        "confidence": confidence,
        "seed": seed,
        "by_group": per_group,
        "disparities": {
            name: [_number(bound) for bound in interval(values)] for name, values in sampled_disparities.items()
        },
    }
