from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Production monitoring: agreed targets, metric observations, drift audits, deterioration findings."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from monitoring.defaults import seed_tier_defaults_after_migrate

        post_migrate.connect(seed_tier_defaults_after_migrate, sender=self, dispatch_uid="monitoring.tier_defaults")
