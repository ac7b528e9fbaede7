"""The Audits tab of a model's dossier: per-group charts of a bias audit and the runs offered for comparison.

The charts are server-rendered inline SVG from ``core.charts`` (pure, shared with the PDF reports), built from the
figures stored with a run, so the page needs no script. Colours are SVG attributes and elements carry classes,
never an inline ``style``, so a strict Content Security Policy can forbid inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from audits.choices import RATE_METRICS, RunStatus
from audits.models import AuditRun
from core.charts import GroupValue, interval_bar_chart

if TYPE_CHECKING:
    from audits.views import Analysis

# The rates the dossier draws per group: who is selected, and the two error rates an audit reads first.
CHART_METRICS = {"selection_rate": "Selection rate", "tpr": "True positive rate", "fpr": "False positive rate"}
# Runs that finished with figures (an errored run has none to draw or compare).
WITH_FIGURES = (RunStatus.PASSED, RunStatus.FAILED)
# Finished runs offered in the "compare two runs" form; older ones are still reachable by id on the compare page.
COMPARE_CHOICES_MAX = 50

# The dossier draws its charts narrower than a PDF page (660): in a page column they are scaled up, so their labels
# read at about the size of the text around them.
WEB_CHART_WIDTH = 500


@dataclass(frozen=True)
class Chart:
    """One metric of one analysis drawn as bars with whiskers, and the text the chart stands for."""

    metric: str
    label: str
    svg: SafeString
    caption: str


@dataclass(frozen=True)
class AnalysisCharts:
    """One sensitive feature (or intersection) of a run: its charts and the groups too small to rank."""

    name: str
    charts: list[Chart]
    small_groups: list[str]
    min_group_size: int


def analysis_charts(analyses: Sequence[Analysis]) -> list[AnalysisCharts]:
    """Selection rate, TPR and FPR per group with 95% interval whiskers, one chart per metric and analysis.

    Groups too small to rank are drawn pale and listed, so a wide interval is not read as a finding.
    """
    charted = []
    for analysis in analyses:
        charts = []
        for metric, label in CHART_METRICS.items():
            index = RATE_METRICS.index(metric)
            groups = [
                GroupValue(
                    label=group.name,
                    value=group.figures[index].value,
                    low=group.figures[index].low,
                    high=group.figures[index].high,
                    small=group.small,
                )
                for group in analysis.groups
            ]
            title = f"{label} by {analysis.name}, with 95% interval"
            # core.charts escapes every label and title it writes, so its output is safe markup.
            svg = mark_safe(interval_bar_chart(groups, title=title, width=WEB_CHART_WIDTH))  # noqa: S308 - core.charts escapes all text  # nosec B308 B703
            caption = "; ".join(
                f"{group.label}: {_percent(group.value)}"
                + (f" ({_percent(group.low)}–{_percent(group.high)})" if group.low is not None else "")
                for group in groups
            )
            charts.append(Chart(metric=metric, label=label, svg=svg, caption=caption))
        charted.append(
            AnalysisCharts(
                name=analysis.name,
                charts=charts,
                small_groups=list(analysis.small_groups),
                min_group_size=analysis.min_group_size,
            )
        )
    return charted


def _percent(value: float | None) -> str:
    return "undefined" if value is None else f"{value * 100:.1f}%"


def latest_finished_run(runs: QuerySet[AuditRun]) -> AuditRun | None:
    """The newest run of ``runs`` that finished with stored figures (the one the Audits tab draws)."""
    return runs.filter(status__in=WITH_FIGURES).exclude(result={}).order_by("-finished_at", "-id").first()


def compare_choices(runs: QuerySet[AuditRun]) -> list[AuditRun]:
    """Finished runs of ``runs`` a user can pick for "compare two runs", newest first."""
    return list(runs.filter(status__in=WITH_FIGURES).order_by("-requested_at", "-id")[:COMPARE_CHOICES_MAX])
