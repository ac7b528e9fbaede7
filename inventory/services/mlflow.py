"""The MLflow import: read a tracking server, record what it holds for triage, and feed linked models' versions
and artifacts into the inventory; plus the triage decisions a Risk Officer takes on what was found.

The sync reads MLflow first (no database transaction is open while the network is slow), then writes everything
in one transaction, with a savepoint per model so one model's bad data is reported and skipped without undoing
the others. It is idempotent: a second run with nothing changed in MLflow creates no version, artifact or history
record and changes no triage record except its ``last_seen_at``. It never writes to MLflow.

The rules that map MLflow to the portal are in ``inventory.mlflow.mapping`` (and ``docs/mlflow.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.models import User
from core.permissions import has_model_permission
from core.roles import CI_SERVICE
from core.services import user_create
from inventory.choices import ArtifactKind, ExternalModelStatus, ModelType
from inventory.mlflow import mapping
from inventory.mlflow.client import MlflowModelVersion, MlflowRegisteredModel, MlflowRestClient, MlflowRun
from inventory.models import Artifact, BusinessUnit, ExternalRegistryModel, ModelVersion, RegisteredModel
from inventory.services.artifacts import artifact_ingest, may_report, version_for_reporting
from inventory.services.registry import (
    REASON_MAX,
    registered_model_create,
    registered_model_grant_reporting,
)

logger = logging.getLogger(__name__)

SOURCE = "mlflow"
SERVICE_ACCOUNT_USERNAME = "mlflow-sync"


# --- the service account -------------------------------------------------------------------------------------


def mlflow_service_account() -> User:
    """The ``mlflow-sync`` service account the scheduled sync acts as, created with the CI Service role on first use.

    Like every service account it has no password and sees only the models it was granted reporting on (linking a
    model in triage grants it).
    """
    user = User.objects.filter(username=SERVICE_ACCOUNT_USERNAME).first()
    if user is not None:
        return user
    try:
        return user_create(
            username=SERVICE_ACCOUNT_USERNAME,
            first_name="MLflow",
            last_name="sync",
            title="Imports registered models from MLflow",
            roles=[CI_SERVICE],
            is_service_account=True,
        )
    except (ValidationError, IntegrityError):
        # Created concurrently by another sync or triage decision.
        return User.objects.get(username=SERVICE_ACCOUNT_USERNAME)


# --- the report ----------------------------------------------------------------------------------------------


@dataclass
class ModelOutcome:
    """What the sync did with one MLflow registered model."""

    name: str
    status: str  # linked, unregistered, ignored, skipped
    model_key: str = ""
    record: str = "unchanged"  # the triage record: created, updated, unchanged
    versions_created: int = 0
    versions_existing: int = 0
    artifacts_created: int = 0
    artifacts_updated: int = 0
    artifacts_unchanged: int = 0
    notes: list[str] = field(default_factory=list)


_COUNTERS = (
    "versions_created",
    "versions_existing",
    "artifacts_created",
    "artifacts_updated",
    "artifacts_unchanged",
)


@dataclass
class SyncReport:
    """The outcome of one sync, for the command's summary, its ``--json`` output and the task's result."""

    tracking_uri: str
    dry_run: bool = False
    models: list[ModelOutcome] = field(default_factory=list)
    unknown_owners: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def count(self, attribute: str) -> int:
        """The sum of one counter over every model."""
        return sum(getattr(outcome, attribute) for outcome in self.models)

    def with_status(self, status: str) -> list[ModelOutcome]:
        return [outcome for outcome in self.models if outcome.status == status]

    @property
    def totals(self) -> dict[str, int]:
        """Counts of the summary: models by triage status, records, versions and artifacts by what happened."""
        return {
            "models": len(self.models),
            "linked": len(self.with_status("linked")),
            "unregistered": len(self.with_status("unregistered")),
            "ignored": len(self.with_status("ignored")),
            "skipped": len(self.with_status("skipped")),
            "records_created": sum(o.record == "created" for o in self.models),
            "records_updated": sum(o.record == "updated" for o in self.models),
            "versions_created": self.count("versions_created"),
            "versions_existing": self.count("versions_existing"),
            "artifacts_created": self.count("artifacts_created"),
            "artifacts_updated": self.count("artifacts_updated"),
            "artifacts_unchanged": self.count("artifacts_unchanged"),
            "unknown_owners": len(self.unknown_owners),
            "missing": len(self.missing),
        }

    @property
    def changed(self) -> bool:
        """Whether the sync wrote anything but ``last_seen_at`` (or, in a dry run, would have)."""
        totals = self.totals
        return any(
            totals[name]
            for name in (
                "records_created",
                "records_updated",
                "versions_created",
                "artifacts_created",
                "artifacts_updated",
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "tracking_uri": self.tracking_uri,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "totals": self.totals,
            "models": [asdict(outcome) for outcome in self.models],
            "unknown_owners": self.unknown_owners,
            "missing": self.missing,
        }


# --- reading MLflow ------------------------------------------------------------------------------------------


@dataclass
class _Fetched:
    """What was read from MLflow for one registered model before anything is written."""

    model: MlflowRegisteredModel
    versions: list[MlflowModelVersion] = field(default_factory=list)
    runs: dict[str, MlflowRun | None] = field(default_factory=dict)


def _check_sync_actor(actor: User) -> None:
    if not actor.is_active:
        raise PermissionDenied(f"{actor.username} is inactive.")
    if not actor.is_service_account and not has_model_permission(actor, RegisteredModel, "change"):
        raise PermissionDenied("The MLflow sync runs as a service account, a Risk Officer or an Admin.")


def person_for(value: str) -> User | None:
    """The active person (not a service account) whose username is ``value`` or whose e-mail it is, if exactly one."""
    value = value.strip()
    if not value:
        return None
    people = User.objects.filter(is_active=True, is_service_account=False)
    user = people.filter(username=value).first()
    if user is not None:
        return user
    if "@" in value:
        matches = list(people.filter(email__iexact=value)[:2])
        if len(matches) == 1:
            return matches[0]
    return None


def _link_target(
    model: MlflowRegisteredModel, record: ExternalRegistryModel | None, models_by_key: Mapping[str, RegisteredModel]
) -> tuple[str, RegisteredModel | None, list[str]]:
    """(status, inventory model, notes) for an MLflow model: an ignored record stays ignored, a valid
    ``portal.model_key`` tag links, a link made in triage holds, anything else is unregistered."""
    notes: list[str] = []
    if record is not None and record.status == ExternalModelStatus.IGNORED:
        return ExternalModelStatus.IGNORED, None, notes
    key = mapping.linked_key(model.tags)
    if key:
        target = models_by_key.get(key)
        if target is not None:
            if record is not None and record.registered_model_id not in (None, target.pk):
                notes.append(f"the {mapping.TAG_MODEL_KEY} tag moves the link to {key}")
            return ExternalModelStatus.LINKED, target, notes
        notes.append(f"tag {mapping.TAG_MODEL_KEY}={key!r} names no inventory model")
    if record is not None and record.status == ExternalModelStatus.LINKED and record.registered_model is not None:
        return ExternalModelStatus.LINKED, record.registered_model, notes
    return ExternalModelStatus.UNREGISTERED, None, notes


def mlflow_sync(
    *, actor: User, tracking_uri: str, dry_run: bool = False, timeout: float | None = None, token: str = ""
) -> SyncReport:
    """Import what the tracking server at ``tracking_uri`` holds; returns what was (or, dry, would be) done.

    ``actor`` is the account the writes are recorded under: a service account (normally ``mlflow-sync``), a Risk
    Officer or an Admin. Linked models the actor may not report for are skipped and listed, not an error. Raises
    ``inventory.mlflow.client.MlflowError`` when the server cannot be read; nothing is written then.
    """
    _check_sync_actor(actor)
    client = MlflowRestClient(tracking_uri, token=token, **({"timeout": timeout} if timeout else {}))
    uri = client.tracking_uri
    report = SyncReport(tracking_uri=uri, dry_run=dry_run)

    found = client.registered_models()
    records = {
        record.name: record
        for record in ExternalRegistryModel.objects.filter(source=SOURCE, tracking_uri=uri).select_related(
            "registered_model"
        )
    }
    tagged_keys = {mapping.linked_key(model.tags) for model in found} - {""}
    models_by_key = {model.key: model for model in RegisteredModel.objects.filter(key__in=tagged_keys)}

    plans: list[tuple[MlflowRegisteredModel, ModelOutcome, RegisteredModel | None, _Fetched | None]] = []
    for model in found:
        status, target, notes = _link_target(model, records.get(model.name), models_by_key)
        outcome = ModelOutcome(name=model.name, status=status, model_key=target.key if target else "", notes=notes)
        fetched = None
        if target is not None:
            if may_report(actor, target):
                fetched = _fetch(client, model)
            else:
                outcome.status = "skipped"
                outcome.notes.append(
                    f"{actor.username} may not report for {target.key}: link it in triage or grant it reporting"
                )
        plans.append((model, outcome, target, fetched))
        report.models.append(outcome)
        for value in mapping.owner_hints(model.tags).values():
            if person_for(value) is None:
                report.unknown_owners.append({"name": model.name, "owner": value})
    seen = {model.name for model in found}
    report.missing = sorted(name for name in records if name not in seen)

    with transaction.atomic():
        now = timezone.now()
        for model, outcome, target, fetched in plans:
            _record_upsert(
                model=model, record=records.get(model.name), outcome=outcome, target=target, uri=uri, now=now
            )
            if fetched is not None and target is not None:
                try:
                    with transaction.atomic():
                        _import_versions(actor=actor, uri=uri, target=target, fetched=fetched, outcome=outcome)
                except (ValidationError, PermissionDenied, Http404) as exc:
                    outcome.status = "skipped"
                    outcome.notes.append(f"not imported: {_message(exc)}")
                    for counter in _COUNTERS:
                        setattr(outcome, counter, 0)
        if dry_run:
            transaction.set_rollback(True)
    logger.info("MLflow sync of %s by %s: %s", uri, actor.username, report.totals)
    return report


def _fetch(client: MlflowRestClient, model: MlflowRegisteredModel) -> _Fetched:
    """The versions of a linked model and the runs behind them (each run read once)."""
    fetched = _Fetched(model=model, versions=client.model_versions(model.name))
    for version in fetched.versions:
        if version.run_id and version.run_id not in fetched.runs:
            fetched.runs[version.run_id] = client.run(version.run_id)
    return fetched


def _message(exc: Exception) -> str:
    """A refusal as one line: ``field: message`` for each field of a ValidationError."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _record_upsert(
    *,
    model: MlflowRegisteredModel,
    record: ExternalRegistryModel | None,
    outcome: ModelOutcome,
    target: RegisteredModel | None,
    uri: str,
    now: datetime,
) -> None:
    """Create or update the triage record of ``model``; an unchanged record only has its ``last_seen_at`` moved."""
    values = mapping.record_fields(model)
    status = outcome.status if outcome.status != "skipped" else ExternalModelStatus.LINKED
    values["status"] = status
    values["registered_model"] = target if status == ExternalModelStatus.LINKED else None
    if record is None:
        ExternalRegistryModel.objects.create(
            source=SOURCE, tracking_uri=uri, name=model.name, first_seen_at=now, last_seen_at=now, **values
        )
        outcome.record = "created"
        return
    if record.status == ExternalModelStatus.IGNORED:
        values.pop("status")
        values.pop("registered_model")
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    if changed:
        for name in changed:
            setattr(record, name, values[name])
        record.last_seen_at = now
        record.save(update_fields=[*changed, "last_seen_at", "updated_at"])
        outcome.record = "updated"
    else:
        # Seeing a model again is not a change of it: updated_at stays, only the sighting is recorded.
        ExternalRegistryModel.objects.filter(pk=record.pk).update(last_seen_at=now)


