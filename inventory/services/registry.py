"""The inventory registry: business units, registered models, versions, dependencies and reporting scopes.

Every change goes through here: validated, permission-checked, one transaction, object permissions granted,
and one field-history record with the actor and the reason.

Services raise ``django.core.exceptions.ValidationError`` with per-field messages for bad input and
``PermissionDenied`` when the actor may not make the change; the web forms and the API turn those into their
own answers. Where the permission does not depend on the input, it is one public ``require_<service>`` function
that the service calls first: the API calls the same function before it reads the body, so a caller who may not
make the change gets a 403 whatever the body holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core.history import CHANGED, record_history, save_with_history
from core.models import User
from core.permissions import has_model_permission, user_can
from inventory.choices import ModelType, RegulatoryUse, VersionState
from inventory.models import (
    BusinessUnit,
    ModelDependency,
    ModelKeySequence,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Tag,
)
from inventory.validators import validate_tag

REASON_MAX = 1000
DEFAULT_KEY_PREFIX = "MDL"

# Object permissions that follow from a person's role on a model. Services keep exactly these in line with
# the owner and validator fields; other object permissions (a CI service account's) are left alone.
OWNER_PERMISSIONS = frozenset({"view_registeredmodel", "change_registeredmodel"})
VALIDATOR_PERMISSIONS = frozenset({"view_registeredmodel", "validate_registeredmodel"})
ROLE_MANAGED_PERMISSIONS = OWNER_PERMISSIONS | VALIDATOR_PERMISSIONS

MODEL_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "purpose",
        "restrictions_on_use",
        "inputs",
        "outputs",
        "limitations",
        "model_type",
        "vendor_name",
        "lifecycle_stage",
        "business_unit",
        "business_owner",
        "technical_owner",
        "validators",
        "regulatory_uses",
        "data_sensitivity",
        "last_validated_on",
        "next_validation_due",
        "tags",
    }
)
MODEL_M2M_FIELDS = ("validators", "tags")
VERSION_EDITABLE_FIELDS = frozenset({"description", "artifact_digest", "training_data_ref", "metrics"})
DEPENDENCY_EDITABLE_FIELDS = frozenset({"kind", "description"})
UNIT_EDITABLE_FIELDS = frozenset({"name", "parent", "key_prefix", "description", "head"})


# --- shared checks -------------------------------------------------------------------------------------------


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"change_reason": [f"At most {REASON_MAX} characters (got {len(reason)})."]})
    return reason


def _check_fields(changes: Mapping[str, Any], editable: frozenset[str], immutable: Mapping[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    for field in changes:
        if field in immutable:
            errors[field] = [immutable[field]]
        elif field not in editable:
            errors[field] = ["This field cannot be changed here."]
    if errors:
        raise ValidationError(errors)


def _full_clean(instance: Any, exclude: Iterable[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_constraints=True)


# --- permission checks ---------------------------------------------------------------------------------------
# Each raises PermissionDenied unless ``actor`` may call the service of that name on that object.


def require_business_unit_create(actor: User) -> None:
    """Adding business units: Risk Officers and Admins (the role's add permission)."""
    if not has_model_permission(actor, BusinessUnit, "add"):
        raise PermissionDenied("You may not add business units.")


def require_business_unit_update(actor: User, unit: BusinessUnit) -> None:
    """Changing a business unit: change permission on it."""
    if not user_can(actor, "change", unit):
        raise PermissionDenied("You may not change business units.")


def require_registered_model_create(actor: User) -> None:
    """Registering models: Model Owners, Risk Officers and Admins (the role's add permission). Whom a Model Owner
    may name as owners is a rule on the input, checked by the service."""
    if not has_model_permission(actor, RegisteredModel, "add"):
        raise PermissionDenied("You may not register models.")


def require_registered_model_update(actor: User, model: RegisteredModel) -> None:
    """Changing a model's inventory record: change permission on the model (its owners, Risk Officers)."""
    if not user_can(actor, "change", model):
        raise PermissionDenied(f"You may not change model {model.key}.")


def require_model_version_update(actor: User, version: ModelVersion) -> None:
    """Changing a version's description and evidence: change permission on the version (through its model)."""
    if not user_can(actor, "change", version):
        raise PermissionDenied(f"You may not change versions of model {version.model.key}.")


def require_model_dependency_update(actor: User, dependency: ModelDependency) -> None:
    """Changing how a dependency is described: change permission on the dependency."""
    if not user_can(actor, "change", dependency):
        raise PermissionDenied("You may not change this dependency.")


def require_model_dependency_delete(actor: User, dependency: ModelDependency) -> None:
    """Removing a dependency: delete permission on the dependency."""
    if not user_can(actor, "delete", dependency):
        raise PermissionDenied("You may not remove this dependency.")


# --- business units ------------------------------------------------------------------------------------------


def _unit_path(code: str, parent: BusinessUnit | None) -> str:
    return f"{parent.path if parent else ''}{code}/"


@transaction.atomic
def business_unit_create(
    *,
    actor: User,
    code: str,
    name: str,
    parent: BusinessUnit | None = None,
    key_prefix: str = "",
    description: str = "",
    head: User | None = None,
    reason: str = "",
) -> BusinessUnit:
    """Add a business unit under ``parent`` (or at the top)."""
    require_business_unit_create(actor)
    reason = _check_reason(reason)
    unit = BusinessUnit(code=code, name=name, parent=parent, key_prefix=key_prefix, description=description, head=head)
    unit.path = _unit_path(code, parent)
    _full_clean(unit)
    save_with_history(unit, actor=actor, reason=reason or "Business unit created")
    return unit


@transaction.atomic
def business_unit_update(
    *, actor: User, unit: BusinessUnit, changes: Mapping[str, Any], reason: str = ""
) -> BusinessUnit:
    """Change a business unit; moving it under another parent moves its whole subtree."""
    require_business_unit_update(actor, unit)
    reason = _check_reason(reason)
    _check_fields(changes, UNIT_EDITABLE_FIELDS, {"code": "The code of a business unit never changes."})
    unit = BusinessUnit.objects.select_for_update().get(pk=unit.pk)
    old_path = unit.path
    for field, value in changes.items():
        setattr(unit, field, value)
    parent = unit.parent
    if parent is not None and (parent.pk == unit.pk or parent.path.startswith(old_path)):
        raise ValidationError({"parent": [f"{parent.code} is {unit.code} itself or below it: that would be a cycle."]})
    unit.path = _unit_path(unit.code, parent)
    _full_clean(unit)
    save_with_history(unit, actor=actor, reason=reason)
    if unit.path != old_path:
        for child in BusinessUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk):
            child.path = unit.path + child.path[len(old_path) :]
            save_with_history(child, actor=actor, reason=f"Moved with {unit.code}", update_fields=["path"])
    return unit


