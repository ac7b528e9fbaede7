"""What pipelines report: artifacts (commits, CI runs, images, datasets, model files...) and deployments.

Reporting is idempotent. An artifact is one record per version, kind and canonical identity (see
``inventory.artifact_kinds``): reporting it again updates the record (metadata merged, one history record only
when something changed) and never duplicates it, even when two reports race. A deployment carrying the
pipeline's own ``external_id`` is one record per version, environment and id.

Who may report for a model: its owners and Risk Officers (change on the model), Admins, and the service
accounts granted ``report_registeredmodel`` on it. Artifacts may be added to a version in any state, because
evidence keeps arriving after approval, but they never touch the version's frozen ``artifact_digest``, and an
artifact recorded after the approval does not count as approved (``inventory.selectors.approved_digests``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.history import save_with_history
from core.models import User
from core.permissions import restrict
from inventory.artifact_kinds import NormalisedArtifact, check_fields, describe, kind_spec, normalise
from inventory.choices import ArtifactKind, DeploymentStatus
from inventory.models import Artifact, Deployment, ModelVersion, RegisteredModel
from inventory.selectors import approved_digests
from inventory.services.registry import REASON_MAX
from inventory.signals import deployment_reported

BATCH_MAX = 100
METADATA_MAX_CHARS = 20_000
# Clocks of CI runners drift; a deployment reported a little in the future is a clock, not a lie.
FUTURE_TOLERANCE = timedelta(minutes=5)


def may_report(actor: User, model: RegisteredModel) -> bool:
    """Whether ``actor`` may report artifacts and deployments for ``model``.

    Change on the model (its owners, Risk Officers, Admins, whether by object permission or by role) or the
    ``report_registeredmodel`` object permission a service account is granted for the models it reports for.
    """
    if not actor.is_authenticated or not actor.is_active:
        return False
    rows = RegisteredModel.objects.filter(pk=model.pk)
    return restrict(actor, "change", rows).exists() or restrict(actor, "custom:report_registeredmodel", rows).exists()


def _require_reporter(actor: User, model: RegisteredModel) -> None:
    if not may_report(actor, model):
        raise PermissionDenied(f"You may not report artifacts or deployments for model {model.key}.")


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"change_reason": [f"At most {REASON_MAX} characters (got {len(reason)})."]})
    return reason


def version_for_reporting(
    *, actor: User, model_key: str, version_label: str, create: bool = False, reason: str = ""
) -> ModelVersion:
    """The version a pipeline reports for, named by model key and version label.

    A model the actor may not see is a 404 (``Http404``), one it sees but may not report for a
    ``PermissionDenied``. A missing version is refused naming ``version``, unless ``create`` is set: then a
    draft version is registered, as ``model_version_create`` would, by whoever may report for the model.
    """
    if not isinstance(model_key, str) or not model_key.strip():
        raise ValidationError({"model": ["Give the model's key, e.g. CR-0042."]})
    if not isinstance(version_label, str) or not version_label.strip():
        raise ValidationError({"version": ["Give the version's label, e.g. 2.3.0."]})
    model_key, version_label = model_key.strip(), version_label.strip()
    model = restrict(actor, "view", RegisteredModel.objects.all()).filter(key=model_key).first()
    if model is None:
        raise Http404(f"No model {model_key} visible to you.")
    _require_reporter(actor, model)
    version = ModelVersion.objects.filter(model=model, version=version_label).select_related("model").first()
    if version is not None:
        return version
    if not create:
        raise ValidationError(
            {
                "version": [
                    f"Model {model.key} has no version {version_label}. Register it first, or send "
                    '"create_version": true to register it as a draft.'
                ]
            }
        )
    return _draft_version_create(actor=actor, model=model, label=version_label, reason=_check_reason(reason))


@transaction.atomic
def _draft_version_create(*, actor: User, model: RegisteredModel, label: str, reason: str) -> ModelVersion:
    """A draft version with nothing but its label; a concurrent report that registered it first wins."""
    version = ModelVersion(model=model, version=label, created_by=actor)
    version.full_clean(exclude=["model", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            save_with_history(version, actor=actor, reason=reason or "Version registered by a reporting pipeline")
    except IntegrityError:
        return ModelVersion.objects.select_related("model").get(model=model, version=label)
    return version


# --- artifacts ---------------------------------------------------------------------------------------------------


def _refuse_deployment_kind(kind: str, field: str = "kind") -> None:
    if kind == ArtifactKind.DEPLOYMENT:
        raise ValidationError(
            {
                field: [
                    "A deployment is stored as a deployment record: report it with deployment_report "
                    "(POST /api/v1/deployments/, or one item on POST /api/v1/artifacts/)."
                ]
            }
        )


def _store(*, actor: User, version: ModelVersion, normal: NormalisedArtifact) -> tuple[Artifact, bool]:
    """Create the artifact, or update the one with the same identity; runs inside the caller's transaction."""
    lookup = {"version": version, "kind": normal.kind, "identity": normal.identity}
    existing = Artifact.objects.select_for_update().filter(**lookup).first()
    if existing is None:
        artifact = Artifact(
            **lookup,
            name=normal.name,
            uri=normal.uri,
            digest=normal.digest,
            metadata=normal.fields,
            reported_by=actor,
        )
        artifact.full_clean(exclude=["version", "reported_by"], validate_unique=False, validate_constraints=False)
        try:
            # A savepoint: when a concurrent report inserted the same identity first, only this insert is undone
            # and the report becomes an update of that row.
            with transaction.atomic():
                save_with_history(artifact, actor=actor, reason="Artifact reported")
        except IntegrityError:
            existing = Artifact.objects.select_for_update().get(**lookup)
        else:
            return artifact, True
    return _update(actor=actor, artifact=existing, normal=normal), False


