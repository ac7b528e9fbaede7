"""Audits at the tiers' cadence, and the portal's Celery beat schedules.

``request_due_bias_audits`` finds in one query every model whose tier's ``bias_audit_cadence_days`` has elapsed
since its latest passed or failed bias audit, that has no bias audit queued or running, and that has evaluation
data: the newest dataset of its latest approved or deployed version, else the newest dataset of any version.
Each is requested through ``bias_audit_request`` on behalf of whoever stored the data, with one idempotency key
per model and day, so running the schedule twice on a day queues nothing new.

The schedules themselves are django-celery-beat ``PeriodicTask`` rows read by beat's database scheduler; Risk
Officers (who set the tier policies) see them, change their timing, pause and resume them, and start a run at
once. A change of timing, a pause and a resume are governance facts: each writes an ``audit.schedule_changed``
ledger event (before and after) in the transaction that changes the ``PeriodicTask`` row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_beat.validators import day_of_week_validator, hour_validator, minute_validator

from audits.choices import AuditKind, RunStatus
from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_request
from core.models import User
from governance.choices import EventType
from governance.ledger import ledger_append
from governance.models import TierPolicy
from inventory.choices import VersionState
from inventory.models import ModelVersion, RegisteredModel

logger = logging.getLogger(__name__)

# Versions whose data is audited first: what is approved or running in production.
AUDITED_STATES = (VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS, VersionState.DEPLOYED)
# Tasks of this portal, by the apps that define them (beat also holds Celery's own, such as backend cleanup).
PORTAL_TASK_PREFIXES = ("audits.", "governance.", "inventory.", "core.", "monitoring.")
# Who manages schedules: those who set the tier policies (Risk Officers); the cadence is part of the policy.
SCHEDULE_PERMISSION = "governance.change_tierpolicy"
# The crontab fields a Risk Officer may set, with beat's validator of each.
CRONTAB_VALIDATORS = {"minute": minute_validator, "hour": hour_validator, "day_of_week": day_of_week_validator}
# Seconds in one unit of each interval period.
PERIOD_SECONDS = {
    IntervalSchedule.DAYS: 86400,
    IntervalSchedule.HOURS: 3600,
    IntervalSchedule.MINUTES: 60,
    IntervalSchedule.SECONDS: 1,
    IntervalSchedule.MICROSECONDS: 1e-6,
}


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


def _portal_tasks() -> Q:
    portal = Q()
    for prefix in PORTAL_TASK_PREFIXES:
        portal |= Q(task__startswith=prefix)
    return portal


def periodic_task_queryset(*, user: User) -> QuerySet[PeriodicTask]:
    """The portal's beat schedules, by name; refused to anyone but Risk Officers."""
    _check(user)
    return (
        PeriodicTask.objects.filter(_portal_tasks())
        .select_related("interval", "crontab", "solar", "clocked")
        .order_by("name")
    )


def interval_minutes(task: PeriodicTask) -> float | None:
    """How many minutes apart an interval schedule runs; ``None`` for any other kind of schedule."""
    if task.interval is None:
        return None
    return task.interval.every * PERIOD_SECONDS[task.interval.period] / 60


