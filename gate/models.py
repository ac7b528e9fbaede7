"""Decisions of the deployment gate: what a pipeline asked, what the portal answered and why.

A decision is written once, in the transaction that appends its ledger event, and never changed. Its id is the
``jti`` of the signed decision token, so a token found in a pipeline log leads back to this row and the ledger.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from core.permissions import RestrictedQuerySet
from gate.choices import GateOutcome
from governance.models import GovernanceEvent
from inventory.models import ModelVersion, RegisteredModel


class GateDecision(models.Model):
    """One answer of the gate to "may this digest of this version go to this environment?".

    ``version`` is empty when the pipeline named a version that is not registered (``version_label`` keeps what
    it asked for). ``reasons`` lists ``{"code", "message"}``; ``gated`` is false in environments the operator
    lists in ``GATE_UNGATED_ENVIRONMENTS``, where the gate allows and the reasons are advisory only.
    """

    permission_parent = "model"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="gate_decisions")
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="gate_decisions"
    )
    version_label = models.CharField(max_length=50)
    environment = models.CharField(max_length=50)
    digest = models.CharField(max_length=71)
    decision = models.CharField(max_length=10, choices=GateOutcome.choices)
    gated = models.BooleanField(default=True)
    reasons: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    pipeline: models.JSONField[Any, Any] = models.JSONField(
        default=dict, blank=True, help_text="What the pipeline said about itself: CI run URL, commit SHA."
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    token = models.TextField(help_text="The signed decision token (compact JWS) handed to the pipeline.")
    ledger_event = models.OneToOneField(
        GovernanceEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="gate_decision"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A model's decisions, newest first (?model=KEY), and the default list order.
            models.Index(fields=["model", "-created_at"], name="gate_decision_model_idx"),
            models.Index(fields=["-created_at"], name="gate_decision_created_idx"),
            # Denials per environment (?environment=production&decision=deny).
            models.Index(fields=["environment", "decision", "-created_at"], name="gate_decision_env_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.model.key} v{self.version_label} to {self.environment}"
