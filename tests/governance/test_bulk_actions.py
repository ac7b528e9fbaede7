"""Bulk actions from the inventory: a Risk Officer assigns a validator to, or requests a reassessment of, many
models at once. All or nothing, per-model errors, and everyone else refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core import roles
from governance.choices import EventType, NotificationKind
from governance.ledger import verify_ledger
from governance.models import GovernanceEvent, Notification
from governance.services import bulk
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db

BULK_URL = reverse("governance:bulk-action")
LIST_URL = reverse("inventory:model-list")


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def validators_of(model: RegisteredModel) -> list[str]:
    return sorted(model.validators.values_list("username", flat=True))


def snapshot() -> tuple[Any, ...]:
    """What a refused request must leave untouched."""
    return (
        sorted(RegisteredModel.validators.through.objects.values_list("registeredmodel_id", "user_id")),
        GovernanceEvent.objects.count(),
        Notification.objects.count(),
        RegisteredModel.history.count(),
    )


@pytest.fixture
def owning_validator(personas: Any) -> Any:
    """A person with the Validator role who also owns model C: they may not validate C."""
    person = UserFactory(username="val_owner", roles=[roles.VALIDATOR, roles.MODEL_OWNER])
    RegisteredModelFactory(
        key="RB-0003", name="Owned by a validator", business_unit=personas.unit, business_owner=person
    )
    return person


def test_a_risk_officer_assigns_a_validator_to_the_selected_models(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    response = client.post(
        BULK_URL,
        {
            "models": ["RB-0001", "RB-0002"],
            "validator": personas.validator_other.pk,
            "reason": "Annual rotation of validators",
            "outcome": "assign_validator",
            "next": f"{LIST_URL}?tier=1",
        },
    )
    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?tier=1"
    assert validators_of(personas.model_a) == ["validator_assigned", "validator_other"]
    assert validators_of(personas.model_b) == ["validator_other"]
    latest = personas.model_b.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Annual rotation of validators"
    assert latest.history_user == personas.risk_officer
    # The validator now has the object permissions the edit page would have granted.
    page = login(client, personas.validator_other).get(reverse("inventory:model-detail", args=["RB-0002"]))
    assert page.status_code == 200


def test_a_model_already_validated_by_the_person_is_left_as_it_is(personas: Any) -> None:
    before = personas.model_a.history.count()
    changed = bulk.bulk_validator_assign(
        actor=personas.risk_officer,
        models=[personas.model_a, personas.model_b],
        validator=personas.validator_assigned,
        reason="Cover",
    )
    assert [model.key for model in changed] == ["RB-0002"]
    assert personas.model_a.history.count() == before


def test_segregation_of_duties_refuses_the_whole_batch_with_per_model_errors(
    client: Any, personas: Any, owning_validator: Any
) -> None:
    login(client, personas.risk_officer)
    before = snapshot()
    response = client.post(
        BULK_URL,
        {
            "models": ["RB-0001", "RB-0003"],
            "validator": owning_validator.pk,
            "reason": "Spread the load",
            "outcome": "assign_validator",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["models"]
    assert len(errors) == 1
    assert errors[0].startswith("RB-0003: val_owner own(s) this model")
    assert snapshot() == before
    html = response.content.decode()
    # The error sits at the models field, which keeps the selection so the officer can untick RB-0003.
    assert 'value="RB-0001"' in html and 'value="RB-0003"' in html
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize("who", ["owner_a", "auditor", "validator_assigned", "no_role"])
def test_anyone_but_a_risk_officer_is_refused_and_nothing_is_written(client: Any, personas: Any, who: str) -> None:
    """A forged POST (the page offers these users no buttons) is a 403, whatever it asks."""
    login(client, getattr(personas, who))
    before = snapshot()
    for outcome in ("assign_validator", "request_reassessment"):
        response = client.post(
            BULK_URL,
            {
                "models": ["RB-0001", "RB-0002"],
                "validator": personas.validator_other.pk,
                "reason": "Forged",
                "outcome": outcome,
            },
        )
        assert response.status_code == 403
    assert snapshot() == before


def test_the_services_refuse_a_model_owner(personas: Any) -> None:
    before = snapshot()
    with pytest.raises(PermissionDenied):
        bulk.bulk_reassessment_request(actor=personas.owner_a, models=[personas.model_a], reason="Mine")
    with pytest.raises(PermissionDenied):
        bulk.bulk_validator_assign(
            actor=personas.owner_a, models=[personas.model_a], validator=personas.validator_other, reason="Mine"
        )
    assert snapshot() == before


def test_a_risk_officer_requests_reassessment_of_the_selected_models(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    response = client.post(
        BULK_URL,
        {"models": ["RB-0002", "RB-0001"], "reason": "New product launch", "outcome": "request_reassessment"},
    )
    assert response.status_code == 302
    events = GovernanceEvent.objects.filter(event_type=EventType.ASSESSMENT_REQUESTED).order_by("seq")
    assert [(event.model_key, event.actor_username, event.payload["reason"]) for event in events] == [
        ("RB-0001", "risk_officer", "New product launch"),
        ("RB-0002", "risk_officer", "New product launch"),
    ]
    notices = Notification.objects.order_by("recipient__username")
    assert [(n.recipient.username, n.kind) for n in notices] == [
        ("owner_a", NotificationKind.ACTION_REQUIRED),
        ("owner_b", NotificationKind.ACTION_REQUIRED),
    ]
    assert notices[0].link == reverse("governance:assess", args=["RB-0001"])
    assert "New product launch" in notices[0].body
    assert verify_ledger().intact


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"models": ["RB-0001"], "reason": "", "outcome": "request_reassessment"}, "reason", "required"),
        ({"models": ["RB-0001"], "reason": "   ", "outcome": "request_reassessment"}, "reason", "required"),
        ({"models": [], "reason": "Why", "outcome": "request_reassessment"}, "models", "Select at least one"),
        ({"models": ["RB-0001"], "reason": "Why", "outcome": "assign_validator"}, "validator", "Choose the validator"),
        ({"models": ["RB-0001"], "reason": "Why", "outcome": "delete_all"}, "outcome", "Choose an action"),
        ({"models": ["RB-9999"], "reason": "Why", "outcome": "request_reassessment"}, "models", "RB-9999 is not"),
    ],
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_written(
    client: Any, personas: Any, data: dict, field: str, message: str
) -> None:
    login(client, personas.risk_officer)
    before = snapshot()
    response = client.post(BULK_URL, data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert snapshot() == before


def test_a_person_without_the_validator_role_cannot_be_assigned(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    response = client.post(
        BULK_URL,
        {"models": ["RB-0001"], "validator": personas.owner_b.pk, "reason": "Why", "outcome": "assign_validator"},
    )
    assert response.status_code == 400
    assert "validator" in response.context["form"].errors
    assert validators_of(personas.model_a) == ["validator_assigned"]


def test_a_reason_longer_than_the_history_keeps_is_refused(personas: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        bulk.bulk_reassessment_request(actor=personas.risk_officer, models=[personas.model_a], reason="x" * 1001)
    assert "reason" in raised.value.message_dict
    assert not GovernanceEvent.objects.filter(event_type=EventType.ASSESSMENT_REQUESTED).exists()


def test_a_get_is_not_allowed(client: Any, personas: Any) -> None:
    assert login(client, personas.risk_officer).get(BULK_URL).status_code == 405