def _import_versions(
    *, actor: User, uri: str, target: RegisteredModel, fetched: _Fetched, outcome: ModelOutcome
) -> None:
    """Each MLflow version of a linked model as a portal version (a draft when new) with its artifacts."""
    labels = set(ModelVersion.objects.filter(model=target).values_list("version", flat=True))
    for version in fetched.versions:
        label = mapping.version_label(version)
        problem = mapping.label_problem(label)
        if problem:
            outcome.notes.append(f"MLflow version {version.version} skipped: {problem}")
            continue
        existed = label in labels
        portal_version = version_for_reporting(
            actor=actor,
            model_key=target.key,
            version_label=label,
            create=True,
            reason=f"Imported from MLflow: {fetched.model.name} version {version.version}",
        )
        labels.add(label)
        if existed:
            outcome.versions_existing += 1
        else:
            outcome.versions_created += 1
        artifacts: list[tuple[str, dict[str, Any]]] = []
        run = fetched.runs.get(version.run_id) if version.run_id else None
        if run is not None:
            artifacts.append((ArtifactKind.EXPERIMENT_RUN, mapping.experiment_run_fields(tracking_uri=uri, run=run)))
        elif version.run_id:
            outcome.notes.append(f"MLflow version {version.version}: run {version.run_id} no longer exists")
        model_file = mapping.model_file_fields(version)
        if model_file is not None:
            artifacts.append((ArtifactKind.MODEL_FILE, model_file))
        elif version.source:
            outcome.notes.append(f"MLflow version {version.version}: no sha256 tag, model file not recorded")
        _ingest(actor=actor, version=portal_version, artifacts=artifacts, outcome=outcome)


