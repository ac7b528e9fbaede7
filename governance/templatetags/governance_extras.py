"""Template filters for governance pages: labels of stored codes, answers as the assessor saw them, hashes and
ledger payloads as an auditor reads them."""

from __future__ import annotations

import json
from typing import Any

from django import template

from governance.choices import EventType
from governance.models import RiskAssessment
from inventory.choices import EUAIActCategory

register = template.Library()

HASH_PREFIX = 12


@register.filter
def event_label(code: str) -> str:
    """The label of a ledger event type (an unknown code is shown as it is)."""
    return str(dict(EventType.choices).get(code, code))


@register.filter
def eu_category_label(code: str | None) -> str:
    """The label of an EU AI Act category code; a dash for none."""
    if not code:
        return "—"
    return str(dict(EUAIActCategory.choices).get(code, code))


@register.filter
def short_hash(value: str) -> str:
    """The first characters of a SHA-256 hash, enough to tell rows apart on a page."""
    return value[:HASH_PREFIX]


@register.filter
def pretty_json(value: Any) -> str:
    """A ledger payload as indented JSON with sorted keys, the way it is hashed (but readable)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def answer_rows(assessment: RiskAssessment) -> list[tuple[str, str]]:
    """Each question of the assessment's questionnaire version with the labels of the options chosen."""
    rows = []
    for question in assessment.questionnaire.definition["questions"]:
        labels = {option["value"]: option.get("label", option["value"]) for option in question["options"]}
        chosen = assessment.answers.get(question["id"])
        values: list[str] = chosen if isinstance(chosen, list) else [chosen] if chosen else []
        rows.append((question["text"], "; ".join(str(labels.get(value, value)) for value in values) or "—"))
    return rows
