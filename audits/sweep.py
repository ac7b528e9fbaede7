"""The portfolio compliance sweep: every model's record built set-based, the rules of ``audits.compliance``
applied, one status row per model stored in bulk under a compliance ``AuditRun``; and the reads of its results.

The records come from one query over the registered models, each fact a correlated ``Exists`` or ``Subquery``
(never a per-model query, never an aggregate over a join), plus one query for the active tier policies. The
evidence a tier requires is one ``Exists`` per evidence name the active policies use (a handful), and what runs
where is read from the reported deployments, so neither grows the query count with the portfolio. Status
rows are inserted in batches of ``BATCH_SIZE``, so a sweep costs a fixed number of queries up to that many
models and one more insert per further batch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audits.choices import FINISHED_STATUSES, AuditKind, RunStatus
from audits.compliance import (
    EVIDENCE_SUBTYPE_FIELDS,
    RULES,
    ComplianceState,
    ModelRecord,
    evaluate,
    rules_catalogue,
)
from audits.models import AuditRun, ComplianceStatus
from core.middleware import current_request_id
from core.models import User
from core.permissions import has_model_permission, restrict
from governance.choices import OPEN_FINDING_STATUSES, AssessmentStatus, EventType, FindingSeverity
from governance.ledger import ledger_append
from governance.models import Finding, RiskAssessment, TierPolicy
from inventory.choices import DeploymentStatus, VersionState
from inventory.models import Artifact, Deployment, ModelVersion, RegisteredModel
from inventory.selectors import DEPLOYABLE_KINDS

BATCH_SIZE = 2000
# The permission that lets a person start a sweep: setting tier policy is what Risk Officers (and Admins) do.
SWEEP_PERMISSION = "governance.change_tierpolicy"
APPROVED_STATES = (VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS, VersionState.DEPLOYED)
SEVERE = (FindingSeverity.HIGH, FindingSeverity.CRITICAL)
RECORD_FIELDS = (
    "pk",
    "key",
    "lifecycle_stage",
    "risk_tier",
    "eu_ai_act_category",
    "next_validation_due",
    "business_owner_active",
    "business_owner_is_service",
    "technical_owner_active",
    "technical_owner_is_service",
    "has_current_assessment",
    "approved_version",
    "approved_expires_at",
    "has_unapproved_deployed_version",
    "unapproved_deployments",
    "unapproved_deployment_environment",
    "bias_status",
    "bias_finished_at",
    "overdue_severe_findings",
)


def _evidence_filter(name: str) -> Q:
    """Artifacts that provide one evidence name of a tier policy (``model_file``, ``document:model_card``)."""
    kind, _, subtype = name.partition(":")
    subtype_field = EVIDENCE_SUBTYPE_FIELDS.get(kind)
    if subtype and subtype_field:
        return Q(kind=kind, **{f"metadata__{subtype_field}": subtype})
    # A name that is no kind (a typo in a policy) matches nothing and is reported missing, as it should be.
    return Q(kind=name)


def unapproved_current_deployments() -> QuerySet[Deployment]:
    """Deployments of ``OuterRef("pk")``'s versions that are the latest successful one in their environment and
    carry a digest not approved for their version (the rule of ``inventory.selectors.approved_digests``: the
    version holds an approval and the digest is its artifact digest or that of an image or model file recorded
    before the approval)."""
    later = Deployment.objects.filter(
        version__model=OuterRef("version__model"),
        environment=OuterRef("environment"),
        status=DeploymentStatus.SUCCEEDED,
    ).filter(Q(deployed_at__gt=OuterRef("deployed_at")) | Q(deployed_at=OuterRef("deployed_at"), pk__gt=OuterRef("pk")))
    approved_image = Artifact.objects.filter(
        version=OuterRef("version"),
        kind__in=DEPLOYABLE_KINDS,
        digest=OuterRef("digest"),
        created_at__lte=OuterRef("version__approved_at"),
    )
    approved = Q(
        version__state__in=APPROVED_STATES, version__approved_by__isnull=False, version__approved_at__isnull=False
    ) & (Q(digest=F("version__artifact_digest")) | Q(Exists(approved_image)))
    return (
        Deployment.objects.filter(version__model=OuterRef("pk"), status=DeploymentStatus.SUCCEEDED)
        .annotate(is_approved=Q(approved), superseded=Exists(later))
        .filter(is_approved=False, superseded=False)
    )


def model_record_queryset(
    *, today: dt.date, evidence: tuple[str, ...] = ()
) -> QuerySet[RegisteredModel, dict[str, Any]]:
    """Every registered model annotated with what the rules need, in one query (as ``.values()`` rows).

    ``evidence`` names the evidence kinds to look for among the artifacts of each model's latest approved
    version; row field ``evidence_<i>`` says whether the i-th one is there.
    """
    approved = (
        ModelVersion.objects.filter(model=OuterRef("pk"), state__in=APPROVED_STATES, approved_by__isnull=False)
        .order_by(F("approved_at").desc(nulls_last=True), "-id")
        .values
    )
    latest_bias = (
        AuditRun.objects.filter(
            model=OuterRef("pk"), kind=AuditKind.BIAS, status__in=[RunStatus.PASSED, RunStatus.FAILED]
        )
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .values
    )
    overdue = (
        Finding.objects.filter(
            model=OuterRef("pk"), severity__in=SEVERE, status__in=OPEN_FINDING_STATUSES, due_date__lt=today
        )
        .order_by()
        .values("model")
        .annotate(count=Count("pk"))
        .values("count")
    )
    unapproved = unapproved_current_deployments()
    evidence_fields = {
        f"evidence_{index}": Exists(
            Artifact.objects.filter(_evidence_filter(name), version=OuterRef("approved_version_pk"))
        )
        for index, name in enumerate(evidence)
    }
    return (
        RegisteredModel.objects.order_by("pk")
        .annotate(approved_version_pk=Subquery(approved("pk")[:1]))
        .annotate(
            business_owner_active=F("business_owner__is_active"),
            business_owner_is_service=F("business_owner__is_service_account"),
            technical_owner_active=F("technical_owner__is_active"),
            technical_owner_is_service=F("technical_owner__is_service_account"),
            has_current_assessment=Exists(
                RiskAssessment.objects.filter(model=OuterRef("pk"), status=AssessmentStatus.APPROVED)
            ),
            approved_version=Subquery(approved("version")[:1]),
            approved_expires_at=Subquery(approved("approval_expires_at")[:1]),
            has_unapproved_deployed_version=Exists(
                ModelVersion.objects.filter(model=OuterRef("pk"), state=VersionState.DEPLOYED, approved_by__isnull=True)
            ),
            unapproved_deployments=Coalesce(
                Subquery(
                    unapproved.order_by().values("version__model").annotate(count=Count("pk")).values("count"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            unapproved_deployment_environment=Subquery(unapproved.order_by("environment").values("environment")[:1]),
            **evidence_fields,
            bias_status=Subquery(latest_bias("status")[:1]),
            bias_finished_at=Subquery(latest_bias("finished_at")[:1]),
            overdue_severe_findings=Coalesce(Subquery(overdue, output_field=IntegerField()), Value(0)),
        )
        .values(*RECORD_FIELDS, *evidence_fields)
    )


def _policies() -> dict[int, TierPolicy]:
    return {policy.tier: policy for policy in TierPolicy.objects.filter(pack__is_active=True)}


def _evidence_names(policies: dict[int, TierPolicy]) -> tuple[str, ...]:
    """Every evidence name the active policies require, once each, in a stable order."""
    return tuple(sorted({str(name) for policy in policies.values() for name in policy.required_evidence}))


def _record(row: dict[str, Any], policies: dict[int, TierPolicy], evidence: tuple[str, ...] = ()) -> ModelRecord:
    policy = policies.get(row["risk_tier"]) if row["risk_tier"] is not None else None
    return ModelRecord(
        key=row["key"],
        lifecycle_stage=row["lifecycle_stage"],
        eu_ai_act_category=row["eu_ai_act_category"],
        business_owner_active=row["business_owner_active"],
        business_owner_is_person=not row["business_owner_is_service"],
        technical_owner_active=row["technical_owner_active"],
        technical_owner_is_person=not row["technical_owner_is_service"],
        has_current_assessment=row["has_current_assessment"],
        approved_version=row["approved_version"],
        approved_expires_at=row["approved_expires_at"],
        approved_evidence=frozenset(name for index, name in enumerate(evidence) if row.get(f"evidence_{index}")),
        has_unapproved_deployed_version=row["has_unapproved_deployed_version"],
        unapproved_deployments=row["unapproved_deployments"],
        unapproved_deployment_environment=row["unapproved_deployment_environment"] or "",
        next_validation_due=row["next_validation_due"],
        bias_status=row["bias_status"],
        bias_finished_at=row["bias_finished_at"],
        overdue_severe_findings=row["overdue_severe_findings"],
        policy_required_evidence=tuple(policy.required_evidence) if policy else (),
        policy_bias_cadence_days=policy.bias_audit_cadence_days if policy else None,
        policy_revalidation_interval_days=policy.revalidation_interval_days if policy else None,
    )


def _statuses(run: AuditRun, now: dt.datetime, counts: Counter[str]) -> Iterator[ComplianceStatus]:
    """One unsaved status per model, counting states and broken rules into ``counts`` as they go."""
    severities = {rule.id: str(rule.severity) for rule in RULES}
    policies = _policies()
    evidence = _evidence_names(policies)
    for row in model_record_queryset(today=now.date(), evidence=evidence).iterator(chunk_size=BATCH_SIZE):
        outcome = evaluate(_record(row, policies, evidence), now)
        counts[f"status:{outcome.state}"] += 1
        counts.update(f"rule:{rule_id}" for rule_id in outcome.broken)
        yield ComplianceStatus(
            run=run,
            model_id=row["pk"],
            status=outcome.state,
            broken_rules=[
                {"rule": rule_id, "severity": severities[rule_id], "reason": reason}
                for rule_id, reason in outcome.broken.items()
            ],
            rule_ids="".join(f",{rule_id}" for rule_id in outcome.broken) + ("," if outcome.broken else ""),
            evaluated_at=now,
        )


def _batches(items: Iterator[ComplianceStatus]) -> Iterator[list[ComplianceStatus]]:
    batch: list[ComplianceStatus] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def may_start_sweep(user: Any) -> bool:
    """Risk Officers (and Admins) start sweeps."""
    return bool(user.is_active and user.has_perm(SWEEP_PERMISSION))


@transaction.atomic
def compliance_sweep_request(
    *, actor: User | None, idempotency_key: str | None = None, enqueue: bool = True
) -> AuditRun:
    """Queue a compliance sweep; the same key finds the run it already created.

    ``actor`` None is the scheduler. Without a key, each web request (or each call outside one) is a sweep of
    its own. The task is enqueued once the run is committed (``enqueue=False`` leaves running it to the caller).
    """
    if actor is not None and not may_start_sweep(actor):
        raise PermissionDenied("Only Risk Officers start compliance sweeps.")
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 0 < len(idempotency_key) <= 200:
            raise ValidationError({"idempotency_key": ["Between 1 and 200 characters."]})
    else:
        request_id = current_request_id.get()
        request_id = uuid.uuid4().hex if request_id in {"", "-"} else request_id
        idempotency_key = f"compliance:{request_id}"[:200]
    existing = AuditRun.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.kind != AuditKind.COMPLIANCE:
            raise ValidationError({"idempotency_key": ["This key was used for another kind of audit."]})
        return existing
    run = AuditRun(
        kind=AuditKind.COMPLIANCE,
        idempotency_key=idempotency_key,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        return AuditRun.objects.get(idempotency_key=idempotency_key)
    if enqueue:
        from audits.tasks import run_compliance_sweep  # the task module imports this one

        transaction.on_commit(lambda: run_compliance_sweep.delay(run.pk), robust=True)
    return run


def compliance_sweep_scheduled() -> AuditRun:
    """The scheduler's sweep of today: one run per day, however often the schedule fires."""
    key = f"compliance:scheduled:{timezone.localdate().isoformat()}"
    return compliance_sweep_request(actor=None, idempotency_key=key, enqueue=False)


