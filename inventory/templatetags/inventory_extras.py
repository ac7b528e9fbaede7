"""Template filters for inventory pages: display labels of stored codes, and history values as text."""

from __future__ import annotations

from typing import Any

from django import template

from inventory.choices import LifecycleStage, RegulatoryUse, RiskTier

register = template.Library()

EMPTY = "—"


@register.filter
def display_value(value: Any) -> str:
    """A stored value as a reader sees it: lists joined, booleans as yes/no, nothing as a dash."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.filter
def regulatory_use_label(code: str) -> str:
    """The label of a regulatory use code (an unknown code is shown as it is)."""
    return str(dict(RegulatoryUse.choices).get(code, code))


@register.filter
def tier_label(tier: int | None) -> str:
    """``Tier 1 (high)`` for 1; a dash while the model has no approved tier."""
    if tier is None:
        return EMPTY
    return str(dict(RiskTier.choices).get(tier, tier))


@register.filter
def stage_label(stage: str) -> str:
    """The label of a lifecycle stage code."""
    return str(dict(LifecycleStage.choices).get(stage, stage))


@register.filter
def field_label(change: Any) -> str:
    """The label of a changed field in the history, capitalised without lowering acronyms ("EU AI Act")."""
    return change.label[:1].upper() + change.label[1:]
