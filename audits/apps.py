from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """Evaluation data, scheduled bias and compliance audits."""

    name = "audits"
    verbose_name = "Audits"

    def ready(self) -> None:
        from audits.services import audit_runs_requeue_stale
        from core.requeue import stale_work_requeue_requested

        stale_work_requeue_requested.connect(audit_runs_requeue_stale, dispatch_uid="audits.audit_runs_requeue_stale")
