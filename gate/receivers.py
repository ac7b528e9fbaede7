"""Signal receivers of the gate, connected in ``GateConfig.ready``; each hands over to a service."""

from __future__ import annotations

from typing import Any

from gate import services


def deployment_reported_receiver(sender: Any, *, deployment: Any, actor: Any, created: bool, **kwargs: Any) -> None:
    """``inventory.signals.deployment_reported``: ledger the report, raise a finding if the digest is unapproved."""
    services.deployment_report_received(deployment=deployment, actor=actor, created=created)
