from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Report exports (register, governance and portfolio reports, evidence packs) and their delivery."""

    name = "reports"
    verbose_name = "Reports"