# --- registered models ---------------------------------------------------------------------------------------


def _next_model_key(prefix: str) -> str:
    """The next free key for ``prefix``; the counter row is locked so concurrent registrations never collide."""
    try:
        with transaction.atomic():
            ModelKeySequence.objects.get_or_create(prefix=prefix)
    except IntegrityError:
        pass  # created concurrently by another registration: lock it below
    sequence = ModelKeySequence.objects.select_for_update().get(prefix=prefix)
    number = sequence.last_number
    while True:
        number += 1
        key = f"{prefix}-{number:04d}"
        if not RegisteredModel.objects.filter(key=key).exists():
            break
    sequence.last_number = number
    sequence.save(update_fields=["last_number"])
    return key


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """Tags for the given names, created when new; names are trimmed and lower-cased."""
    cleaned = sorted({name.strip().lower() for name in names if name and name.strip()})
    errors = []
    for name in cleaned:
        try:
            validate_tag(name)
        except ValidationError as exc:
            errors.append(f"{name!r}: {exc.messages[0]}")
    if errors:
        raise ValidationError({"tags": errors})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=name) for name in cleaned if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    return [existing[name] for name in cleaned]


def _validate_model_rules(model: RegisteredModel, validators: list[User] | None) -> None:
    """Business rules of an inventory record that field validation alone cannot express."""
    errors: dict[str, list[str]] = {}
    uses = model.regulatory_uses
    if not isinstance(uses, list) or not all(isinstance(use, str) for use in uses):
        errors["regulatory_uses"] = ["Give a list of regulatory use codes."]
    else:
        unknown = sorted(set(uses) - set(RegulatoryUse.values))
        if unknown:
            errors["regulatory_uses"] = [
                f"Unknown regulatory use(s): {', '.join(unknown)}. Known: {', '.join(RegulatoryUse.values)}."
            ]
        elif RegulatoryUse.NONE in uses and len(uses) > 1:
            errors["regulatory_uses"] = ["'none' cannot be combined with other regulatory uses."]
        elif len(set(uses)) != len(uses):
            errors["regulatory_uses"] = ["A regulatory use is listed twice."]
    if model.model_type == ModelType.VENDOR and not model.vendor_name.strip():
        errors["vendor_name"] = ["A vendor model needs the vendor's name."]
    for field in ("business_owner", "technical_owner"):
        person = getattr(model, field, None)
        if person is not None and (not person.is_active or person.is_service_account):
            errors[field] = [f"{person.username} is not an active person and cannot own a model."]
    if validators is not None:
        owners = {model.business_owner_id, model.technical_owner_id}
        conflicted = sorted(v.username for v in validators if v.pk in owners)
        if conflicted:
            errors["validators"] = [
                f"{', '.join(conflicted)} own(s) this model; validation must be independent of the owners."
            ]
        inactive = sorted(v.username for v in validators if not v.is_active or v.is_service_account)
        if inactive:
            errors.setdefault("validators", []).append(f"Not active people: {', '.join(inactive)}.")
    if model.last_validated_on and model.next_validation_due and model.next_validation_due < model.last_validated_on:
        errors["next_validation_due"] = ["The next validation cannot be due before the last one took place."]
    if errors:
        raise ValidationError(errors)


