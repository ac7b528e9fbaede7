"""Each use of an API token is recorded: how often, when last, and from which address (the connection's only)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core import authentication
from core.models import ApiToken
from core.services import api_token_issue

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


@pytest.fixture(autouse=True)
def write_every_use(monkeypatch):
    """These tests check what a use records; how often a process writes it is tested at the end of the file."""
    monkeypatch.setattr(authentication, "TOKEN_USE_WRITE_SECONDS", 0)


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


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_uses_within_a_minute_are_counted_and_written_with_the_next_write(personas, monkeypatch):
    """One UPDATE per token per minute and per web process, not one per request; no use is lost."""
    monkeypatch.setattr(authentication, "TOKEN_USE_WRITE_SECONDS", 60)
    clock = FakeClock()
    monkeypatch.setattr(authentication.token_uses, "clock", clock)
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client = client_for(clear)
    writes = []
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ME, REMOTE_ADDR=address).status_code == 200
        writes.append(sum(q["sql"].startswith("UPDATE") and "apitoken" in q["sql"] for q in queries.captured_queries))
        clock.now += 10
    assert writes == [1, 0, 0]
    token.refresh_from_db()
    assert (token.use_count, token.last_used_from) == (1, "10.0.0.1")  # the first use is written at once
    clock.now += 60
    client.get(ME, REMOTE_ADDR="10.0.0.4")
    token.refresh_from_db()
    assert (token.use_count, token.last_used_from) == (4, "10.0.0.4")


def test_processes_add_their_counts_to_each_other(personas, monkeypatch):
    monkeypatch.setattr(authentication, "TOKEN_USE_WRITE_SECONDS", 60)
    token, _ = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    first, second = authentication.TokenUseRecorder(FakeClock()), authentication.TokenUseRecorder(FakeClock())
    now = timezone.now()
    for recorder, uses in ((first, 3), (second, 2)):
        for _ in range(uses):
            recorder.record(token, at=now, address="10.0.0.9")
    token.refresh_from_db()
    assert token.use_count == 2  # each process wrote its first use
    first.flush()
    second.flush()
    token.refresh_from_db()
    assert token.use_count == 5


def test_held_counts_never_touch_another_token_with_the_same_id(personas, monkeypatch):
    monkeypatch.setattr(authentication, "TOKEN_USE_WRITE_SECONDS", 60)
    token, _ = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    recorder = authentication.TokenUseRecorder(FakeClock())
    for _ in range(2):
        recorder.record(token, at=timezone.now(), address=None)
    ApiToken.objects.filter(pk=token.pk).update(lookup="0" * 16)  # as if the row were another token now
    recorder.flush()
    assert ApiToken.objects.get(pk=token.pk).use_count == 1
