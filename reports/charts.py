"""SVG charts for the PDF reports.

The chart code is pure and is shared with the web pages, so it lives in ``core.charts`` (audits, below reports,
draws the same per-group charts on a model's dossier); this module keeps the names the reports import.
"""

from __future__ import annotations

from core.charts import (
    BAR,
    BAR_SMALL,
    FONT,
    GRID,
    INK,
    LABEL_CHARS,
    LINE_COLOURS,
    MUTED,
    WHISKER,
    GroupValue,
    Series,
    count_bar_chart,
    interval_bar_chart,
    trend_line_chart,
)

__all__ = [
    "BAR",
    "BAR_SMALL",
    "FONT",
    "GRID",
    "INK",
    "LABEL_CHARS",
    "LINE_COLOURS",
    "MUTED",
    "WHISKER",
    "GroupValue",
    "Series",
    "count_bar_chart",
    "interval_bar_chart",
    "trend_line_chart",
]