def _update(*, actor: User, artifact: Artifact, normal: NormalisedArtifact) -> Artifact:
    """Merge a new report into an existing artifact: fields sent replace stored ones, fields left out are kept."""
    merged = describe(normal.kind, {**artifact.metadata, **normal.fields})
    new_values = {"name": merged.name, "uri": merged.uri, "digest": merged.digest, "metadata": merged.fields}
    changed = [name for name, value in new_values.items() if getattr(artifact, name) != value]
    if not changed:
        return artifact
    for name in changed:
        setattr(artifact, name, new_values[name])
    artifact.reported_by = actor
    artifact.full_clean(exclude=["version", "reported_by"], validate_unique=False, validate_constraints=False)
    save_with_history(artifact, actor=actor, reason=f"Artifact reported again; changed: {', '.join(changed)}")
    return artifact


@transaction.atomic
def artifact_ingest(*, actor: User, version: ModelVersion, kind: str, data: Mapping[str, Any]) -> tuple[Artifact, bool]:
    """Record one artifact of ``version``; returns it and whether it was created (False: it existed already).

    ``data`` holds the kind's fields (``inventory.artifact_kinds.KINDS``); bad formats and unknown fields are
    refused naming each field, and nothing is written.
    """
    _require_reporter(actor, version.model)
    _refuse_deployment_kind(kind_spec(kind).kind)
    return _store(actor=actor, version=version, normal=normalise(kind, data))


@transaction.atomic
def artifact_ingest_many(
    *, actor: User, version: ModelVersion, items: Sequence[Mapping[str, Any]]
) -> list[tuple[Artifact, bool]]:
    """Record up to ``BATCH_MAX`` artifacts of one version, all or nothing.

    Each item holds ``kind`` and that kind's fields. Every item is checked before anything is written; refusals
    name the item by position (``artifacts[3].sha``). Two items with the same identity make one record.
    """
    _require_reporter(actor, version.model)
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise ValidationError({"artifacts": ["Give a list of 1 to 100 artifacts."]})
    if len(items) > BATCH_MAX:
        raise ValidationError({"artifacts": [f"At most {BATCH_MAX} artifacts per batch (got {len(items)})."]})
    errors: dict[str, list[str]] = {}
    normalised: list[NormalisedArtifact] = []
    for position, item in enumerate(items):
        prefix = f"artifacts[{position}]"
        if not isinstance(item, Mapping):
            errors[prefix] = ["Give the artifact as an object with kind and its fields."]
            continue
        fields = dict(item)
        kind = fields.pop("kind", None)
        try:
            _refuse_deployment_kind(kind_spec(kind).kind)
            normalised.append(normalise(kind, fields))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors[f"{prefix}.{name}"] = messages
    if errors:
        raise ValidationError(errors)
    return [_store(actor=actor, version=version, normal=normal) for normal in normalised]


# --- deployments -------------------------------------------------------------------------------------------------


def _check_deployed_at(deployed_at: datetime | None) -> datetime:
    if deployed_at is None:
        return timezone.now()
    if not isinstance(deployed_at, datetime):
        raise ValidationError({"deployed_at": ["Give a date-time."]})
    if timezone.is_naive(deployed_at):
        deployed_at = timezone.make_aware(deployed_at)
    if deployed_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"deployed_at": ["A deployment cannot be reported before it happens."]})
    return deployed_at


