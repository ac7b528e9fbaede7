from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """Evaluation data, scheduled bias and compliance audits."""

    name = "audits"
    verbose_name = "Audits"
