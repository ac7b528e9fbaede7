"""Reads of the gate: the facts one request is decided on, and the decisions a user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KT

from audits.choices import AuditKind, RunStatus
from audits.compliance import EVIDENCE_SUBTYPE_FIELDS, evidence_keys
from audits.models import AuditRun
from core.permissions import restrict
from gate.models import GateDecision
from gate.reasons import GateFacts
from governance.choices import OPEN_FINDING_STATUSES, FindingSeverity, FindingSource
from governance.models import Finding, TierPolicy
from inventory.choices import APPROVAL_HOLDING_STATES, LifecycleStage
from inventory.models import Artifact, ModelVersion, RegisteredModel
from inventory.selectors import approved_digests

SEVERE = (FindingSeverity.HIGH, FindingSeverity.CRITICAL)


def gate_decision_queryset(*, user: Any) -> QuerySet[GateDecision]:
    """Decisions on the models the user may see (all of them for Risk Officers, Auditors and Admins)."""
    return restrict(user, "view", GateDecision.objects.all()).select_related("model", "version", "requested_by")


def version_evidence(version: ModelVersion) -> frozenset[str]:
    """The evidence names (``git_commit``, ``document:model_card``) the version's recorded artifacts provide.

    One query of distinct (kind, sub-type) pairs, however many artifacts the version holds.
    """
    subtype_fields = sorted(set(EVIDENCE_SUBTYPE_FIELDS.values()))
    rows = (
        Artifact.objects.filter(version=version)
        .order_by()
        .annotate(**{f"sub_{name}": KT(f"metadata__{name}") for name in subtype_fields})
        .values_list("kind", *(f"sub_{name}" for name in subtype_fields))
        .distinct()
    )
    names: set[str] = set()
    for kind, *subtypes in rows:
        names |= evidence_keys(kind, dict(zip(subtype_fields, subtypes, strict=True)))
    return frozenset(names)


def gate_facts(
    *, model: RegisteredModel, version_label: str, digest: str, now: dt.datetime
) -> tuple[GateFacts, ModelVersion | None]:
    """Everything the gate's rules need about one request, in at most six queries whatever the number of
    versions, artifacts, findings or audits; and the version, when it is registered."""
    version = ModelVersion.objects.filter(model=model, version=version_label).first()
    base = GateFacts(
        model_key=model.key,
        version_label=version_label,
        digest=digest,
        model_retired=model.lifecycle_stage == LifecycleStage.RETIRED,
    )
    if version is None:
        return base, None
    holds_approval = (
        version.state in APPROVAL_HOLDING_STATES and version.approved_by_id is not None and version.approved_at
    )
    findings = Finding.objects.filter(model=model, status__in=OPEN_FINDING_STATUSES).aggregate(
        severe=Count("pk", filter=Q(severity__in=SEVERE)),
        overdue_conditions=Count(
            "pk",
            filter=Q(version=version, source=FindingSource.APPROVAL_CONDITION, due_date__lt=now.date()),
        ),
    )
    policy = (
        TierPolicy.objects.filter(pack__is_active=True, tier=model.risk_tier).first()
        if model.risk_tier is not None
        else None
    )
    bias = (
        AuditRun.objects.filter(model=model, kind=AuditKind.BIAS, status__in=[RunStatus.PASSED, RunStatus.FAILED])
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .values("status", "finished_at")
        .first()
    )
    facts = replace(
        base,
        version_state=version.state,
        holds_approval=bool(holds_approval),
        approval_expires_at=version.approval_expires_at,
        approved_digests=approved_digests(version) if holds_approval else frozenset(),
        evidence=version_evidence(version),
        open_severe_findings=findings["severe"],
        overdue_conditions=findings["overdue_conditions"],
        eu_ai_act_category=model.eu_ai_act_category,
        bias_status=bias["status"] if bias else None,
        bias_finished_at=bias["finished_at"] if bias else None,
        policy_required_evidence=tuple(policy.required_evidence) if policy else (),
        policy_bias_cadence_days=policy.bias_audit_cadence_days if policy else None,
    )
    return facts, version