def _ingest(
    *, actor: User, version: ModelVersion, artifacts: list[tuple[str, dict[str, Any]]], outcome: ModelOutcome
) -> None:
    """Ingest the artifacts of one version, counting which were created, changed or left as they were."""
    if not artifacts:
        return
    before = dict(Artifact.objects.filter(version=version).values_list("pk", "updated_at"))
    for kind, data in artifacts:
        artifact, created = artifact_ingest(actor=actor, version=version, kind=kind, data=data)
        if created:
            outcome.artifacts_created += 1
        elif before.get(artifact.pk) != artifact.updated_at:
            outcome.artifacts_updated += 1
        else:
            outcome.artifacts_unchanged += 1


# --- triage --------------------------------------------------------------------------------------------------


def _require_triager(actor: User) -> None:
    if not actor.is_active or not has_model_permission(actor, RegisteredModel, "change"):
        raise PermissionDenied("Only a Risk Officer or an Admin triages models found in MLflow.")


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"change_reason": [f"At most {REASON_MAX} characters (got {len(reason)})."]})
    return reason


def _locked(record: ExternalRegistryModel) -> ExternalRegistryModel:
    # No select_related: PostgreSQL cannot lock the nullable side of the outer join it would add.
    return ExternalRegistryModel.objects.select_for_update().get(pk=record.pk)


