"""Celery tasks of audits: thin wrappers that take a run id and call the service."""

from __future__ import annotations

from celery import shared_task

from audits.services import bias_audit_execute
from core.task_options import task_options


@shared_task(name="audits.tasks.run_bias_audit", **task_options(time_limit=600))
def run_bias_audit(run_id: int) -> None:
    """Execute the queued bias audit ``run_id``; a run already finished is left as it is."""
    bias_audit_execute(run_id=run_id)


@shared_task(name="audits.tasks.request_due_bias_audits", **task_options(time_limit=300))
def request_due_bias_audits() -> dict[str, object]:
    """Request a bias audit of every model whose tier's cadence has elapsed; one per model and day."""
    from audits.scheduling import request_due_bias_audits as request_due  # keeps the task module's imports as is

    return request_due().as_dict()


@shared_task(name="audits.tasks.run_compliance_sweep", **task_options(time_limit=1800))
def run_compliance_sweep(run_id: int | None = None) -> None:
    """Execute the queued compliance sweep ``run_id``; without one (the nightly schedule), today's sweep."""
    from audits.sweep import compliance_sweep_execute, compliance_sweep_scheduled  # imports this module

    if run_id is None:
        run_id = compliance_sweep_scheduled().pk
    compliance_sweep_execute(run_id=run_id)
