"""Reads of the gate: the facts one request is decided on, and the decisions a user may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from django.db.models import F, Func, IntegerField, JSONField, OuterRef, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from audits.choices import AuditKind, RunStatus
from audits.compliance import EVIDENCE_SUBTYPE_FIELDS, evidence_keys
from audits.models import AuditRun
from core.compiled import CompiledQuery
from core.permissions import RestrictedCompiledQuery, may_row, restrict
from gate.models import GateDecision
from gate.reasons import GateFacts
from governance.choices import OPEN_FINDING_STATUSES, FindingSeverity, FindingSource
from governance.models import Finding, TierPolicy
from inventory.choices import APPROVAL_HOLDING_STATES, LifecycleStage
from inventory.models import Artifact, ModelVersion, RegisteredModel
from inventory.selectors import approved_artifacts, approved_digests, json_rows

SEVERE = (FindingSeverity.HIGH, FindingSeverity.CRITICAL)


def gate_decision_queryset(*, user: Any) -> QuerySet[GateDecision]:
    """Decisions on the models the user may see (all of them for Risk Officers, Auditors and Admins)."""
    return restrict(user, "view", GateDecision.objects.all()).select_related("model", "version", "requested_by")


def version_evidence(rows: Iterable[Sequence[Any] | str]) -> frozenset[str]:
    """The evidence names (``git_commit``, ``document:model_card``) of a version's artifacts, given as the distinct
    ``[kind, sub-type...]`` rows of :func:`_evidence_rows` (the sub-types of ``EVIDENCE_SUBTYPE_FIELDS``; a row is
    the bare kind when there are none)."""
    names: set[str] = set()
    for row in rows:
        kind, *subtypes = (row,) if isinstance(row, str) else tuple(row)
        names |= evidence_keys(kind, dict(zip(_SUBTYPE_FIELDS, subtypes, strict=True)))
    return frozenset(names)


_SUBTYPE_FIELDS = sorted(set(EVIDENCE_SUBTYPE_FIELDS.values()))


def _evidence_rows() -> Subquery:
    """Annotation: the distinct ``[kind, sub-type...]`` of the version's artifacts, however many it holds, as a
    JSON array in the version's own row (NULL without artifacts)."""
    artifacts = Artifact.objects.filter(version_id=OuterRef("pk")).annotate(
        **{f"sub_{name}": KT(f"metadata__{name}") for name in _SUBTYPE_FIELDS}
    )
    return json_rows(artifacts, "kind", *(f"sub_{name}" for name in _SUBTYPE_FIELDS), distinct=True)


def askable_model(*, user: Any, key: str) -> tuple[RegisteredModel | None, bool]:
    """The model ``key`` if ``user`` may see it (else None), and whether they may ask the gate about it; one query.

    Asking needs the right to report deployments of the model, the rule of ``inventory.services.artifacts.
    may_report``: change on it (owners, Risk Officers, Admins) or the ``report_registeredmodel`` object
    permission of a scoped service account. Both are read beside the model's own row (``core.permissions.may_row``:
    a constant for roles, a probe of the permission index otherwise), instead of a query for the model and two more
    for the permissions.
    """
    model: Any = _ASKABLE_MODEL.first(user, key=key)
    if model is None:
        return None, False
    return model, bool(model.gate_may_change or model.gate_may_report)


# Compiled once per set of roles (core.permissions.RestrictedCompiledQuery): building and compiling this query
# cost 2 ms per decision, running it 0.2 ms.
_ASKABLE_MODEL: RestrictedCompiledQuery[RegisteredModel] = RestrictedCompiledQuery(
    lambda user, key: (
        restrict(user, "view", RegisteredModel.objects.all())
        .filter(key=key)
        .annotate(
            gate_may_change=may_row(user, "change", RegisteredModel),
            gate_may_report=may_row(user, "custom:report_registeredmodel", RegisteredModel),
        )
        .order_by()[:1]
    ),
    key=str,
)


def _count(rows: QuerySet[Any]) -> Coalesce:
    """``COUNT(*)`` of ``rows`` as a scalar subquery (a correlated one when ``rows`` uses ``OuterRef``)."""
    counted = rows.order_by().annotate(counted=Func(F("pk"), function="COUNT")).values("counted")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@lru_cache(maxsize=16)
