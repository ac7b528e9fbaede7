"""Reads of the audits app: evaluation datasets and audit runs the user may see, and run comparisons."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from audits.choices import AuditKind
from audits.models import AuditRun, EvaluationDataset
from core.permissions import restrict

COMPARED_RATES = ("selection_rate", "tpr", "fpr", "accuracy")


def evaluation_dataset_queryset(*, user: Any) -> QuerySet[EvaluationDataset]:
    """Datasets of the model versions the user may see."""
    return restrict(user, "view", EvaluationDataset.objects.all()).select_related(
        "version", "version__model", "created_by"
    )


def audit_run_queryset(*, user: Any) -> QuerySet[AuditRun]:
    """Audit runs of the models the user may see."""
    return restrict(user, "view", AuditRun.objects.all()).select_related("model", "version", "dataset", "requested_by")


def _difference(a: Any, b: Any) -> float | None:
    return b - a if isinstance(a, int | float) and isinstance(b, int | float) else None


def results_compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Per analysis (sensitive feature or intersection) present in both results: each disparity, the overall rates
    and the rates of groups present in both, as ``{"a", "b", "difference"}`` with difference = b − a."""
    compared: dict[str, Any] = {}
    analyses_a, analyses_b = a.get("analyses", {}), b.get("analyses", {})
    for name in [name for name in analyses_a if name in analyses_b]:
        first, second = analyses_a[name], analyses_b[name]
        disparities = {
            metric: {"a": value, "b": second["disparities"].get(metric), "difference": None}
            for metric, value in first["disparities"].items()
        }
        for item in disparities.values():
            item["difference"] = _difference(item["a"], item["b"])
        overall = {
            metric: {
                "a": first["overall"].get(metric),
                "b": second["overall"].get(metric),
                "difference": _difference(first["overall"].get(metric), second["overall"].get(metric)),
            }
            for metric in COMPARED_RATES
        }
        groups = {
            group: {
                metric: {
                    "a": values.get(metric),
                    "b": second["by_group"][group].get(metric),
                    "difference": _difference(values.get(metric), second["by_group"][group].get(metric)),
                }
                for metric in ("count", *COMPARED_RATES)
            }
            for group, values in first["by_group"].items()
            if group in second["by_group"]
        }
        compared[name] = {"disparities": disparities, "overall": overall, "by_group": groups}
    return compared


def audit_run_compare(*, user: Any, a: Any, b: Any) -> dict[str, Any]:
    """Two finished bias audits the user may see, compared; a 400 naming the problem otherwise."""
    runs = audit_run_queryset(user=user)
    found = {}
    for key, value in (("a", a), ("b", b)):
        try:
            run_id = int(value)
        except (TypeError, ValueError):
            raise ValidationError({key: ["Give the id of an audit run."]}) from None
        run = runs.filter(pk=run_id, kind=AuditKind.BIAS).first()
        if run is None:
            raise ValidationError({key: [f"Bias audit run {run_id} does not exist."]})
        if not run.result:
            raise ValidationError({key: [f"Audit run {run_id} has no result ({run.get_status_display().lower()})."]})
        found[key] = run
    return {
        "a": found["a"],
        "b": found["b"],
        "analyses": results_compare(found["a"].result, found["b"].result),
    }
