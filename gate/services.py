"""Writes of the gate: answering a pipeline's question, and reacting to what a pipeline reports it deployed.

Every answer is a :class:`GateDecision` row and a ledger event (``deployment.allowed`` / ``deployment.denied``)
written together (one statement on PostgreSQL, one transaction on SQLite), with a signed decision token the
pipeline can hand on. Every reported deployment is a ``deployment.reported`` ledger event; a successful deployment
of a digest that was never approved raises one high-severity finding per version, environment and digest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from core.models import User
from gate import signing
from gate.choices import GateOutcome
from gate.models import GateDecision
from gate.reasons import deny_reasons
from gate.selectors import askable_model, gate_facts
from governance.choices import EventType, FindingSeverity, FindingSource
from governance.ledger import ledger_append, ledger_append_record
from governance.services.findings import finding_raise
from inventory.choices import DeploymentStatus
from inventory.models import Deployment
from inventory.validators import (
    validate_digest,
    validate_environment,
    validate_git_sha,
    validate_model_key,
    validate_version_label,
)

PIPELINE_FIELDS = ("ci_run_url", "commit_sha")


def _clean_request(
    *, model_key: Any, version_label: Any, environment: Any, digest: Any, pipeline: Mapping[str, Any] | None
) -> tuple[str, str, str, str, dict[str, str]]:
    """The request's values checked and normalised, or a ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, value, validator in (
        ("model", model_key, validate_model_key),
        ("version", version_label, validate_version_label),
        ("environment", environment, validate_environment),
        ("digest", digest, validate_digest),
    ):
        text = value.strip() if isinstance(value, str) else ""
        if name == "digest":
            text = text.lower()
        values[name] = text
        if not text:
            errors[name] = ["This field is required."]
            continue
        try:
            validator(text)
        except ValidationError as error:
            errors[name] = list(error.messages)
    context: dict[str, str] = {}
    for name, value in (pipeline or {}).items():
        if name not in PIPELINE_FIELDS:
            errors[name] = [f"Unknown field. The pipeline context accepts: {', '.join(PIPELINE_FIELDS)}."]
            continue
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            continue
        if name == "ci_run_url":
            try:
                URLValidator(schemes=["http", "https"])(text)
            except ValidationError:
                errors[name] = ["Give the CI run's http(s) URL."]
            if len(text) > 2000:
                errors[name] = ["At most 2000 characters."]
        elif name == "commit_sha":
            text = text.lower()
            try:
                validate_git_sha(text)
            except ValidationError:
                errors[name] = ["A commit SHA is 40 hex digits."]
        context[name] = text
    if errors:
        raise ValidationError(errors)
    return values["model"], values["version"], values["environment"], values["digest"], context


