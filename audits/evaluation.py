"""Reading and validating evaluation tables: a CSV or Parquet file and its column mapping in, audit-ready arrays out.

No database here. Every refusal is an :class:`EvaluationDataError` naming the problem and the field it concerns
(``file`` for the bytes, ``mapping`` for the columns), so the service can answer a 400 that says what to fix
before anything is stored. A Parquet file (read with pyarrow) is turned into the same text columns a CSV gives,
a null becoming an empty cell, so both formats pass through one validation and refuse the same problems.

numpy, pandas and pyarrow are imported by the functions that read a table, not with the module: services import this
module for its errors and mapping checks, and every web and worker process imports the services when it starts
(tests/test_startup_imports.py).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAPPING_KEYS = frozenset({"label", "prediction", "score", "threshold", "positive_label", "sensitive", "controls"})
TRUE_VALUES = frozenset({"1", "1.0", "true"})
FALSE_VALUES = frozenset({"0", "0.0", "false"})
PARQUET_MAGIC = b"PAR1"
CSV = "csv"
PARQUET = "parquet"
# What exports write for a missing value; a group called "NaN" is a missing value, not a group.
MISSING_MARKERS = frozenset({"nan", "null", "none", "na", "n/a"})
# Separators people export by mistake (spreadsheet locales, TSV); named in the message when the header holds one.
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}
# Widest header accepted. pandas builds one object per column before any check can run, so a header of a million
# columns would cost the web process that much work on every upload; it is refused from the header line alone.
MAX_CSV_COLUMNS = 10_000


class EvaluationDataError(ValueError):
    """The file or mapping cannot be audited. ``field`` is ``file`` or ``mapping``; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns hold the true label, the prediction (or a score and its threshold) and the groups."""

    label: str
    sensitive: list[str]
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    positive_label: str | None = None
    controls: list[str] = field(default_factory=list)

    @property
    def used_columns(self) -> list[str]:
        """The columns the audit reads, in mapping order, each once."""
        names = [self.label, self.prediction or self.score, *self.sensitive]
        return list(dict.fromkeys(name for name in names if name))

    def as_dict(self) -> dict[str, Any]:
        """The mapping as stored: only the keys that were given."""
        document: dict[str, Any] = {"label": self.label, "sensitive": self.sensitive}
        optional = {
            "prediction": self.prediction,
            "score": self.score,
            "threshold": self.threshold,
            "positive_label": self.positive_label,
        }
        document.update({key: value for key, value in optional.items() if value is not None})
        if self.controls:
            document["controls"] = self.controls
        return document


@dataclass(frozen=True)
class EvaluationTable:
    """What :func:`audits.fairness.audit` takes: binary labels and predictions, and group columns by name."""

    y_true: np.ndarray
    y_pred: np.ndarray
    sensitive: dict[str, np.ndarray]
    columns: list[str]
    rows: int


def _column_name(raw: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise EvaluationDataError("mapping", f"'{key}' must name a column (text).")
    return value.strip()


def _column_list(raw: Mapping[str, Any], key: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise EvaluationDataError("mapping", f"'{key}' must be a list of column names.")
    names = [item.strip() for item in value]
    if len(set(names)) != len(names):
        raise EvaluationDataError("mapping", f"'{key}' names a column twice.")
    return names


def mapping_clean(raw: Any) -> ColumnMapping:
    """Check the shape of a column mapping (not yet against a file)."""
    if not isinstance(raw, Mapping):
        raise EvaluationDataError("mapping", 'Give the mapping as an object, e.g. {"label": ..., "sensitive": [...]}.')
    unknown = sorted(set(raw) - MAPPING_KEYS)
    if unknown:
        raise EvaluationDataError(
            "mapping", f"Unknown key(s): {', '.join(unknown)}; known: {', '.join(sorted(MAPPING_KEYS))}."
        )
    label = _column_name(raw, "label", required=True)
    assert label is not None
    prediction = _column_name(raw, "prediction", required=False)
    score = _column_name(raw, "score", required=False)
    threshold = raw.get("threshold")
    if prediction is None and score is None:
        raise EvaluationDataError("mapping", "Name a 'prediction' column, or a 'score' column with a 'threshold'.")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold)
    ):
        raise EvaluationDataError("mapping", "'threshold' must be a number.")
    if prediction is None and threshold is None:
        raise EvaluationDataError("mapping", "A 'score' column without a 'prediction' column needs a 'threshold'.")
    positive = raw.get("positive_label")
    if positive is not None and (not isinstance(positive, str | int) or isinstance(positive, bool)):
        raise EvaluationDataError("mapping", "'positive_label' must be the label's value as text.")
    sensitive = _column_list(raw, "sensitive")
    if not sensitive:
        raise EvaluationDataError("mapping", "Name at least one 'sensitive' column.")
    mapping = ColumnMapping(
        label=label,
        sensitive=sensitive,
        prediction=prediction,
        score=score,
        threshold=float(threshold) if threshold is not None else None,
        positive_label=str(positive).strip() if positive is not None else None,
        controls=_column_list(raw, "controls"),
    )
    roles = [label, prediction or score, *sensitive]
    if len(set(roles)) != len(roles):
        raise EvaluationDataError("mapping", "The label, prediction and sensitive columns must be different columns.")
    return mapping


def detect_format(name: str, content: bytes) -> str:
    """``parquet`` for a file named ``.parquet`` or starting with Parquet's magic bytes, otherwise ``csv``."""
    if name.lower().endswith(f".{PARQUET}") or content.startswith(PARQUET_MAGIC):
        return PARQUET
    return CSV


