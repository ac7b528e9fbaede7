from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Risk tiering, policies, approval workflow, findings and the decision ledger."""

    name = "governance"
    verbose_name = "Governance"
