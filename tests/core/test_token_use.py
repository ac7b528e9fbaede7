"""Each use of an API token is recorded: how often, when last, and from which address (the connection's only)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import ApiToken
from core.services import api_token_issue

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


def client_for(clear: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    return client


def test_every_request_counts_with_the_connection_address(personas):
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    assert (token.use_count, token.last_used_from, token.last_used_at) == (0, None, None)
    client = client_for(clear)
    for address in ("10.0.0.7", "10.0.0.8", "2001:db8::1"):
        assert client.get(ME, REMOTE_ADDR=address).status_code == 200
    token.refresh_from_db()
    assert token.use_count == 3
    assert token.last_used_from == "2001:db8::1"
    assert token.last_used_at is not None


def test_forwarding_headers_are_not_believed(personas):
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client_for(clear).get(ME, REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_REAL_IP="203.0.113.9")
    token.refresh_from_db()
    assert token.last_used_from == "10.0.0.7"


def test_an_address_that_is_not_an_ip_is_left_empty(personas):
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client_for(clear).get(ME, REMOTE_ADDR="unix-socket")
    token.refresh_from_db()
    assert (token.use_count, token.last_used_from) == (1, None)


def test_use_is_recorded_with_one_update_per_request(personas):
    _, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client = client_for(clear)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.get(ME)
        updates = [
            q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]
        ]
        assert len(updates) == 1
        assert "use_count" in updates[0] and "+" in updates[0]  # incremented in the database, not read-modify-write


def test_refused_requests_are_not_counted(personas):
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    assert client_for(clear + "x").get(ME).status_code == 401
    token.refresh_from_db()
    assert token.use_count == 0


def test_a_refused_action_still_counts_as_a_use(personas):
    """The token authenticated; what it then asked for was refused. The use is still a use."""
    token, clear = api_token_issue(actor=personas.ci_unscoped, user=personas.ci_unscoped, name="jenkins")
    assert client_for(clear).get("/api/v1/models/RB-0001/").status_code == 404
    token.refresh_from_db()
    assert token.use_count == 1


def test_the_admin_list_shows_the_use(personas):
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client_for(clear).get(ME, REMOTE_ADDR="192.0.2.44")
    for _ in range(3):
        client_for(clear).get(ME, REMOTE_ADDR="192.0.2.44")
    admin = APIClient()
    personas.admin.is_staff = True
    personas.admin.save(update_fields=["is_staff"])
    admin.force_login(personas.admin)
    page = admin.get("/admin/core/apitoken/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "192.0.2.44" in html
    assert ApiToken.objects.get(pk=token.pk).use_count == 4
    assert "Use count" in html and "Last used from" in html