def _check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValidationError({"metadata": ["Give a JSON object."]})
    try:
        size = len(json.dumps(metadata))
    except (TypeError, ValueError):
        raise ValidationError({"metadata": ["Give a JSON object (text, numbers, lists, objects)."]}) from None
    if size > METADATA_MAX_CHARS:
        raise ValidationError({"metadata": [f"At most {METADATA_MAX_CHARS} characters of JSON (got {size})."]})
    return dict(metadata)


@transaction.atomic
def deployment_report(
    *,
    actor: User,
    version: ModelVersion,
    environment: str,
    digest: str,
    target: str = "",
    status: str = DeploymentStatus.SUCCEEDED,
    deployed_at: datetime | None = None,
    external_id: str = "",
    decision_id: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> tuple[Deployment, bool]:
    """Record what a pipeline deployed; returns the deployment and whether it was created.

    ``matches_approval`` is fixed by the first report: whether ``digest`` is among the version's approved
    digests at that moment. With ``external_id`` the report is idempotent: the same version, environment and
    id update the record (status, target, decision, metadata merged); its digest cannot change. Each report that
    creates or changes a record sends ``deployment_reported`` inside this transaction, so what its receivers
    write (the gate's ledger event and finding) commits or fails with the report; an identical retry sends
    nothing.
    """
    _require_reporter(actor, version.model)
    fields = check_fields(
        ArtifactKind.DEPLOYMENT,
        {
            "environment": environment,
            "digest": digest,
            "target": target,
            "status": status or DeploymentStatus.SUCCEEDED,
            "external_id": external_id,
            "decision_id": decision_id,
        },
    )
    when = _check_deployed_at(deployed_at)
    extra = _check_metadata(metadata)
    values: dict[str, Any] = {
        "environment": fields["environment"],
        "digest": fields["digest"],
        "target": fields.get("target", ""),
        "status": fields["status"],
        "external_id": fields.get("external_id", ""),
        "decision_id": fields.get("decision_id", ""),
    }
    existing = None
    if values["external_id"]:
        existing = (
            Deployment.objects.select_for_update()
            .filter(version=version, environment=values["environment"], external_id=values["external_id"])
            .first()
        )
    if existing is None:
        deployment = Deployment(
            version=version,
            **values,
            deployed_at=when,
            metadata=extra,
            matches_approval=values["digest"] in approved_digests(version),
            reported_by=actor,
        )
        deployment.full_clean(exclude=["version", "reported_by"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                save_with_history(deployment, actor=actor, reason="Deployment reported")
        except IntegrityError:
            existing = Deployment.objects.select_for_update().get(
                version=version, environment=values["environment"], external_id=values["external_id"]
            )
        else:
            deployment_reported.send(sender=Deployment, deployment=deployment, actor=actor, created=True)
            return deployment, True
    changed = _deployment_update(
        actor=actor,
        deployment=existing,
        values=values,
        deployed_at=None if deployed_at is None else when,
        metadata=extra,
    )
    if changed:
        deployment_reported.send(sender=Deployment, deployment=existing, actor=actor, created=False)
    return existing, False


def _deployment_update(
    *,
    actor: User,
    deployment: Deployment,
    values: Mapping[str, Any],
    deployed_at: datetime | None,
    metadata: Mapping[str, Any],
) -> bool:
    """Apply a re-report to an existing deployment; whether anything changed."""
    if values["digest"] != deployment.digest:
        raise ValidationError(
            {
                "digest": [
                    f"Deployment {deployment.external_id} to {deployment.environment} was reported with "
                    f"{deployment.digest}; a report with the same external_id cannot change the digest."
                ]
            }
        )
    new_values: dict[str, Any] = {"status": values["status"]}
    for name in ("target", "decision_id"):
        if values[name]:
            new_values[name] = values[name]
    if deployed_at is not None:
        new_values["deployed_at"] = deployed_at
    if metadata:
        new_values["metadata"] = {**deployment.metadata, **metadata}
    changed = [name for name, value in new_values.items() if getattr(deployment, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(deployment, name, new_values[name])
    deployment.reported_by = actor
    deployment.full_clean(exclude=["version", "reported_by"], validate_unique=False, validate_constraints=False)
    save_with_history(deployment, actor=actor, reason=f"Deployment reported again; changed: {', '.join(changed)}")
    return True