def _crontab_values(current: CrontabSchedule | None, given: dict[str, str | None]) -> dict[str, str]:
    """The crontab fields after the change: those given, the others from the current crontab (``*`` for the
    day of the week); minute and hour are required when the schedule is not a crontab yet."""
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, validator in CRONTAB_VALIDATORS.items():
        value = given.get(name)
        if value is None:
            value = getattr(current, name) if current is not None else ("*" if name == "day_of_week" else None)
        value = (value or "").strip()
        if not value:
            errors[name] = ["Required when the schedule becomes a crontab."]
            continue
        try:
            validator(value)
        except ValidationError as error:
            errors[name] = error.messages
        values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def schedule_update(
    *,
    actor: User,
    task: PeriodicTask,
    enabled: bool | None = None,
    every_minutes: int | None = None,
    minute: str | None = None,
    hour: str | None = None,
    day_of_week: str | None = None,
) -> PeriodicTask:
    """Change a portal schedule: pause or resume it, and run it every ``every_minutes`` or at a crontab.

    Either an interval or crontab fields, not both; crontab fields not given keep their current value. The
    schedule's other kinds (solar, clocked) are cleared when its timing changes. Beat's database scheduler picks
    the change up on its next tick; the change (timing and state before and after) goes to the ledger in the same
    transaction.
    """
    _check(actor)
    crontab_given = {"minute": minute, "hour": hour, "day_of_week": day_of_week}
    wants_crontab = any(value is not None for value in crontab_given.values())
    if every_minutes is not None and wants_crontab:
        raise ValidationError("Give either an interval (every_minutes) or crontab fields, not both.")
    if enabled is None and every_minutes is None and not wants_crontab:
        raise ValidationError("Give at least one change: enabled, every_minutes or crontab fields.")
    if every_minutes is not None and (isinstance(every_minutes, bool) or every_minutes < 1):
        raise ValidationError({"every_minutes": ["Run at most once a minute: give a whole number of 1 or more."]})
    with transaction.atomic():
        locked = PeriodicTask.objects.select_for_update().filter(_portal_tasks(), pk=task.pk).first()
        if locked is None:
            raise PermissionDenied("Only the portal's own schedules can be changed here.")
        before = {"schedule": str(locked.scheduler), "enabled": locked.enabled}
        fields = ["date_changed"]
        if enabled is not None:
            locked.enabled = enabled
            fields.append("enabled")
        if every_minutes is not None or wants_crontab:
            current = locked.crontab
            locked.interval = locked.crontab = locked.solar = locked.clocked = None
            if every_minutes is not None:
                locked.interval, _ = IntervalSchedule.objects.get_or_create(
                    every=every_minutes, period=IntervalSchedule.MINUTES
                )
            else:
                locked.crontab, _ = CrontabSchedule.objects.get_or_create(
                    **_crontab_values(current, crontab_given),
                    day_of_month=current.day_of_month if current else "*",
                    month_of_year=current.month_of_year if current else "*",
                    timezone=current.timezone if current else settings.CELERY_TIMEZONE,
                )
            fields += ["interval", "crontab", "solar", "clocked"]
        locked.save(update_fields=fields)
        after = {"schedule": str(locked.scheduler), "enabled": locked.enabled}
        # Pausing a paused schedule changes nothing: the ledger records facts, not clicks.
        if after != before:
            ledger_append(
                event_type=EventType.AUDIT_SCHEDULE_CHANGED,
                actor=actor,
                subject=locked,
                summary=f"Schedule “{locked.name}” {_describe_change(before, after)}",
                payload={"name": locked.name, "task": locked.task, "before": before, "after": after},
            )
    logger.info("Schedule %r changed by %s: %s", locked.name, actor.username, _describe_change(before, after))
    return locked


def _describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The change in words, for the ledger summary and the log."""
    parts = []
    if before["enabled"] != after["enabled"]:
        parts.append("resumed" if after["enabled"] else "paused")
    if before["schedule"] != after["schedule"]:
        parts.append(f"now {after['schedule']} (was {before['schedule']})")
    return ", ".join(parts) or "unchanged"


def periodic_task_set_enabled(*, actor: User, task: PeriodicTask, enabled: bool) -> PeriodicTask:
    """Pause or resume a schedule (a :func:`schedule_update` of ``enabled`` alone, recorded in the ledger)."""
    return schedule_update(actor=actor, task=task, enabled=enabled)


def periodic_task_run_now(*, actor: User, task: PeriodicTask) -> None:
    """Enqueue the schedule's task once now, with its arguments, without changing the schedule."""
    _check(actor)
    args, kwargs = json.loads(task.args or "[]"), json.loads(task.kwargs or "{}")
    logger.info("Schedule %r run now by %s", task.name, actor.username)
    transaction.on_commit(lambda: current_app.send_task(task.task, args=args, kwargs=kwargs))