def compliance_sweep_execute(*, run_id: int) -> AuditRun:
    """Evaluate every model and record each one's status once, however often the task is delivered.

    The run is marked running in a short transaction. Then, holding the run's row lock, the statuses, the
    summary and the ledger event are written in one transaction: a worker killed midway leaves nothing behind,
    and a second delivery waits for the lock and finds the run finished. The run ends ``passed`` when no model
    is non-compliant and ``failed`` otherwise.
    """
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED_STATUSES:
            return run
        run.status, run.started_at, run.progress = RunStatus.RUNNING, timezone.now(), 10
        run.attempts += 1
        run.save(update_fields=["status", "started_at", "progress", "attempts"])
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED_STATUSES:
            return run
        now = timezone.now()
        counts: Counter[str] = Counter()
        for batch in _batches(_statuses(run, now, counts)):
            ComplianceStatus.objects.bulk_create(batch)
        by_status = {str(state): counts[f"status:{state}"] for state in ComplianceState}
        run.result = {
            "evaluated_at": now.isoformat(),
            "models": sum(by_status.values()),
            "by_status": by_status,
            "by_rule": {rule.id: counts[f"rule:{rule.id}"] for rule in RULES},
            "rules": rules_catalogue(),
        }
        non_compliant = by_status[ComplianceState.NON_COMPLIANT]
        run.status = RunStatus.FAILED if non_compliant else RunStatus.PASSED
        run.finished_at, run.progress = timezone.now(), 100
        run.save()
        ledger_append(
            event_type=EventType.AUDIT_FAILED if non_compliant else EventType.AUDIT_PASSED,
            actor=run.requested_by,
            subject=run,
            summary=f"Compliance sweep of {run.result['models']} models: {non_compliant} non-compliant",
            payload={"run": run.pk, "by_status": by_status, "by_rule": run.result["by_rule"]},
        )
    return run