def _version_with_facts(tier: int | None, today: dt.date) -> CompiledQuery[ModelVersion]:
    """Versions annotated with what the gate decides on: their model's open severe findings, their own overdue
    approval conditions, the model's latest bias verdict, the duties of the tier policy for ``tier`` and the
    digests of their approved artifacts.

    Building and compiling the query cost 1.5 ms per decision, running it 0.3 ms; its subqueries depend on the
    tier and the day only, so it is compiled once per tier and day (:class:`core.compiled.CompiledQuery`) and
    run with the model's id and the version's label.
    """
    open_findings = Finding.objects.filter(model=OuterRef("model"), status__in=OPEN_FINDING_STATUSES)
    latest_bias = AuditRun.objects.filter(
        model=OuterRef("model"), kind=AuditKind.BIAS, status__in=[RunStatus.PASSED, RunStatus.FAILED]
    ).order_by(F("finished_at").desc(nulls_last=True), "-id")
    policy_evidence: Any = Value(None, output_field=IntegerField())  # no tier, no policy: SQL NULL
    policy_cadence: Any = Value(None, output_field=IntegerField())
    if tier is not None:
        policy = TierPolicy.objects.filter(pack__is_active=True, tier=tier)
        policy_evidence = Subquery(policy.values("required_evidence")[:1], output_field=JSONField())
        policy_cadence = Subquery(policy.values("bias_audit_cadence_days")[:1])
    facts = ModelVersion.objects.annotate(
        gate_severe_findings=_count(open_findings.filter(severity__in=SEVERE)),
        gate_overdue_conditions=_count(
            open_findings.filter(version=OuterRef("pk"), source=FindingSource.APPROVAL_CONDITION, due_date__lt=today)
        ),
        gate_bias_status=Subquery(latest_bias.values("status")[:1]),
        gate_bias_finished_at=Subquery(latest_bias.values("finished_at")[:1]),
        gate_policy_evidence=policy_evidence,
        gate_policy_cadence=policy_cadence,
        # The digests approved_digests() reads, in the same row instead of a query of their own.
        gate_artifact_digests=json_rows(approved_artifacts(OuterRef("pk"), OuterRef("approved_at")), "digest"),
        # And the evidence its artifacts provide, instead of a query after this one.
        gate_evidence=_evidence_rows(),
    )
    return CompiledQuery(
        lambda model_id, version: facts.filter(model_id=model_id, version=version).order_by()[:1],
        model_id=int,
        version=str,
    )


def gate_facts(
    *, model: RegisteredModel, version_label: str, digest: str, now: dt.datetime
) -> tuple[GateFacts, ModelVersion | None]:
    """Everything the gate's rules need about one request, in one query whatever the number of versions,
    artifacts, findings or audits; and the version, when it is registered.

    The version is read with its model's open severe findings, its overdue approval conditions, the model's
    latest bias verdict, the tier policy's duties, the digests of its approved artifacts and the evidence its
    artifacts provide, as subqueries of the same row.
    """
    version = _version_with_facts(model.risk_tier, now.date()).first(model_id=model.pk, version=version_label)
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
    annotated: Any = version  # carries the gate_* annotations, which the type checker cannot see
    facts = replace(
        base,
        version_state=version.state,
        holds_approval=bool(holds_approval),
        approval_expires_at=version.approval_expires_at,
        approved_digests=approved_digests(version, annotated.gate_artifact_digests or ()),
        evidence=version_evidence(annotated.gate_evidence or ()),
        open_severe_findings=annotated.gate_severe_findings,
        overdue_conditions=annotated.gate_overdue_conditions,
        eu_ai_act_category=model.eu_ai_act_category,
        bias_status=annotated.gate_bias_status,
        bias_finished_at=annotated.gate_bias_finished_at,
        policy_required_evidence=tuple(annotated.gate_policy_evidence or ()),
        policy_bias_cadence_days=annotated.gate_policy_cadence,
    )
    return facts, version
