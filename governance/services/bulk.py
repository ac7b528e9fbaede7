"""Bulk actions a Risk Officer takes on models selected in the inventory: assign a validator, request a
reassessment.

Each action is all or nothing: every selected model is checked, the problems of all of them are reported
together (per model), and nothing is written unless every model passes.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from core.models import User
from governance.choices import EventType, NotificationKind
from governance.ledger import ledger_append, ledger_lock
from governance.models import GovernanceEvent, RiskAssessment
from governance.services.common import clean_comment, require_role_permission
from governance.services.notifications import notify
from inventory.models import RegisteredModel
from inventory.services import REASON_MAX, registered_model_update

# More models than one inventory page holds is more than anyone checked by eye.
BULK_MAX = 200
# The role permission that marks the second line, who may act on many models at once.
BULK_PERMISSION = "review_riskassessment"


def may_use_bulk_actions(user: User) -> bool:
    """Whether the inventory offers this user its bulk actions (Risk Officers and administrators)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(f"governance.{BULK_PERMISSION}"))


def _check(actor: User, models: Sequence[RegisteredModel], reason: str, doing: str) -> str:
    require_role_permission(actor, RiskAssessment, BULK_PERMISSION, doing)
    errors: dict[str, list[str]] = {}
    if not models:
        errors["models"] = ["Select at least one model."]
    elif len(models) > BULK_MAX:
        errors["models"] = [f"Select at most {BULK_MAX} models at once (got {len(models)})."]
    try:
        reason = clean_comment(reason, field="reason", required=True)
        if len(reason) > REASON_MAX:
            raise ValidationError({"reason": [f"At most {REASON_MAX} characters (got {len(reason)})."]})
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return reason


def _per_model(key: str, error: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(error, PermissionDenied):
        return [f"{key}: {error}"]
    if hasattr(error, "error_dict"):
        return [f"{key}: {message}" for messages in error.message_dict.values() for message in messages]
    return [f"{key}: {message}" for message in error.messages]


@transaction.atomic
def bulk_validator_assign(
    *, actor: User, models: Sequence[RegisteredModel], validator: User, reason: str
) -> list[RegisteredModel]:
    """Add ``validator`` to the validators of every selected model, through the same service as the edit page.

    Segregation of duties holds per model (a validator may not own the model); if any model refuses, none is
    changed and the refusals are returned per model on the ``models`` field. Models the person already
    validates are left as they are. Returns the models that changed.
    """
    reason = _check(actor, models, reason, "assign validators in bulk")
    # Lock the rows in one order before reading their validators, so two bulk runs neither lose an assignment
    # nor deadlock on each other.
    ledger_lock()
    list(RegisteredModel.objects.select_for_update().filter(pk__in=[m.pk for m in models]).order_by("pk"))
    problems: list[str] = []
    changed: list[RegisteredModel] = []
    for model in models:
        current = list(model.validators.all())
        if any(person.pk == validator.pk for person in current):
            continue
        try:
            # registered_model_update runs in a savepoint of this transaction: a refusal writes nothing, and
            # raising below after the loop rolls back the models that passed.
            updated = registered_model_update(
                actor=actor, model=model, changes={"validators": [*current, validator]}, reason=reason
            )
        except (ValidationError, PermissionDenied) as error:
            problems.extend(_per_model(model.key, error))
        else:
            changed.append(updated)
    if problems:
        raise ValidationError({"models": problems})
    return changed


@transaction.atomic
def bulk_reassessment_request(*, actor: User, models: Sequence[RegisteredModel], reason: str) -> list[GovernanceEvent]:
    """Ask the business owner of every selected model to answer the risk questionnaire again.

    Writes one ledger event per model (in this transaction) and notifies each business owner once the
    transaction commits.
    """
    reason = _check(actor, models, reason, "request reassessments")
    events: list[GovernanceEvent] = []
    for model in models:
        events.append(
            ledger_append(
                event_type=EventType.ASSESSMENT_REQUESTED,
                actor=actor,
                model=model,
                summary=f"Reassessment of {model.key} requested: {reason}",
                payload={"reason": reason, "business_owner": model.business_owner.username},
            )
        )
        notify(
            recipients=[model.business_owner],
            exclude=[actor],
            kind=NotificationKind.ACTION_REQUIRED,
            title=f"Reassess the risk of {model.key}",
            body=f"{actor.display_name} asks for a new risk assessment of {model.key} {model.name}: {reason}",
            link=reverse("governance:assess", args=[model.key]),
        )
    return events