def sees_portfolio(user: Any) -> bool:
    """Whether the user's roles show every model (Risk Officers, Auditors, Admins): sweeps summarise them all."""
    return bool(user.is_authenticated and (user.is_superuser or has_model_permission(user, RegisteredModel, "view")))


def compliance_sweep_queryset(*, user: Any) -> QuerySet[AuditRun]:
    """Compliance sweeps, for users who see the whole portfolio their summaries count; nothing for others."""
    if not sees_portfolio(user):
        return AuditRun.objects.none()
    return AuditRun.objects.filter(kind=AuditKind.COMPLIANCE).select_related("requested_by")


def compliance_status_queryset(*, user: Any, run: AuditRun | None = None) -> QuerySet[ComplianceStatus]:
    """Statuses of the models the user may see: of ``run``, or else of the latest finished sweep (every sweep
    covers every model, so those are each model's latest status)."""
    statuses = restrict(user, "view", ComplianceStatus.objects.all())
    if run is None:
        latest = (
            AuditRun.objects.filter(kind=AuditKind.COMPLIANCE, status__in=[RunStatus.PASSED, RunStatus.FAILED])
            .order_by(F("finished_at").desc(nulls_last=True), "-id")
            .values("pk")[:1]
        )
        statuses = statuses.filter(run=Subquery(latest))
    else:
        statuses = statuses.filter(run=run)
    return statuses.select_related("model").order_by("model__key")