def _grant_sync_account(*, actor: User, model: RegisteredModel, record: ExternalRegistryModel, reason: str) -> None:
    """Let the sync's service account report for ``model``, once (a second grant would add a history record)."""
    account = mlflow_service_account()
    if may_report(account, model):
        return
    registered_model_grant_reporting(
        actor=actor,
        model=model,
        service_account=account,
        reason=reason or f"Linked to MLflow model {record.name} ({record.tracking_uri})",
    )


@transaction.atomic
def external_model_link(
    *, actor: User, record: ExternalRegistryModel, model: RegisteredModel, reason: str = ""
) -> ExternalRegistryModel:
    """Link an MLflow model to an inventory model: later syncs import its versions and artifacts into ``model``.

    Risk Officers and Admins. The ``mlflow-sync`` service account is granted reporting on ``model``. Linking
    again to the same model changes nothing; an ignored or differently linked record is re-linked.
    """
    _require_triager(actor)
    reason = _check_reason(reason)
    record = _locked(record)
    if record.status == ExternalModelStatus.LINKED and record.registered_model_id == model.pk:
        return record
    record.status = ExternalModelStatus.LINKED
    record.registered_model = model
    record.save(update_fields=["status", "registered_model", "updated_at"])
    _grant_sync_account(actor=actor, model=model, record=record, reason=reason)
    logger.info("%s linked MLflow model %s to %s: %s", actor.username, record.name, model.key, reason)
    return record


