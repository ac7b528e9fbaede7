from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Risk tiering, policies, approval workflow, findings and the decision ledger."""

    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core.requeue import stale_work_requeue_requested
        from governance.defaults import install_defaults_after_migrate
        from governance.services.notifications import notification_emails_requeue_stale

        post_migrate.connect(install_defaults_after_migrate, sender=self, dispatch_uid="governance.defaults")
        stale_work_requeue_requested.connect(
            notification_emails_requeue_stale, dispatch_uid="governance.notification_emails_requeue_stale"
        )
