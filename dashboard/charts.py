"""Geometry of the dashboard's charts, as plain numbers the templates draw as inline SVG.

Pure functions, no ORM: the charts are drawn on the server so the page reads without JavaScript and needs
no inline styles (SVG presentation attributes are not styles, so a strict Content-Security-Policy holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_CHART_WIDTH = 100.0  # bars are laid out in percent of the chart's width


@dataclass(frozen=True)
class Bar:
    """One labelled bar: its value, its length as a share of the longest bar, and where it links."""

    label: str
    value: int
    width: float
    url: str


def bars(rows: Sequence[tuple[str, int, str]]) -> list[Bar]:
    """Bars for (label, value, url) rows, scaled so the largest value fills the chart.

    A zero value still gets a hairline so the row is visibly present; an all-zero chart has only hairlines.
    """
    largest = max((value for _, value, _ in rows), default=0)
    result = []
    for label, value, url in rows:
        width = BAR_CHART_WIDTH * value / largest if largest else 0.0
        result.append(Bar(label=label, value=value, width=round(max(width, 0.5), 2), url=url))
    return result


@dataclass(frozen=True)
class TrendPoint:
    """One compliance sweep: when it ran and how the models the user may see stood."""

    run_id: int
    label: str
    compliant: int
    non_compliant: int
    exempt: int

    @property
    def assessed(self) -> int:
        return self.compliant + self.non_compliant

    @property
    def compliant_share(self) -> float | None:
        """Compliant models as a share of those assessed (exempt ones count for neither side)."""
        return self.compliant / self.assessed if self.assessed else None


@dataclass(frozen=True)
class Gridline:
    """A horizontal line across the plot at ``y``, labelled with the share it marks."""

    y: float
    label: str


@dataclass(frozen=True)
class AxisLabel:
    """A label under the plot at ``x``; ``anchor`` is the SVG ``text-anchor`` that keeps it inside the chart."""

    x: float
    label: str
    anchor: str


@dataclass(frozen=True)
class TrendChart:
    """A line of compliant share over sweeps, in an SVG viewBox of ``width`` × ``height``.

    The plot spans ``left``..``right`` and ``top``..``bottom``; the gutter on the left holds the share labels and
    the band under the plot the first and last sweeps' dates, so labels never overlap the line.
    """

    width: int
    height: int
    points: list[tuple[float, float, TrendPoint]]
    left: float = 0.0
    right: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    gridlines: tuple[Gridline, ...] = ()
    x_labels: tuple[AxisLabel, ...] = ()

    @property
    def polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _ in self.points)

    @property
    def latest(self) -> tuple[float, float, TrendPoint] | None:
        """The newest drawn sweep, whose share is written beside its point."""
        return self.points[-1] if self.points else None

    @property
    def latest_share_label(self) -> str:
        latest = self.latest
        share = latest[2].compliant_share if latest else None
        return f"{share:.0%}" if share is not None else ""


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    width: int = 600,
    height: int = 200,
    margin: int = 20,
    gutter: int = 0,
    band: int = 0,
) -> TrendChart:
    """Place each sweep left to right (oldest first) with its compliant share on a 0-100 % vertical axis.

    ``gutter`` widens the left margin for the share labels and ``band`` the bottom one for the sweep dates; the
    dashboard draws both, small embedded charts may leave them out. Sweeps that assessed nothing have no share
    and are left out of the line rather than drawn as 0 %.
    """
    drawable = [point for point in points if point.compliant_share is not None]
    left, right = margin + gutter, width - margin
    top, bottom = margin, height - margin - band
    span_x, span_y = right - left, bottom - top
    placed = []
    for index, point in enumerate(drawable):
        x = left + (span_x * index / (len(drawable) - 1) if len(drawable) > 1 else span_x / 2)
        share = point.compliant_share or 0.0
        y = top + span_y * (1 - share)
        placed.append((round(x, 2), round(y, 2), point))
    gridlines = tuple(Gridline(round(top + span_y * (1 - share), 2), f"{share:.0%}") for share in (1.0, 0.5, 0.0))
    x_labels: tuple[AxisLabel, ...] = ()
    if band and placed:
        first, last = placed[0], placed[-1]
        x_labels = (AxisLabel(first[0], first[2].label, "start" if len(placed) > 1 else "middle"),)
        if len(placed) > 1:
            x_labels += (AxisLabel(last[0], last[2].label, "end"),)
    return TrendChart(
        width=width,
        height=height,
        points=placed,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        gridlines=gridlines,
        x_labels=x_labels,
    )
