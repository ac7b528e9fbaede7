"""Audits pages: a model's evaluation data and bias audits, one run's figures, two runs compared, every run,
and the schedules.

Views only translate HTTP, as in governance: reads come from the audits selectors (an object the user may not
see is a 404), writes are one service call, a service's ValidationError is shown on the form that was sent
(status 400) and its PermissionDenied is the 403 page with the service's message. A form view asks the service's
permission check before it reads the form, so a refused user gets the 403 page whatever they sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audits import scheduling, selectors, services
from audits.choices import RATE_METRICS, AuditKind
from audits.filtersets import AuditRunFilterSet
from audits.forms import CompareForm, EvaluationUploadForm, ScheduleForm
from audits.models import AuditRun
from audits.views_dossier import analysis_charts, compare_choices, latest_finished_run
from inventory.forms import add_service_errors
from inventory.models import RegisteredModel
from inventory.selectors import model_version_queryset, registered_model_get
from inventory.views import page_size, signed_in

MODEL_PAGE_RUNS = 50
METRIC_LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "accuracy": "Accuracy",
    "precision": "Precision",
}


@dataclass(frozen=True)
class Figure:
    """A rate with its bootstrap interval (bounds are None when the rate is undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class GroupRow:
    """One group of an analysis: its size, whether it is too small to rank, and its rates."""

    name: str
    count: int
    small: bool
    figures: list[Figure]


@dataclass(frozen=True)
class Analysis:
    """One sensitive feature (or intersection) of a run, shaped for a table."""

    name: str
    verdicts: list[tuple[str, dict[str, Any]]]
    disparities: list[tuple[str, float | None, list[Any]]]
    groups: list[GroupRow]
    small_groups: list[str]
    min_group_size: int


def _analyses(result: dict[str, Any]) -> list[Analysis]:
    """The stored result's analyses, in the order they were computed, with each rate next to its interval."""
    analyses = []
    for name, figures in result.get("analyses", {}).items():
        intervals = figures.get("intervals", {})
        group_intervals = intervals.get("by_group", {})
        groups = [
            GroupRow(
                name=group,
                count=values["count"],
                small=values.get("small", False),
                figures=[
                    Figure(values.get(metric), *(group_intervals.get(group, {}).get(metric) or [None, None]))
                    for metric in RATE_METRICS
                ],
            )
            for group, values in figures["by_group"].items()
        ]
        disparity_intervals = intervals.get("disparities", {})
        analyses.append(
            Analysis(
                name=name,
                verdicts=list(figures.get("verdicts", {}).items()),
                disparities=[
                    (metric, value, disparity_intervals.get(metric) or [None, None])
                    for metric, value in figures["disparities"].items()
                ],
                groups=groups,
                small_groups=figures.get("small_groups", []),
                min_group_size=figures.get("min_group_size", 0),
            )
        )
    return analyses


def _upload_form(request: HttpRequest, model: RegisteredModel, data: Any = None, files: Any = None) -> Any:
    versions = model_version_queryset(user=signed_in(request)).filter(model=model).order_by("-created_at", "-id")
    return EvaluationUploadForm(data, files, versions=versions)


def _model_page(request: HttpRequest, model: RegisteredModel, form: Any, status: int = 200) -> HttpResponse:
    user = signed_in(request)
    datasets = selectors.evaluation_dataset_queryset(user=user).filter(version__model=model)
    runs = selectors.audit_run_queryset(user=user).filter(model=model, kind=AuditKind.BIAS)
    context = {
        "model": model,
        "datasets": datasets,
        "runs": runs[:MODEL_PAGE_RUNS],
        "run_count": runs.count(),
        "may_audit": form is not None,
        "form": form,
    }
    latest = latest_finished_run(runs)
    context |= {
        "latest_run": latest,
        "charts": analysis_charts(_analyses(latest.result)) if latest else [],
        "compare_runs": compare_choices(runs),
    }
    return render(request, "audits/model_audits.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_audits(request: HttpRequest, key: str) -> HttpResponse:
    """A model's evaluation data and bias audits; its owners, Risk Officers and validators upload data here."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    if request.method != "POST":
        # The same check the services make: who may store data and request audits is offered the form.
        return _model_page(request, model, _upload_form(request, model) if services.may_audit(user, model) else None)
    # A 403 before the upload is read for whoever may not store data here, whatever the form holds.
    services.require_evaluation_dataset_create(user, model)
    form = _upload_form(request, model, request.POST, request.FILES)
    if form.is_valid():
        try:
            dataset = services.evaluation_dataset_create(
                actor=user,
                version=form.cleaned_data["version"],
                name=form.cleaned_data["name"],
                mapping=form.mapping(),
                **form.source(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Evaluation data stored: {dataset.row_count} rows, SHA-256 {dataset.sha256}.")
            return redirect("audits:model", key=model.key)
    return _model_page(request, model, form, status=400)


@login_required
@require_POST
def dataset_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """Request a bias audit of a dataset; a worker runs it and the run page shows its progress."""
    user = signed_in(request)
    dataset = get_object_or_404(selectors.evaluation_dataset_queryset(user=user), pk=pk)
    try:
        run = services.bias_audit_request(actor=user, dataset=dataset)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect("audits:model", key=dataset.version.model.key)
    messages.success(request, f"Bias audit #{run.pk} queued; a worker runs it.")
    return redirect("audits:run", pk=run.pk)


@login_required
@require_safe
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: status, verdicts against the policy, per-group figures with intervals, and its provenance."""
    run = get_object_or_404(selectors.audit_run_queryset(user=signed_in(request)), pk=pk)
    analyses = _analyses(run.result)
    context = {
        "run": run,
        "analyses": analyses,
        "charts": analysis_charts(analyses),
        "metric_labels": [METRIC_LABELS[metric] for metric in RATE_METRICS],
        "finished": run.finished_at is not None,
    }
    return render(request, "audits/run_detail.html", context)


@login_required
@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    """Every run the user may see, newest first, filtered by status (the API's FilterSet)."""
    filterset = AuditRunFilterSet(request.GET, queryset=selectors.audit_run_queryset(user=signed_in(request)))
    form = filterset.form
    form.fields["status"].widget = forms.CheckboxSelectMultiple(choices=form.fields["status"].choices)
    valid = filterset.is_valid()
    rows = filterset.qs if valid else AuditRun.objects.none()
    page = Paginator(rows, page_size(request.GET.get("per_page"))).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "filters_valid": valid,
        "may_manage_schedules": scheduling.may_manage_schedules(request.user),
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }
    return render(request, "audits/run_list.html", context, status=200 if valid else 400)


@login_required
@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    """Two finished bias audits side by side, with b − a for every figure present in both."""
    user = signed_in(request)
    asked = "a" in request.GET or "b" in request.GET
    form = CompareForm(request.GET if asked else None)
    comparison = None
    if asked and form.is_valid():
        try:
            comparison = selectors.audit_run_compare(user=user, a=form.cleaned_data["a"], b=form.cleaned_data["b"])
        except ValidationError as error:
            add_service_errors(form, error)
    status = 400 if asked and comparison is None else 200
    return render(request, "audits/compare.html", {"form": form, "comparison": comparison}, status=status)


@login_required
@require_safe
def schedules(request: HttpRequest) -> HttpResponse:
    """The portal's beat schedules, for Risk Officers: pause, resume or run one now."""
    tasks = scheduling.periodic_task_queryset(user=signed_in(request))
    return render(request, "audits/schedules.html", {"tasks": tasks})


def _schedule_initial(task: Any) -> dict[str, Any]:
    """The form's values for the schedule as it is now."""
    minutes = scheduling.interval_minutes(task)
    crontab = task.crontab
    return {
        "enabled": task.enabled,
        "kind": "interval" if task.interval is not None else "crontab",
        "every_minutes": int(minutes) if minutes is not None and minutes >= 1 else None,
        "minute": crontab.minute if crontab else "",
        "hour": crontab.hour if crontab else "",
        "day_of_week": crontab.day_of_week if crontab else "*",
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a schedule's timing, or pause or resume it (Risk Officers)."""
    user = signed_in(request)
    task = get_object_or_404(scheduling.periodic_task_queryset(user=user), pk=pk)
    if request.method != "POST":
        form = ScheduleForm(initial=_schedule_initial(task))
        return render(request, "audits/schedule_form.html", {"task": task, "form": form})
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            scheduling.schedule_update(actor=user, task=task, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"“{task.name}” changed.")
            return redirect("audits:schedules")
    return render(request, "audits/schedule_form.html", {"task": task, "form": form}, status=400)


SCHEDULE_STEPS = {"pause", "resume", "run"}


@login_required
@require_POST
def schedule_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Pause or resume a schedule, or enqueue its task now."""
    user = signed_in(request)
    task = get_object_or_404(scheduling.periodic_task_queryset(user=user), pk=pk)
    if step not in SCHEDULE_STEPS:
        raise Http404("No such schedule step.")
    if step == "run":
        scheduling.periodic_task_run_now(actor=user, task=task)
        messages.success(request, f"“{task.name}” queued now; its schedule is unchanged.")
    else:
        scheduling.periodic_task_set_enabled(actor=user, task=task, enabled=step == "resume")
        messages.success(request, f"“{task.name}” {'resumed' if step == 'resume' else 'paused'}.")
    return redirect("audits:schedules")
