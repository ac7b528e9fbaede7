from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Production monitoring: agreed targets, metric observations, drift audits, deterioration findings."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core.requeue import stale_work_requeue_requested
        from monitoring.defaults import seed_tier_defaults_after_migrate
        from monitoring.services import drift_runs_requeue_stale

        post_migrate.connect(seed_tier_defaults_after_migrate, sender=self, dispatch_uid="monitoring.tier_defaults")
        stale_work_requeue_requested.connect(
            drift_runs_requeue_stale, dispatch_uid="monitoring.drift_runs_requeue_stale"
        )