def _role_holders(model: RegisteredModel) -> dict[int, set[str]]:
    """Object permissions each person should hold on ``model`` because of their role on it."""
    holders: dict[int, set[str]] = {}
    for owner_id in (model.business_owner_id, model.technical_owner_id):
        holders.setdefault(owner_id, set()).update(OWNER_PERMISSIONS)
    for validator_id in model.validators.values_list("pk", flat=True):
        holders.setdefault(validator_id, set()).update(VALIDATOR_PERMISSIONS)
    return holders


def registered_model_sync_permissions(*, model: RegisteredModel, previous_holders: Iterable[int] = ()) -> None:
    """Bring the role-derived object permissions on ``model`` in line with its owners and validators.

    People who lost their role (``previous_holders`` no longer owning or validating) lose what the role gave;
    object permissions not derived from roles (service accounts) are untouched.
    """
    from django.contrib.auth.models import Permission

    wanted = _role_holders(model)
    affected = set(wanted) | set(previous_holders)
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(content_type__app_label="inventory", codename__in=ROLE_MANAGED_PERMISSIONS)
    }
    current = RegisteredModelUserObjectPermission.objects.filter(
        content_object=model, user_id__in=affected, permission__codename__in=ROLE_MANAGED_PERMISSIONS
    ).values_list("pk", "user_id", "permission__codename")
    have: dict[tuple[int, str], int] = {(user_id, codename): pk for pk, user_id, codename in current}
    want = {(user_id, codename) for user_id, codenames in wanted.items() for codename in codenames}
    stale = [pk for pair, pk in have.items() if pair not in want]
    if stale:
        RegisteredModelUserObjectPermission.objects.filter(pk__in=stale).delete()
    missing = [
        RegisteredModelUserObjectPermission(content_object=model, user_id=user_id, permission=permissions[codename])
        for user_id, codename in sorted(want - set(have))
    ]
    RegisteredModelUserObjectPermission.objects.bulk_create(missing)


@transaction.atomic
def registered_model_create(
    *,
    actor: User,
    name: str,
    purpose: str,
    model_type: str,
    business_unit: BusinessUnit,
    business_owner: User,
    technical_owner: User,
    key: str | None = None,
    validators: Iterable[User] = (),
    tags: Iterable[str] = (),
    reason: str = "",
    **fields: Any,
) -> RegisteredModel:
    """Register a model in the inventory.

    Without ``key`` the next key of the business unit's prefix is issued (``CR-0043``). A Model Owner must be
    the business or technical owner of what they register; Risk Officers register for anyone. The owners get
    view and change on the model, the validators view and validate.
    """
    require_registered_model_create(actor)
    unknown = sorted(set(fields) - MODEL_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: ["Unknown field."] for field in unknown})
    reason = _check_reason(reason)
    if not has_model_permission(actor, RegisteredModel, "change") and actor.pk not in {
        business_owner.pk,
        technical_owner.pk,
    }:
        raise ValidationError(
            {"business_owner": ["You must be the business or technical owner of a model you register."]}
        )
    validators = list(validators)
    model = RegisteredModel(
        key=key or "",
        name=name,
        purpose=purpose,
        model_type=model_type,
        business_unit=business_unit,
        business_owner=business_owner,
        technical_owner=technical_owner,
        created_by=actor,
        **fields,
    )
    if key:
        _full_clean(model)
    else:
        _full_clean(model, exclude=["key"])
        model.key = _next_model_key(business_unit.key_prefix or DEFAULT_KEY_PREFIX)
    _validate_model_rules(model, validators)
    tag_objects = tags_from_names(tags)
    save_with_history(
        model,
        actor=actor,
        reason=reason or "Model registered",
        m2m={"validators": validators, "tags": tag_objects},
    )
    registered_model_sync_permissions(model=model)
    return model


