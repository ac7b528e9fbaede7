"""core.charts: the pure SVG chart builders shared by the dossier and the PDF reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import reports.charts
from core import charts
from core.charts import GroupValue, Series, count_bar_chart, interval_bar_chart, trend_line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    # The SVG is the chart builder's own output, not untrusted input.
    return ET.fromstring(svg)  # noqa: S314


def test_reports_use_the_core_charts() -> None:
    assert reports.charts.interval_bar_chart is charts.interval_bar_chart
    assert reports.charts.GroupValue is charts.GroupValue
    assert reports.charts.trend_line_chart is charts.trend_line_chart


def test_interval_chart_draws_bars_whiskers_and_pale_small_groups_without_inline_style() -> None:
    svg = interval_bar_chart(
        [
            GroupValue("female", 0.5, 0.4, 0.6),
            GroupValue("male", 0.25, 0.2, 0.3),
            GroupValue("other", 0.1, 0.0, 0.5, small=True),
            GroupValue("unknown", None),
        ],
        title="Selection rate by sex",
    )
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "Selection rate by sex"
    assert "style=" not in svg
    bars = [rect for rect in root.iter(f"{SVG}rect") if "chart__bar" in (rect.get("class") or "")]
    # The undefined rate gets no bar (a zero-length bar would read as 0), and says so.
    assert len(bars) == 3
    assert [bar.get("class") for bar in bars].count("chart__bar chart__bar--small") == 1
    widths = [float(bar.get("width") or 0) for bar in bars]
    assert widths[0] == 2 * widths[1]
    whiskers = [line for line in root.iter(f"{SVG}line") if line.get("class") == "chart__whisker"]
    assert len(whiskers) == 9  # three per interval: the span and its two caps
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "undefined" in texts and "group too small to rank" in texts and "50%" in texts


def test_labels_from_uploaded_data_are_escaped_and_shortened() -> None:
    svg = interval_bar_chart([GroupValue('<script>"x"</script> and a very long group name', 0.3)], title="<b>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    label = next(text.text for text in parse(svg).iter(f"{SVG}text") if text.text and "script" in text.text)
    assert label.endswith("…") and len(label) == charts.LABEL_CHARS


def test_out_of_range_values_stay_inside_the_plot() -> None:
    root = parse(interval_bar_chart([GroupValue("a", 1.7, -0.2, 2.0)], title="t", width=400, label_width=100))
    bar = next(rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "chart__bar")
    assert float(bar.get("x") or 0) + float(bar.get("width") or 0) <= 400 - 44


def test_count_and_trend_charts() -> None:
    counts = parse(count_bar_chart([("Tier 1", 4), ("Tier 2", 2), ("Tier 3", 0)], title="By tier"))
    assert [text.text for text in counts.iter(f"{SVG}text")][-1] == "0"
    trend = trend_line_chart(["Jan", "Feb", "Mar"], [Series("compliant", [0.5, None, 0.75])], title="T", percent=True)
    # The missing February breaks the line: two lone points and no polyline.
    assert "<polyline" not in trend and trend.count("<circle") == 2
    assert "No data yet" in trend_line_chart([], [], title="empty")