def decode_csv(content: bytes) -> str:
    """The file as text, if it is UTF-8 and not absurdly wide; otherwise a message saying what is wrong."""
    if content.startswith(PARQUET_MAGIC):
        raise EvaluationDataError("file", "This is a Parquet file, not a CSV: read it as Parquet.")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EvaluationDataError("file", "The file is UTF-16 encoded; save it as UTF-8 CSV.")
    if b"\x00" in content[:65536]:
        raise EvaluationDataError(
            "file", "The file contains NUL bytes: it is binary or UTF-16/UTF-32 text, not a UTF-8 CSV."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EvaluationDataError(
            "file",
            f"The file is not UTF-8 text (byte 0x{content[error.start]:02x} at position {error.start}); "
            "save it as UTF-8 CSV.",
        ) from None
    # Commas inside quoted names count too: an upper bound is enough to refuse before parsing.
    columns = text.partition("\n")[0].count(",") + 1
    if columns > MAX_CSV_COLUMNS:
        raise EvaluationDataError("file", f"The header has {columns} columns; at most {MAX_CSV_COLUMNS} are accepted.")
    return text


def _read_frame(text: str, mapping: ColumnMapping) -> pd.DataFrame:
    import pandas as pd

    try:
        # Everything as text, nothing turned into NaN behind our back: empty cells are found and named below.
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise EvaluationDataError("file", "The file is empty.") from None
    except pd.errors.ParserError as error:
        raise EvaluationDataError("file", f"The file is not a well-formed CSV: {error}".strip()) from None
    columns = [str(name).strip() for name in frame.columns]
    frame.columns = pd.Index(columns)
    if len(columns) == 1 and len(mapping.used_columns) > 1:
        header = columns[0]
        found = next((name for sign, name in OTHER_DELIMITERS.items() if sign in header), None)
        cause = f"it seems to be separated by {found}, not commas" if found else "it does not seem comma-separated"
        raise EvaluationDataError(
            "file",
            f"Found a single column {header[:80]!r} where the mapping names {len(mapping.used_columns)}: "
            f"{cause}. Save it as a comma-separated CSV.",
        )
    return frame


def _read_parquet(content: bytes, mapping: ColumnMapping) -> pd.DataFrame:
    """The Parquet file as a frame whose audited columns are text as a CSV gives them (a null is an empty cell)."""
    import pandas as pd
    import pyarrow as pa

    if not content.startswith(PARQUET_MAGIC):
        raise EvaluationDataError(
            "file", "The file is named .parquet but is not a Parquet file (it does not start with 'PAR1')."
        )
    try:
        frame = pd.read_parquet(io.BytesIO(content), engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as error:
        raise EvaluationDataError("file", f"The Parquet file cannot be read (corrupt or truncated?): {error}") from None
    frame.columns = pd.Index([str(name).strip() for name in frame.columns])
    for name in mapping.used_columns:
        if name in frame.columns:
            values = frame[name]
            frame[name] = values.astype(object).where(values.notna(), "").map(str)
    return frame


def _binary_column(values: pd.Series, name: str, role: str, positive: str | None) -> np.ndarray:
    import numpy as np

    cleaned = values.str.strip()
    distinct = set(cleaned.unique().tolist())
    if positive is not None:
        if positive not in distinct or len(distinct) > 2:
            shown = ", ".join(sorted(distinct)[:5])
            raise EvaluationDataError(
                "mapping",
                f"The {role} column '{name}' must hold two values, one of them the positive label {positive!r}; "
                f"found {shown}.",
            )
        return (cleaned == positive).to_numpy(dtype=np.int64)
    lowered = cleaned.str.lower()
    distinct = set(lowered.unique().tolist())
    if not distinct <= TRUE_VALUES | FALSE_VALUES:
        shown = ", ".join(sorted(distinct, key=str)[:5])
        raise EvaluationDataError(
            "mapping",
            f"The {role} column '{name}' must be binary (0/1 or true/false, or declare 'positive_label'); "
            f"found {shown}.",
        )
    return lowered.isin(TRUE_VALUES).to_numpy(dtype=np.int64)


def _predictions(frame: pd.DataFrame, mapping: ColumnMapping) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if mapping.prediction is not None:
        return _binary_column(frame[mapping.prediction], mapping.prediction, "prediction", mapping.positive_label)
    assert mapping.score is not None
    assert mapping.threshold is not None
    scores = pd.to_numeric(frame[mapping.score].str.strip(), errors="coerce")
    bad = scores.isna() | ~np.isfinite(scores.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise EvaluationDataError(
            "mapping",
            f"The score column '{mapping.score}' must hold numbers; row {row + 2} holds "
            f"{frame[mapping.score].iloc[row][:40]!r}.",
        )
    # A score at the threshold counts as positive, as scikit-learn's predict does for probability 0.5.
    return (scores.to_numpy(dtype=float) >= mapping.threshold).astype(np.int64)


def read_table(content: bytes, mapping: ColumnMapping, *, max_bytes: int, file_format: str = CSV) -> EvaluationTable:
    """Decode, parse and validate ``content`` (``csv`` or ``parquet``) against ``mapping``; arrays for the audit."""
    import numpy as np

    if len(content) > max_bytes:
        raise EvaluationDataError("file", f"The file has {len(content)} bytes; the limit is {max_bytes}.")
    frame = _read_parquet(content, mapping) if file_format == PARQUET else _read_frame(decode_csv(content), mapping)
    missing = [name for name in [*mapping.used_columns, *mapping.controls] if name not in frame.columns]
    if missing:
        available = ", ".join(list(frame.columns)[:20])
        raise EvaluationDataError("mapping", f"Missing column(s): {', '.join(missing)}. The file has: {available}.")
    if frame.empty:
        raise EvaluationDataError("file", "The file has a header but no rows.")
    for name in mapping.used_columns:
        empty = frame[name].str.strip() == ""
        if empty.any():
            first = int(np.flatnonzero(empty.to_numpy())[0])
            raise EvaluationDataError(
                "file",
                f"Column '{name}' has {int(empty.sum())} empty or missing value(s) (first at line {first + 2}); "
                "every row needs a value in the columns the audit uses.",
            )
        if frame[name].str.strip().str.lower().isin(MISSING_MARKERS).any():
            raise EvaluationDataError("file", f"Column '{name}' holds missing values (NaN, NULL or NA).")
    y_true = _binary_column(frame[mapping.label], mapping.label, "label", mapping.positive_label)
    y_pred = _predictions(frame, mapping)
    sensitive: dict[str, np.ndarray] = {}
    for name in mapping.sensitive:
        values = frame[name].str.strip()
        groups = sorted(values.unique().tolist())
        if len(groups) < 2:
            raise EvaluationDataError(
                "file", f"Sensitive column '{name}' has a single group ({groups[0]!r}): there is nothing to compare."
            )
        sensitive[name] = values.to_numpy(dtype=object)
    return EvaluationTable(
        y_true=y_true, y_pred=y_pred, sensitive=sensitive, columns=list(frame.columns), rows=len(frame)
    )
