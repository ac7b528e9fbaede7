"""The one FilterSet of gate decisions, used by the API list."""

from __future__ import annotations

import django_filters

from gate.choices import GateOutcome
from gate.models import GateDecision


class GateDecisionFilterSet(django_filters.FilterSet):
    """``?model=RB-0001&environment=production&decision=deny&version=1.2.0``."""

    model = django_filters.CharFilter(field_name="model__key", max_length=20, label="Model key")
    version = django_filters.CharFilter(field_name="version_label", max_length=50, label="Version label")
    environment = django_filters.CharFilter(field_name="environment", max_length=50)
    decision = django_filters.ChoiceFilter(choices=GateOutcome.choices)

    class Meta:
        model = GateDecision
        fields = ["model", "version", "environment", "decision"]
