"""Kernel API: the people directory, "who am I", and the shared answers (paging, errors) every endpoint gives."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
ME = "/api/v1/users/me/"

PERSONA_USERNAMES = [
    "admin_user",
    "auditor",
    "ci_scoped",
    "ci_unscoped",
    "no_role",
    "owner_a",
    "owner_b",
    "risk_officer",
    "validator_assigned",
    "validator_other",
]


@pytest.mark.parametrize("name", ["owner_a", "validator_other", "risk_officer", "auditor", "admin"])
def test_people_directory_is_readable_by_roles_that_assign_people(personas, api_client_for, name):
    response = api_client_for(getattr(personas, name)).get(USERS, {"page_size": 200})
    assert response.status_code == 200
    usernames = [row["username"] for row in response.json()["results"]]
    assert set(PERSONA_USERNAMES) <= set(usernames)


@pytest.mark.parametrize("name", ["ci_scoped", "no_role"])
def test_people_directory_is_empty_for_who_may_not_read_it(personas, api_client_for, name):
    client = api_client_for(getattr(personas, name))
    assert client.get(USERS).json()["results"] == []
    assert client.get(f"{USERS}owner_a/").status_code == 404


def test_person_record_shows_title_unit_and_roles(personas, api_client_for):
    personas.owner_a.title = "Head of Credit Risk Models"
    personas.owner_a.business_unit = personas.unit
    personas.owner_a.save()
    response = api_client_for(personas.auditor).get(f"{USERS}owner_a/")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "owner_a"
    assert body["display_name"] == personas.owner_a.display_name
    assert body["title"] == "Head of Credit Risk Models"
    assert body["business_unit"] == {"code": "RETAIL", "name": "Retail Banking"}
    assert body["roles"] == [roles.MODEL_OWNER]
    assert body["is_service_account"] is False
    assert body["links"]["self"] == "http://testserver/api/v1/users/owner_a/"
    assert "password" not in body


def test_usernames_with_dots_and_at_signs_resolve(personas, api_client_for):
    UserFactory(username="jane.doe@bank", email="jane.doe@bank.example", roles=[roles.VALIDATOR])
    response = api_client_for(personas.auditor).get(f"{USERS}jane.doe@bank/")
    assert response.status_code == 200
    assert response.json()["links"]["self"] == "http://testserver/api/v1/users/jane.doe@bank/"


@pytest.mark.parametrize("name", ["owner_a", "ci_scoped", "no_role", "auditor"])
def test_me_returns_the_caller_with_roles(personas, api_client_for, name):
    user = getattr(personas, name)
    response = api_client_for(user).get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == user.username
    assert body["roles"] == sorted(group.name for group in user.groups.all())
    assert body["is_service_account"] == user.is_service_account


def test_people_directory_is_read_only(personas, api_client_for):
    client = api_client_for(personas.admin)
    assert client.post(USERS, {"username": "new"}, format="json").status_code == 405
    assert client.patch(f"{USERS}owner_a/", {"title": "x"}, format="json").status_code == 405
    assert client.delete(f"{USERS}owner_a/").status_code == 405


def test_anonymous_is_refused(personas):
    for url in (USERS, ME, f"{USERS}owner_a/"):
        response = APIClient().get(url)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(("query", "status"), [("page_size=0", 400), ("page_size=201", 400), ("page=999", 404)])
def test_paging_refusals(personas, api_client_for, query, status):
    response = api_client_for(personas.auditor).get(f"{USERS}?{query}")
    assert response.status_code == status
    assert response.json()


def test_page_size_up_to_the_maximum(personas, api_client_for):
    response = api_client_for(personas.auditor).get(USERS, {"page_size": 200})
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["results"])


def test_an_unexpected_error_is_a_json_500_without_a_trace(personas, api_client_for, monkeypatch):
    from core.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "user_queryset", broken)
    response = api_client_for(personas.auditor).get(USERS)
    assert response.status_code == 500
    body = response.json()
    assert body["detail"].startswith("Internal error. Quote request id ")
    assert body["request_id"] == response["X-Request-ID"]
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
