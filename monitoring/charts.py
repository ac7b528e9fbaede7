"""Chart data of the monitoring pages: a metric's series against its target, drawn with ``core.charts``.

Pure: plain observations in, SVG text out, so the page and any report draw the same picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.charts import Series, trend_line_chart

WINDOW_LABEL = "%m-%d"


def metric_chart(metric: str, points: Sequence[tuple[str, float]], bounds: Mapping[str, float] | None) -> str:
    """The metric's values by window (oldest left) with its target's min and max as flat lines."""
    labels = [label for label, _ in points]
    values = [value for _, value in points]
    series = [Series(name=metric, values=values)]
    for key in ("min", "max"):
        if bounds and key in bounds:
            series.append(Series(name=f"target {key} {bounds[key]:g}", values=[bounds[key]] * len(points)))
    ceiling = max([*values, *(bounds or {}).values(), 0.0])
    share = ceiling <= 1.0
    return trend_line_chart(
        labels,
        series,
        title=metric,
        maximum=1.0 if share else ceiling * 1.1,
        percent=share,
    )
