"""SVG charts built as plain text from plain numbers, shared by the web pages and the PDF reports.

Pure functions, no ORM and no Django, so every layer may use them (audits draws its per-group rates on the
model dossier, reports draws the same charts into its PDFs). The charts are inline SVG: in a page they need no
script and no inline ``style`` (colours are SVG attributes, and each element carries a class a stylesheet may
override), and in a PDF rendered by WeasyPrint the labels stay text (searchable, extractable by ``pdftotext``)
and lines stay sharp at any zoom. Every label is XML-escaped: group names come from uploaded evaluation data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "DejaVu Sans, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9dee3"
BAR = "#3e7cb1"
BAR_SMALL = "#9fb3c8"
WHISKER = "#102a43"
LINE_COLOURS = ("#2f855a", "#c53030", "#718096")
LABEL_CHARS = 24  # longer group names are cut with an ellipsis so the plot area keeps its width
# Font sizes in viewBox units. A chart is drawn 660 units wide: 1 unit is a CSS pixel on a page at its natural
# width and 0.75 pt in a PDF, so tick labels stay at 8 pt or more in print and about 10 px in a page column.
TITLE_SIZE = "13"
LABEL_SIZE = "12"
TICK_SIZE = "11"
CHAR_WIDTH = 7.1  # average width of a DejaVu Sans character at LABEL_SIZE, for cutting labels to their room


@dataclass(frozen=True)
class GroupValue:
    """One group's rate with its confidence interval (bounds None when unknown; value None when undefined)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    small: bool = False


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a name and one value per period (None where the period has no value)."""

    name: str
    values: Sequence[float | None]


def _text(value: str, limit: int = LABEL_CHARS) -> str:
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return escape(shown, quote=True)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" height="{_number(height)}" '
        f'viewBox="0 0 {_number(width)} {_number(height)}" font-family="{FONT}" class="chart" role="img" '
        f'aria-label="{escape(title, quote=True)}">' + "".join(body) + "</svg>"
    )


def interval_bar_chart(
    groups: Sequence[GroupValue],
    *,
    title: str,
    width: float = 660,
    row_height: float = 20,
    label_width: float = 170,
    maximum: float = 1.0,
) -> str:
    """Horizontal bars, one per group, on a 0..``maximum`` axis, with the interval drawn as a whisker.

    Groups too small to rank are drawn pale (and named so in the legend); an undefined rate gets no bar and the
    text "undefined", never a zero-length bar that would read as 0.
    """
    has_small = any(group.small for group in groups)
    # Room under the axis labels for the legend when a group is drawn pale.
    top, bottom = 22.0, 34.0 if has_small else 24.0
    plot_left, plot_right = label_width + 6, width - 44
    span = plot_right - plot_left
    axis = top + row_height * max(len(groups), 1)
    height = axis + bottom

    def x(value: float) -> float:
        return plot_left + span * min(max(value / maximum, 0.0), 1.0)

    body = [
        f'<text x="0" y="14" font-size="{TITLE_SIZE}" font-weight="bold" fill="{INK}">{escape(title)}</text>',
    ]
    for tick in range(0, 5):
        value = maximum * tick / 4
        tx = x(value)
        body.append(
            f'<line x1="{_number(tx)}" y1="{_number(top)}" x2="{_number(tx)}" y2="{_number(axis + 2)}" '
            f'stroke="{GRID}" stroke-width="0.6" class="chart__grid"/>'
            f'<text x="{_number(tx)}" y="{_number(axis + 13)}" font-size="{TICK_SIZE}" fill="{MUTED}" '
            f'text-anchor="middle">{_number(value * 100)}%</text>'
        )
    for index, group in enumerate(groups):
        y = top + index * row_height
        middle = y + row_height / 2
        body.append(
            f'<text x="{_number(label_width)}" y="{_number(middle + 3)}" font-size="{LABEL_SIZE}" fill="{INK}" '
            f'text-anchor="end">{_text(group.label)}</text>'
        )
        if group.value is None:
            body.append(
                f'<text x="{_number(plot_left + 2)}" y="{_number(middle + 3)}" font-size="{TICK_SIZE}" '
                f'fill="{MUTED}">undefined</text>'
            )
            continue
        bar_end = x(group.value)
        body.append(
            f'<rect x="{_number(plot_left)}" y="{_number(y + 4)}" width="{_number(max(bar_end - plot_left, 0.5))}" '
            f'height="{_number(row_height - 8)}" fill="{BAR_SMALL if group.small else BAR}" '
            f'class="{"chart__bar chart__bar--small" if group.small else "chart__bar"}"/>'
        )
        if group.low is not None and group.high is not None:
            low, high = x(group.low), x(group.high)
            body.append(
                f'<line x1="{_number(low)}" y1="{_number(middle)}" x2="{_number(high)}" y2="{_number(middle)}" '
                f'stroke="{WHISKER}" stroke-width="0.9" class="chart__whisker"/>'
                f'<line x1="{_number(low)}" y1="{_number(middle - 4)}" x2="{_number(low)}" '
                f'y2="{_number(middle + 4)}" stroke="{WHISKER}" stroke-width="0.9" class="chart__whisker"/>'
                f'<line x1="{_number(high)}" y1="{_number(middle - 4)}" x2="{_number(high)}" '
                f'y2="{_number(middle + 4)}" stroke="{WHISKER}" stroke-width="0.9" class="chart__whisker"/>'
            )
        body.append(
            f'<text x="{_number(plot_right + 4)}" y="{_number(middle + 3)}" font-size="{TICK_SIZE}" '
            f'fill="{INK}">{_number(group.value * 100)}%</text>'
        )
    if has_small:
        body.append(
            f'<rect x="{_number(plot_left)}" y="{_number(height - 8)}" width="8" height="6" fill="{BAR_SMALL}"/>'
            f'<text x="{_number(plot_left + 11)}" y="{_number(height - 2.5)}" font-size="{TICK_SIZE}" fill="{MUTED}">'
            "group too small to rank</text>"
        )
    return _svg(width, height, body, title)


def count_bar_chart(
    rows: Sequence[tuple[str, int]], *, title: str, width: float = 320, row_height: float = 18, label_width: float = 140
) -> str:
    """Horizontal bars of counts, scaled so the largest fills the plot; each bar carries its count."""
    top, bottom = 22.0, 6.0
    plot_left, plot_right = label_width + 6, width - 40
    largest = max((count for _, count in rows), default=0)
    height = top + bottom + row_height * max(len(rows), 1)
    body = [f'<text x="0" y="14" font-size="{TITLE_SIZE}" font-weight="bold" fill="{INK}">{escape(title)}</text>']
    for index, (label, count) in enumerate(rows):
        y = top + index * row_height
        middle = y + row_height / 2
        length = (plot_right - plot_left) * count / largest if largest else 0.0
        body.append(
            f'<text x="{_number(label_width)}" y="{_number(middle + 3)}" font-size="{LABEL_SIZE}" fill="{INK}" '
            f'text-anchor="end">{_text(label, int(label_width / CHAR_WIDTH))}</text>'
            f'<rect x="{_number(plot_left)}" y="{_number(y + 3)}" width="{_number(max(length, 0.5))}" '
            f'height="{_number(row_height - 6)}" fill="{BAR}"/>'
            f'<text x="{_number(plot_left + max(length, 0.5) + 4)}" y="{_number(middle + 3)}" font-size="{LABEL_SIZE}" '
            f'fill="{INK}">{count}</text>'
        )
    return _svg(width, height, body, title)


def trend_line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: float = 660,
    height: float = 190,
    maximum: float | None = None,
    percent: bool = False,
) -> str:
    """Lines over periods (oldest left), one per series, with a legend; a period without a value breaks the line.

    ``maximum`` fixes the vertical axis (1.0 with ``percent`` for shares); otherwise it fits the largest value.
    """
    left, right, top, bottom = 34.0, 10.0, 26.0, 30.0
    span_x, span_y = width - left - right, height - top - bottom
    values = [value for line in series for value in line.values if value is not None]
    ceiling = maximum if maximum is not None else max(max(values, default=0.0), 1.0)

    def x(index: int) -> float:
        return left + (span_x * index / (len(labels) - 1) if len(labels) > 1 else span_x / 2)

    def y(value: float) -> float:
        return top + span_y * (1 - min(max(value / ceiling, 0.0), 1.0))

    def tick_text(value: float) -> str:
        return f"{_number(value * 100)}%" if percent else _number(value)

    body = [f'<text x="0" y="14" font-size="{TITLE_SIZE}" font-weight="bold" fill="{INK}">{escape(title)}</text>']
    for tick in range(0, 5):
        value = ceiling * tick / 4
        ty = y(value)
        body.append(
            f'<line x1="{_number(left)}" y1="{_number(ty)}" x2="{_number(width - right)}" y2="{_number(ty)}" '
            f'stroke="{GRID}" stroke-width="0.6" class="chart__grid"/>'
            f'<text x="{_number(left - 3)}" y="{_number(ty + 2.5)}" font-size="{TICK_SIZE}" fill="{MUTED}" '
            f'text-anchor="end">{tick_text(value)}</text>'
        )
    # Label at most ~7 periods so the axis stays readable; the table next to the chart lists them all.
    step = max(1, -(-len(labels) // 7))
    for index, label in enumerate(labels):
        if index % step == 0 or index == len(labels) - 1:
            body.append(
                f'<text x="{_number(x(index))}" y="{_number(height - bottom + 11)}" font-size="{TICK_SIZE}" '
                f'fill="{MUTED}" text-anchor="middle">{_text(label, 14)}</text>'
            )
    for number, line in enumerate(series):
        colour = LINE_COLOURS[number % len(LINE_COLOURS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for index, point_value in enumerate(line.values):
            if point_value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            point = f"{_number(x(index))},{_number(y(point_value))}"
            segment.append(point)
            body.append(f'<circle cx="{_number(x(index))}" cy="{_number(y(point_value))}" r="1.8" fill="{colour}"/>')
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.4"/>')
        legend_x = left + number * 150
        body.append(
            f'<rect x="{_number(legend_x)}" y="{_number(height - 10)}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{_number(legend_x + 13)}" y="{_number(height - 6.5)}" font-size="{TICK_SIZE}" '
            f'fill="{INK}">{escape(line.name)}</text>'
        )
    if not labels:
        body.append(
            f'<text x="{_number(width / 2)}" y="{_number(height / 2)}" font-size="{LABEL_SIZE}" fill="{MUTED}" '
            'text-anchor="middle">No data yet</text>'
        )
    return _svg(width, height, body, title)