@transaction.atomic
def registered_model_update(
    *, actor: User, model: RegisteredModel, changes: Mapping[str, Any], reason: str = ""
) -> RegisteredModel:
    """Change fields of a model's inventory record; the key, risk tier and EU AI Act category are not editable
    here (the tier follows from risk assessments). ``tags`` takes names, ``validators`` takes users."""
    require_registered_model_update(actor, model)
    reason = _check_reason(reason)
    _check_fields(
        changes,
        MODEL_EDITABLE_FIELDS,
        {
            "key": "The key of a model never changes.",
            "risk_tier": "The risk tier follows from the approved risk assessment.",
            "eu_ai_act_category": "The EU AI Act category follows from the approved risk assessment.",
        },
    )
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    previous_holders = set(_role_holders(model))
    validators = list(changes["validators"]) if "validators" in changes else list(model.validators.all())
    m2m: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "validators":
            m2m["validators"] = validators
        elif field == "tags":
            m2m["tags"] = tags_from_names(value)
        else:
            setattr(model, field, value)
    _full_clean(model)
    _validate_model_rules(model, validators)
    save_with_history(model, actor=actor, reason=reason, m2m=m2m)
    if {"business_owner", "technical_owner", "validators"} & set(changes):
        registered_model_sync_permissions(model=model, previous_holders=previous_holders)
    return model


# --- versions ------------------------------------------------------------------------------------------------


@transaction.atomic
def model_version_create(
    *,
    actor: User,
    model: RegisteredModel,
    version: str,
    description: str = "",
    artifact_digest: str = "",
    training_data_ref: str = "",
    metrics: Mapping[str, Any] | None = None,
    reason: str = "",
) -> ModelVersion:
    """Add a draft version to a model. Needs change permission on the model (its owners, Risk Officers)."""
    if not user_can(actor, "change", model):
        raise PermissionDenied(f"You may not add versions to model {model.key}.")
    reason = _check_reason(reason)
    metrics = {} if metrics is None else metrics
    _validate_metrics(metrics)
    instance = ModelVersion(
        model=model,
        version=version,
        description=description,
        artifact_digest=artifact_digest,
        training_data_ref=training_data_ref,
        metrics=dict(metrics),
        created_by=actor,
    )
    _full_clean(instance)
    save_with_history(instance, actor=actor, reason=reason or "Version registered")
    return instance


def _validate_metrics(metrics: Any) -> None:
    if not isinstance(metrics, dict):
        raise ValidationError({"metrics": ["Give metrics as an object of name: number."]})
    bad = sorted(
        str(name)
        for name, value in metrics.items()
        if not isinstance(name, str)
        or len(name) > 100
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != value  # NaN
        or value in (float("inf"), float("-inf"))
    )
    if bad:
        raise ValidationError({"metrics": [f"Metric values must be finite numbers: {', '.join(bad)}."]})
    if len(metrics) > 200:
        raise ValidationError({"metrics": ["At most 200 metrics per version."]})


@transaction.atomic
def model_version_update(
    *, actor: User, version: ModelVersion, changes: Mapping[str, Any], reason: str = ""
) -> ModelVersion:
    """Edit a version's description and evidence. Its workflow state moves only through the approval workflow,
    and what was submitted is frozen: once a version leaves draft its artifact digest cannot change."""
    require_model_version_update(actor, version)
    reason = _check_reason(reason)
    _check_fields(
        changes,
        VERSION_EDITABLE_FIELDS,
        {
            "model": "A version cannot move to another model.",
            "version": "A version label never changes; register a new version.",
            "state": "The state moves only through the approval workflow.",
        },
    )
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    frozen = version.state != VersionState.DRAFT
    if frozen and "artifact_digest" in changes and changes["artifact_digest"] != version.artifact_digest:
        raise ValidationError(
            {"artifact_digest": [f"The version is {version.get_state_display()}: its artifact is frozen."]}
        )
    for field, value in changes.items():
        setattr(version, field, value)
    if "metrics" in changes:
        _validate_metrics(version.metrics)
    _full_clean(version)
    save_with_history(version, actor=actor, reason=reason)
    return version


# --- dependencies --------------------------------------------------------------------------------------------


