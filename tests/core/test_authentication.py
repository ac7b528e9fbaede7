"""How the API recognises its callers: API tokens for pipelines, the session (with CSRF) for the browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient

from core.models import ApiToken
from core.services import api_token_issue, api_token_revoke
from inventory.models import RegisteredModel

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
MODELS = "/api/v1/models/"


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_valid_token_authenticates_and_records_its_use(personas):
    token, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="laptop")
    response = client_with(f"Token {clear}").get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == "owner_a"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_bearer_keyword_is_accepted(personas):
    _, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="swagger")
    assert client_with(f"Bearer {clear}").get(ME).json()["username"] == "owner_a"


def test_every_use_is_recorded(personas, monkeypatch):
    monkeypatch.setattr("core.authentication.TOKEN_USE_WRITE_SECONDS", 0)  # every use written at once
    token, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="pipeline")
    client = client_with(f"Token {clear}")
    client.get(ME)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(ME)
    token.refresh_from_db()
    assert token.use_count == 2
    assert token.last_used_at is not None
    assert token.last_used_at >= first


def test_revoked_token_is_refused(personas):
    token, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="old")
    api_token_revoke(actor=personas.owner_a, token=token)
    response = client_with(f"Token {clear}").get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired or was revoked."}


def test_expired_token_is_refused(personas):
    token, clear = api_token_issue(
        actor=personas.owner_a, user=personas.owner_a, name="short", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client_with(f"Token {clear}").get(MODELS)
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired or was revoked."}


def test_token_of_a_deactivated_user_is_refused(personas):
    _, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="leaver")
    personas.owner_a.is_active = False
    personas.owner_a.save(update_fields=["is_active"])
    response = client_with(f"Token {clear}").get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token", "Authorization header must be 'Token <token>'."),
        ("Token a b", "Authorization header must be 'Token <token>'."),
        ("Token not-a-portal-token", "Invalid token."),
        ("Token mop__secret", "Invalid token."),
        ("Token mop_0123456789abcdef_wrong", "Invalid token."),
    ],
)
def test_malformed_or_unknown_token_is_refused_with_a_message(personas, header, message):
    response = client_with(header).get(MODELS)
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response["WWW-Authenticate"] == "Token"


def test_right_lookup_with_a_wrong_secret_is_refused(personas):
    token, clear = api_token_issue(actor=personas.owner_a, user=personas.owner_a, name="guessed")
    forged = f"mop_{token.lookup}_{'x' * 43}"
    assert forged != clear
    response = client_with(f"Token {forged}").get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_other_schemes_are_not_mistaken_for_tokens(personas):
    response = client_with("Basic b3duZXJfYTpjb3JyZWN0LWhvcnNlLWJhdHRlcnk=").get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def session_client(username: str) -> APIClient:
    """A browser-like client: signed in with a password, CSRF checks on."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=username, password="correct-horse-battery")
    return client


def csrf_pair() -> tuple[str, str]:
    """A CSRF cookie and the matching token a page would put in the X-CSRFToken header."""
    request = RequestFactory().get("/")
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


def test_session_reads_work_for_the_browser(personas):
    client = session_client("owner_a")
    assert client.get(ME).json()["username"] == "owner_a"
    assert [row["key"] for row in client.get(MODELS).json()["results"]] == ["RB-0001"]


def test_session_writes_need_the_csrf_token(personas):
    client = session_client("owner_a")
    response = client.patch(f"{MODELS}RB-0001/", {"name": "No CSRF"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert RegisteredModel.objects.get(key="RB-0001").name == "Retail PD scorecard"

    cookie, token = csrf_pair()
    client.cookies[settings.CSRF_COOKIE_NAME] = cookie
    response = client.patch(f"{MODELS}RB-0001/", {"name": "With CSRF"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert RegisteredModel.objects.get(key="RB-0001").name == "With CSRF"


def test_token_requests_need_no_csrf_token(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    client.enforce_csrf_checks = True
    response = client.patch(f"{MODELS}RB-0001/", {"name": "Pipeline rename"}, format="json")
    assert response.status_code == 200


def test_a_session_names_its_user_by_id_and_only_active_people_are_found(personas):
    from core.authentication import PersonModelBackend

    backend = PersonModelBackend()
    assert backend.get_user(personas.owner_a.pk) == personas.owner_a
    assert backend.get_user(str(personas.owner_b.pk)) == personas.owner_b
    assert backend.get_user(personas.ci_scoped.pk) is None  # service accounts never sign in with a session
    assert backend.get_user(personas.owner_a.pk + 10_000) is None
    assert backend.get_user("not a number") is None
    personas.owner_a.is_active = False
    personas.owner_a.save(update_fields=["is_active"])
    assert backend.get_user(personas.owner_a.pk) is None


@pytest.mark.parametrize(
    "persona", ["owner_a", "validator_assigned", "risk_officer", "auditor", "ci_scoped", "admin", "no_role"]
)
def test_a_token_brings_its_users_permissions_as_the_backend_reads_them(personas, persona):
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.authentication import ApiTokenAuthentication
    from core.models import User

    user = getattr(personas, persona)
    if persona == "no_role":
        # A permission granted to the user directly, beside any role's.
        user.user_permissions.add(Permission.objects.get(codename="view_registeredmodel"))
    _, clear = api_token_issue(actor=user, user=user, name="perms")
    request = Request(RequestFactory().get(ME, HTTP_AUTHORIZATION=f"Token {clear}"))

    with CaptureQueriesContext(connection) as queries:
        authenticated, _ = ApiTokenAuthentication().authenticate(request)
        names = authenticated.get_all_permissions()

    assert names == User.objects.get(pk=user.pk).get_all_permissions()
    assert names  # every persona here holds at least one
    assert [q for q in queries.captured_queries if "auth_permission" in q["sql"] and "apitoken" not in q["sql"]] == []


def test_a_superusers_token_leaves_their_permissions_to_the_backend(personas):
    from core.authentication import ApiTokenAuthentication
    from core.models import User

    root = User.objects.create_superuser(username="root", password="x" * 20)
    _, clear = api_token_issue(actor=root, user=root, name="root")
    request = Request(RequestFactory().get(ME, HTTP_AUTHORIZATION=f"Token {clear}"))

    authenticated, _ = ApiTokenAuthentication().authenticate(request)

    assert authenticated.has_perm("inventory.delete_registeredmodel")
    assert authenticated.get_all_permissions() == User.objects.get(pk=root.pk).get_all_permissions()
