from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Risk tiering, policies, approval workflow, findings and the decision ledger."""

    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.defaults import install_defaults_after_migrate

        post_migrate.connect(install_defaults_after_migrate, sender=self, dispatch_uid="governance.defaults")
