"""Drift audits at the cadence of the limits in force, for beat.

A model is watched on schedule once someone who may audit it sets its ``DriftSchedule`` (a reference table and the
columns). ``request_due_drift_audits`` reads every enabled schedule in one query with what decides whether it is
due: the cadence (``drift_cadence_days`` of the agreed target, else of the tier's defaults; empty means on demand
only), the latest drift audit with a verdict, whether one is queued or running, and the model's newest drift table
other than the reference (the current window). Each due model gets one run through ``drift_audit_request`` on
behalf of whoever set the schedule, with one idempotency key per model and day, so running the schedule twice on
a day queues nothing new. A current table already compared with the reference is not compared again: the answer
would be the same, and the summary says the model waits for a new window.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from audits.choices import RunStatus
from monitoring.choices import TargetStatus
from monitoring.models import DriftDataset, DriftRun, DriftSchedule, MonitoringTarget, TierMonitoringDefault
from monitoring.services import drift_audit_request

logger = logging.getLogger(__name__)

VERDICT_STATUSES = (RunStatus.PASSED, RunStatus.FAILED)
PENDING_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


@dataclass
class DueDriftSummary:
    """What one pass of the drift schedule did: run ids requested, and models skipped with the reason."""

    requested: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The summary as the task returns it."""
        return {"requested": self.requested, "skipped": self.skipped}


def drift_schedule_states() -> QuerySet[DriftSchedule]:
    """Enabled schedules, each annotated with what decides whether it is due; one query.

    ``has_target``/``target_cadence``/``tier_cadence``: the cadence in force; ``last_run``: when the latest drift
    audit with a verdict finished; ``pending``: one is queued or running; ``current_id``: the newest drift table of
    the model other than the reference; ``compared``: that table was already audited against the reference.
    """
    agreed = MonitoringTarget.objects.filter(model=OuterRef("model_id"), status=TargetStatus.AGREED)
    newest = (
        DriftDataset.objects.filter(version__model=OuterRef("model_id"))
        .exclude(pk=OuterRef("reference_id"))
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return (
        DriftSchedule.objects.filter(enabled=True)
        .select_related("model", "reference", "requested_by")
        .annotate(
            has_target=Exists(agreed),
            target_cadence=Subquery(agreed.values("drift_cadence_days")[:1]),
            tier_cadence=Subquery(
                TierMonitoringDefault.objects.filter(tier=OuterRef("model__risk_tier")).values("drift_cadence_days")[:1]
            ),
            last_run=Subquery(
                DriftRun.objects.filter(model=OuterRef("model_id"), status__in=VERDICT_STATUSES)
                .order_by("-finished_at")
                .values("finished_at")[:1]
            ),
            pending=Exists(DriftRun.objects.filter(model=OuterRef("model_id"), status__in=PENDING_STATUSES)),
            current_id=Subquery(newest),
        )
        .annotate(
            compared=Exists(
                DriftRun.objects.filter(
                    reference=OuterRef("reference_id"), current=OuterRef("current_id"), status__in=VERDICT_STATUSES
                )
            )
        )
        .order_by("model__key")
    )


def drift_due(schedule: Any, now: dt.datetime) -> bool:
    """Whether an annotated schedule's cadence has elapsed and nothing is queued or running."""
    cadence = schedule.target_cadence if schedule.has_target else schedule.tier_cadence
    if cadence is None or schedule.pending:
        return False
    return schedule.last_run is None or schedule.last_run <= now - dt.timedelta(days=cadence)


def request_due_drift_audits(*, now: dt.datetime | None = None) -> DueDriftSummary:
    """Request one drift audit of every model that is due (see :func:`drift_schedule_states`).

    The audit is requested on behalf of whoever set the schedule, so the service's permission and column checks
    still apply: a model whose requester may no longer audit it, or whose newest table lacks a column, is
    skipped and named in the summary.
    """
    now = now or timezone.now()
    # django-stubs does not see annotations through the function's return type.
    due: list[Any] = [schedule for schedule in drift_schedule_states() if drift_due(schedule, now)]
    currents = DriftDataset.objects.select_related("version__model").in_bulk(
        [schedule.current_id for schedule in due if schedule.current_id]
    )
    day = timezone.localdate(now).isoformat()
    summary = DueDriftSummary()
    for schedule in due:
        key = schedule.model.key
        if schedule.current_id is None:
            summary.skipped[key] = "No current table to compare with the reference yet."
            continue
        current = currents[schedule.current_id]
        if schedule.compared:
            summary.skipped[key] = f"“{current.name}” was already compared with the reference; waiting for a new one."
            continue
        parameters = schedule.parameters
        try:
            run = drift_audit_request(
                actor=schedule.requested_by,
                reference=schedule.reference,
                current=current,
                features=parameters.get("features"),
                categorical=parameters.get("categorical"),
                prediction=parameters.get("prediction"),
                idempotency_key=f"drift-schedule:{schedule.model_id}:{day}",
            )
        except (PermissionDenied, ValidationError) as refusal:
            summary.skipped[key] = "; ".join(getattr(refusal, "messages", [str(refusal)]))
            logger.warning("Scheduled drift audit of %s not requested: %s", key, summary.skipped[key])
        else:
            summary.requested.append(run.pk)
    return summary
