from django.apps import AppConfig


class GateConfig(AppConfig):
    """The deployment gate: allow/deny decisions for pipelines, signed decision tokens, deployment checks."""

    name = "gate"
    verbose_name = "Deployment gate"

    def ready(self) -> None:
        from gate import receivers, signing
        from inventory.signals import deployment_reported

        deployment_reported.connect(receivers.deployment_reported_receiver, dispatch_uid="gate.deployment_reported")
        # A configured key that cannot be read stops the process now, not at the first pipeline's request.
        signing.check_configured_keys()
