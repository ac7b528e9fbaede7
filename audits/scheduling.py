"""Audits at the tiers' cadence, and the portal's Celery beat schedules.

``request_due_bias_audits`` finds in one query every model whose tier's ``bias_audit_cadence_days`` has elapsed
since its latest passed or failed bias audit, that has no bias audit queued or running, and that has evaluation
data: the newest dataset of its latest approved or deployed version, else the newest dataset of any version.
Each is requested through ``bias_audit_request`` on behalf of whoever stored the data, with one idempotency key
per model and day, so running the schedule twice on a day queues nothing new.

The schedules themselves are django-celery-beat ``PeriodicTask`` rows read by beat's database scheduler; Risk
Officers (who set the tier policies) see them, pause and resume them, and start a run at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audits.choices import AuditKind, RunStatus
from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_request
from core.models import User
from governance.models import TierPolicy
from inventory.choices import VersionState
from inventory.models import ModelVersion, RegisteredModel

logger = logging.getLogger(__name__)

# Versions whose data is audited first: what is approved or running in production.
AUDITED_STATES = (VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS, VersionState.DEPLOYED)
# Tasks of this portal, by the apps that define them (beat also holds Celery's own, such as backend cleanup).
PORTAL_TASK_PREFIXES = ("audits.", "governance.", "inventory.", "core.")
# Who manages schedules: those who set the tier policies (Risk Officers); the cadence is part of the policy.
SCHEDULE_PERMISSION = "governance.change_tierpolicy"


@dataclass
class DueAuditsSummary:
    """What one pass of the bias-audit schedule did: run ids requested, and models skipped with the reason."""

    requested: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The summary as the task returns it."""
        return {"requested": self.requested, "skipped": self.skipped}


def due_bias_audit_datasets(*, now: dt.datetime | None = None) -> QuerySet[RegisteredModel]:
    """Models due for a bias audit, each annotated with ``due_dataset_id`` (the data to audit); one query.

    Due: the active pack sets a cadence for the model's tier, and no bias audit passed or failed within it (an
    error is not an audit); no bias audit of the model is queued or running; it has evaluation data.
    """
    now = now or timezone.now()
    cadences = dict(
        TierPolicy.objects.filter(pack__is_active=True, bias_audit_cadence_days__isnull=False).values_list(
            "tier", "bias_audit_cadence_days"
        )
    )
    last_audit = (
        AuditRun.objects.filter(
            model=OuterRef("pk"), kind=AuditKind.BIAS, status__in=(RunStatus.PASSED, RunStatus.FAILED)
        )
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    pending = AuditRun.objects.filter(kind=AuditKind.BIAS, status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
    audited_version = (
        ModelVersion.objects.filter(model=OuterRef(OuterRef("pk")), state__in=AUDITED_STATES)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    newest_of_audited = (
        EvaluationDataset.objects.filter(version=Subquery(audited_version))
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    newest_of_any = (
        EvaluationDataset.objects.filter(version__model=OuterRef("pk"))
        .order_by("-version__created_at", "-version__id", "-created_at", "-id")
        .values("pk")[:1]
    )
    # Without any cadence nothing is due (an empty Q would match every model).
    elapsed = Q(pk__in=[])
    for tier, days in cadences.items():
        elapsed |= Q(risk_tier=tier) & (Q(last_audit__isnull=True) | Q(last_audit__lte=now - dt.timedelta(days=days)))
    return (
        RegisteredModel.objects.filter(risk_tier__in=list(cadences))
        .annotate(
            last_audit=Subquery(last_audit),
            due_dataset_id=Coalesce(Subquery(newest_of_audited), Subquery(newest_of_any)),
        )
        .filter(elapsed, due_dataset_id__isnull=False)
        .exclude(pk__in=pending.values("model"))
        .order_by("key")
    )


def request_due_bias_audits(*, now: dt.datetime | None = None) -> DueAuditsSummary:
    """Request one bias audit of every model that is due (see :func:`due_bias_audit_datasets`).

    The audit is requested on behalf of whoever stored the data, so the service's permission check still
    applies: a model whose uploader may no longer audit it is skipped and named in the summary.
    """
    now = now or timezone.now()
    # django-stubs does not see annotations through the function's return type.
    due = list(due_bias_audit_datasets(now=now).values_list("key", "due_dataset_id"))  # type: ignore[misc]
    datasets = EvaluationDataset.objects.select_related("version__model", "created_by").in_bulk(
        [dataset_id for _key, dataset_id in due]
    )
    day = timezone.localdate(now).isoformat()
    summary = DueAuditsSummary()
    for key, dataset_id in due:
        dataset = datasets[dataset_id]
        try:
            run = bias_audit_request(
                actor=dataset.created_by,
                dataset=dataset,
                idempotency_key=f"bias-schedule:{dataset.version.model_id}:{day}",
            )
        except (PermissionDenied, ValidationError) as refusal:
            summary.skipped[key] = "; ".join(getattr(refusal, "messages", [str(refusal)]))
            logger.warning("Scheduled bias audit of %s not requested: %s", key, summary.skipped[key])
        else:
            summary.requested.append(run.pk)
    return summary


def may_manage_schedules(user: Any) -> bool:
    """Whether the user may see and manage the portal's schedules (Risk Officers)."""
    return bool(user.is_active and user.has_perm(SCHEDULE_PERMISSION))


def _check(actor: User) -> None:
    if not may_manage_schedules(actor):
        raise PermissionDenied("Only Risk Officers see and manage the audit schedules.")


def periodic_task_queryset(*, user: User) -> QuerySet[PeriodicTask]:
    """The portal's beat schedules, by name; refused to anyone but Risk Officers."""
    _check(user)
    portal = Q()
    for prefix in PORTAL_TASK_PREFIXES:
        portal |= Q(task__startswith=prefix)
    return (
        PeriodicTask.objects.filter(portal).select_related("interval", "crontab", "solar", "clocked").order_by("name")
    )


def periodic_task_set_enabled(*, actor: User, task: PeriodicTask, enabled: bool) -> PeriodicTask:
    """Pause or resume a schedule; beat's database scheduler picks the change up on its next tick."""
    _check(actor)
    task.enabled = enabled
    task.save(update_fields=["enabled"])
    logger.info("Schedule %r %s by %s", task.name, "resumed" if enabled else "paused", actor.username)
    return task


def periodic_task_run_now(*, actor: User, task: PeriodicTask) -> None:
    """Enqueue the schedule's task once now, with its arguments, without changing the schedule."""
    _check(actor)
    args, kwargs = json.loads(task.args or "[]"), json.loads(task.kwargs or "{}")
    logger.info("Schedule %r run now by %s", task.name, actor.username)
    transaction.on_commit(lambda: current_app.send_task(task.task, args=args, kwargs=kwargs))