@transaction.atomic
def external_model_ignore(*, actor: User, record: ExternalRegistryModel, reason: str = "") -> ExternalRegistryModel:
    """Mark an MLflow model as not a governed model: syncs keep recording it but import nothing from it, even when
    it carries a ``portal.model_key`` tag. A linked record is unlinked (what was imported stays). Risk Officers and
    Admins; the reason is required, since leaving a model out of governance is a decision someone must own."""
    _require_triager(actor)
    reason = _check_reason(reason)
    if not reason:
        raise ValidationError({"change_reason": ["Say why this MLflow model is not governed."]})
    record = _locked(record)
    if record.status == ExternalModelStatus.IGNORED:
        return record
    record.status = ExternalModelStatus.IGNORED
    record.registered_model = None
    record.save(update_fields=["status", "registered_model", "updated_at"])
    logger.info("%s ignored MLflow model %s: %s", actor.username, record.name, reason)
    return record


def _owner(field_name: str, given: User | None, named: str, errors: dict[str, list[str]]) -> User | None:
    if given is not None:
        return given
    if not named:
        errors[field_name] = ["MLflow names no owner for this model: choose one."]
        return None
    person = person_for(named)
    if person is None:
        errors[field_name] = [f"MLflow names {named!r}, who is not a portal user: choose the owner."]
    return person


@transaction.atomic
def external_model_register(
    *,
    actor: User,
    record: ExternalRegistryModel,
    business_unit: BusinessUnit,
    purpose: str = "",
    name: str = "",
    model_type: str = ModelType.MACHINE_LEARNING,
    business_owner: User | None = None,
    technical_owner: User | None = None,
    key: str | None = None,
    reason: str = "",
    **fields: Any,
) -> RegisteredModel:
    """Register an MLflow model in the inventory and link the record to it (Risk Officers and Admins).

    Unless given, the name is MLflow's, the purpose its description, and the owners those its tags name, matched
    to portal people by username or e-mail; an owner MLflow names who is not a portal user is refused by name
    rather than guessed. The model is created by ``registered_model_create`` and linked as by
    :func:`external_model_link`.
    """
    _require_triager(actor)
    reason = _check_reason(reason)
    record = _locked(record)
    if record.status == ExternalModelStatus.LINKED and record.registered_model is not None:
        raise ValidationError(
            {"non_field_errors": [f"MLflow model {record.name} is already linked to {record.registered_model.key}."]}
        )
    hints = mapping.owner_hints(record.tags)
    errors: dict[str, list[str]] = {}
    business = _owner("business_owner", business_owner, hints.business, errors)
    technical = _owner("technical_owner", technical_owner, hints.technical, errors)
    purpose = (purpose or record.description).strip()
    if not purpose:
        errors["purpose"] = ["MLflow has no description of this model: give its business purpose."]
    if errors:
        raise ValidationError(errors)
    assert business is not None
    assert technical is not None
    model = registered_model_create(
        actor=actor,
        name=(name or record.name)[:200],
        purpose=purpose,
        model_type=model_type,
        business_unit=business_unit,
        business_owner=business,
        technical_owner=technical,
        key=key,
        reason=reason or f"Registered from MLflow model {record.name} ({record.tracking_uri})",
        **fields,
    )
    record.status = ExternalModelStatus.LINKED
    record.registered_model = model
    record.save(update_fields=["status", "registered_model", "updated_at"])
    _grant_sync_account(actor=actor, model=model, record=record, reason="")
    return model
