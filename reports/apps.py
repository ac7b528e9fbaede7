from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Report exports (register, governance and portfolio reports, evidence packs) and their delivery."""

    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from core.requeue import stale_work_requeue_requested
        from reports.services import exports_requeue_stale

        stale_work_requeue_requested.connect(exports_requeue_stale, dispatch_uid="reports.exports_requeue_stale")
