"""Timing helpers, the printed table and the JSON report shared by every benchmark."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Measurement:
    """One timed case: its wall-clock seconds per run (after the warm-up), the parameters it ran with, and for a
    request the database queries it made (``None`` where queries are not counted)."""

    group: str
    name: str
    seconds: list[float]
    params: dict[str, Any] = field(default_factory=dict)
    queries: int | None = None

    @property
    def median(self) -> float:
        """Median seconds over the runs."""
        return float(np.median(self.seconds))

    @property
    def p95(self) -> float:
        """95th percentile (linear interpolation) of the runs' seconds."""
        return float(np.percentile(self.seconds, 95))

    @property
    def max(self) -> float:
        """The slowest run."""
        return float(np.max(self.seconds))

    def as_dict(self) -> dict[str, Any]:
        """The measurement with its summary statistics, for the JSON report."""
        return {**asdict(self), "runs": len(self.seconds), "median": self.median, "p95": self.p95, "max": self.max}


def timed(function: Callable[[], Any], *, runs: int, warmup: int = 1) -> list[float]:
    """Call ``function`` ``warmup`` times untimed, then ``runs`` times; the seconds of each timed call."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


def table(measurements: list[Measurement], ratios: dict[str, float], figures: dict[str, Any] | None = None) -> str:
    """A fixed-width table of median / p95 / max (and queries) per case, then the ratios and other figures."""
    header = f"{'group':<10} {'case':<52} {'runs':>4} {'median s':>9} {'p95 s':>9} {'max s':>9} {'queries':>7}"
    lines = [header, "-" * len(header)]
    for item in measurements:
        queries = "" if item.queries is None else str(item.queries)
        lines.append(
            f"{item.group:<10} {item.name[:52]:<52} {len(item.seconds):>4} "
            f"{item.median:>9.4f} {item.p95:>9.4f} {item.max:>9.4f} {queries:>7}"
        )
    if ratios:
        lines.append("")
        lines.extend(f"{name}: {value:.1f}×" for name, value in ratios.items())
    if figures:
        lines.append("")
        # Names starting with "_" hold structured detail for the JSON report only.
        lines.extend(f"{name}: {_figure(value)}" for name, value in figures.items() if not name.startswith("_"))
    return "\n".join(lines)


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_json(
    directory: Path,
    *,
    settings: dict[str, Any],
    measurements: list[Measurement],
    ratios: dict[str, float],
    figures: dict[str, Any] | None = None,
) -> Path:
    """Write the report to ``directory/<UTC timestamp>.json`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    path = directory / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    document = {
        "created_at": now.isoformat(),
        "machine": machine(),
        "settings": settings,
        "measurements": [item.as_dict() for item in measurements],
        "ratios": ratios,
        "figures": figures or {},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