def _would_create_cycle(upstream: RegisteredModel, downstream: RegisteredModel) -> bool:
    """Whether ``downstream`` already feeds ``upstream`` (directly or through other models)."""
    frontier = {downstream.pk}
    seen: set[int] = set()
    while frontier:
        if upstream.pk in frontier:
            return True
        seen |= frontier
        frontier = (
            set(ModelDependency.objects.filter(upstream_id__in=frontier).values_list("downstream_id", flat=True)) - seen
        )
    return False


@transaction.atomic
def model_dependency_create(
    *,
    actor: User,
    upstream: RegisteredModel,
    downstream: RegisteredModel,
    kind: str = "input",
    description: str = "",
    reason: str = "",
) -> ModelDependency:
    """Record that ``downstream`` uses ``upstream``. Declared by the downstream model's owners."""
    if not user_can(actor, "change", downstream):
        raise PermissionDenied(f"You may not declare dependencies of model {downstream.key}.")
    reason = _check_reason(reason)
    if upstream.pk == downstream.pk:
        raise ValidationError({"upstream": ["A model cannot depend on itself."]})
    if ModelDependency.objects.filter(upstream=upstream, downstream=downstream).exists():
        raise ValidationError({"upstream": [f"{downstream.key} already depends on {upstream.key}."]})
    if _would_create_cycle(upstream, downstream):
        raise ValidationError(
            {
                "upstream": [
                    f"{upstream.key} already uses {downstream.key}, directly or indirectly: that would be a cycle."
                ]
            }
        )
    dependency = ModelDependency(
        upstream=upstream, downstream=downstream, kind=kind, description=description, created_by=actor
    )
    _full_clean(dependency)
    save_with_history(dependency, actor=actor, reason=reason or "Dependency declared")
    return dependency


@transaction.atomic
def model_dependency_update(
    *, actor: User, dependency: ModelDependency, changes: Mapping[str, Any], reason: str = ""
) -> ModelDependency:
    """Change the kind or description of a dependency; to link other models, remove it and declare a new one."""
    require_model_dependency_update(actor, dependency)
    reason = _check_reason(reason)
    _check_fields(
        changes,
        DEPENDENCY_EDITABLE_FIELDS,
        {
            "upstream": "Remove the dependency and declare a new one instead.",
            "downstream": "Remove the dependency and declare a new one instead.",
        },
    )
    for field, value in changes.items():
        setattr(dependency, field, value)
    _full_clean(dependency)
    save_with_history(dependency, actor=actor, reason=reason)
    return dependency


@transaction.atomic
def model_dependency_delete(*, actor: User, dependency: ModelDependency, reason: str = "") -> None:
    """Remove a dependency; its history keeps the record of it."""
    require_model_dependency_delete(actor, dependency)
    reason = _check_reason(reason)
    # simple-history writes the deletion record itself, from these two attributes.
    dependency._history_user = actor  # type: ignore[attr-defined]
    dependency._change_reason = reason or "Dependency removed"  # type: ignore[attr-defined]
    dependency.delete()


REPORTING_PERMISSIONS = ("view_registeredmodel", "report_registeredmodel")


def _require_service_account_manager(actor: User, model: RegisteredModel, service_account: User) -> None:
    if not has_model_permission(actor, RegisteredModel, "change"):
        raise PermissionDenied("Only a Risk Officer or an Admin decides which models a service account reports for.")
    if not service_account.is_service_account or not service_account.is_active:
        raise ValidationError({"service_account": [f"{service_account.username} is not an active service account."]})


@transaction.atomic
def registered_model_grant_reporting(
    *, actor: User, model: RegisteredModel, service_account: User, reason: str = ""
) -> None:
    """Let a CI/CD service account see ``model`` and report artifacts and deployments for it."""
    from guardian.shortcuts import assign_perm

    _require_service_account_manager(actor, model, service_account)
    reason = _check_reason(reason)
    for codename in REPORTING_PERMISSIONS:
        assign_perm(f"inventory.{codename}", service_account, model)
    record_history(
        model, CHANGED, actor=actor, reason=reason or f"{service_account.username} may report for this model"
    )


@transaction.atomic
def registered_model_revoke_reporting(
    *, actor: User, model: RegisteredModel, service_account: User, reason: str = ""
) -> None:
    """Withdraw a service account's access to ``model``."""
    from guardian.shortcuts import remove_perm

    _require_service_account_manager(actor, model, service_account)
    reason = _check_reason(reason)
    for codename in REPORTING_PERMISSIONS:
        remove_perm(f"inventory.{codename}", service_account, model)
    record_history(
        model, CHANGED, actor=actor, reason=reason or f"{service_account.username} may no longer report for this model"
    )