def gate_check(
    *,
    actor: User,
    model_key: str,
    version_label: str,
    environment: str,
    digest: str,
    pipeline: Mapping[str, Any] | None = None,
) -> GateDecision:
    """Decide whether ``digest`` of the model's version may be deployed to ``environment``; record and sign it.

    A model the actor may not see is a 404; one the actor sees but may not report deployments for is refused
    (PermissionDenied). An unregistered version is answered (deny, ``version_not_found``) and recorded, so a
    pipeline that asked about the wrong version can prove it did. In environments listed in
    ``GATE_UNGATED_ENVIRONMENTS`` the answer is always allow; the reasons found are still returned and recorded.
    """
    model_key, version_label, environment, digest, context = _clean_request(
        model_key=model_key, version_label=version_label, environment=environment, digest=digest, pipeline=pipeline
    )
    # Whoever may report deployments of the model may ask about it: a CI service account scoped to it, its
    # owners, and roles that change every model (Risk Officers, Admins). Auditors see, but may not ask.
    model, may_ask = askable_model(user=actor, key=model_key)
    if model is None:
        raise Http404(f"No model {model_key} visible to you.")
    if not may_ask:
        raise PermissionDenied(f"You may not report deployments of {model.key}, so you may not ask the gate.")
    now = timezone.now()
    facts, version = gate_facts(model=model, version_label=version_label, digest=digest, now=now)
    reasons = [reason.as_dict() for reason in deny_reasons(facts, now)]
    gated = environment not in settings.GATE_UNGATED_ENVIRONMENTS
    outcome = GateOutcome.DENY if reasons and gated else GateOutcome.ALLOW
    issued = now.replace(microsecond=0)
    expires = issued + dt.timedelta(seconds=settings.GATE_TOKEN_TTL_SECONDS)
    decision = GateDecision(
        id=uuid.uuid4(),
        model=model,
        version=version,
        version_label=version_label,
        environment=environment,
        digest=digest,
        decision=outcome,
        gated=gated,
        reasons=reasons,
        pipeline=context,
        requested_by=actor,
        created_at=now,
        expires_at=expires,
    )
    decision.token = signing.sign(
        {
            "iss": settings.PORTAL_BASE_URL,
            "sub": model.key,
            "version": version_label,
            "environment": environment,
            "digest": digest,
            "decision": str(outcome),
            "reasons": [reason["code"] for reason in reasons],
            "gated": gated,
            "jti": str(decision.id),
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
        }
    )
    codes = ", ".join(reason["code"] for reason in reasons)
    # The decision is inserted with its ledger event, in one statement that commits on its own.
    ledger_append_record(
        record=decision,
        event_type=EventType.DEPLOYMENT_ALLOWED if outcome == GateOutcome.ALLOW else EventType.DEPLOYMENT_DENIED,
        actor=actor,
        model=model,
        summary=f"Gate {outcome}: {model.key} v{version_label} ({digest[:19]}) to {environment}"
        + (f" ({codes})" if codes else ""),
        payload={
            "decision_id": str(decision.id),
            "version": version_label,
            "environment": environment,
            "digest": digest,
            "decision": str(outcome),
            "gated": gated,
            "reasons": [reason["code"] for reason in reasons],
            "pipeline": context,
            "expires_at": expires,
        },
    )
    return decision


@transaction.atomic
def deployment_report_received(*, deployment: Deployment, actor: User | None, created: bool) -> None:
    """Record a reported deployment in the ledger; a successful deployment of a digest never approved for its
    version raises a high-severity finding on the model (once per version, environment and digest while it is
    live). Runs inside the reporting transaction: if this fails, the report is not recorded either."""
    version = deployment.version
    model = version.model
    ledger_append(
        event_type=EventType.DEPLOYMENT_REPORTED,
        actor=actor,
        model=model,
        subject=deployment,
        summary=f"{model.key} v{version.version} ({deployment.digest[:19]}) {deployment.status} in "
        f"{deployment.environment}" + ("" if deployment.matches_approval else " (digest not approved)"),
        payload={
            "deployment": deployment.pk,
            "version": version.version,
            "environment": deployment.environment,
            "target": deployment.target,
            "digest": deployment.digest,
            "status": deployment.status,
            "deployed_at": deployment.deployed_at,
            "matches_approval": deployment.matches_approval,
            "decision_id": deployment.decision_id,
            "external_id": deployment.external_id,
            "created": created,
        },
    )
    if deployment.matches_approval or deployment.status != DeploymentStatus.SUCCEEDED:
        return
    finding_raise(
        actor=actor,
        model=model,
        version=version,
        source=FindingSource.DEPLOYMENT,
        severity=FindingSeverity.HIGH,
        title=f"Unapproved digest deployed to {deployment.environment}"[:200],
        description=(
            f"{actor.username if actor else 'A pipeline'} reported deploying {deployment.digest} of v{version.version} "
            f"to {deployment.environment}{f' ({deployment.target})' if deployment.target else ''} on "
            f"{deployment.deployed_at:%Y-%m-%d %H:%M} UTC. That digest was never approved for the version: roll "
            "back to an approved digest, or take the version through approval."
        ),
        due_date=timezone.localdate() + dt.timedelta(days=settings.GATE_UNAPPROVED_DEPLOYMENT_DUE_DAYS),
        dedup_key=f"deployment:{version.pk}:{deployment.environment}:{deployment.digest}",
        check_permission=False,
    )
