"""Sign-in throttling: failed password sign-ins lock a username or an address out for a while, with a message; a
success starts the count again; Admins see and release lockouts; failed API tokens are throttled per address."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core import lockout
from core.models import Lockout, LoginAttempt
from core.schedules import default_schedules
from core.services import api_token_issue
from core.tasks import prune_login_attempts

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
ME = "/api/v1/users/me/"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _small_limits(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = 5
    settings.API_TOKEN_FAILURE_LIMIT = 4
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    settings.LOGIN_LOCKOUT_SECONDS = 900


@pytest.fixture
def person(personas: Any) -> Any:
    user = personas.owner_a
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str, password: str, address: str = "10.1.1.1", path: str = LOGIN) -> Any:
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def page_text(response: Any) -> str:
    return response.content.decode()


def test_the_nth_failure_locks_the_username_and_says_until_when(person: Any, caplog: Any) -> None:
    client = Client()
    for _ in range(2):
        response = sign_in(client, "owner_a", "wrong password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in page_text(response)
    with caplog.at_level(logging.WARNING, logger="core.lockout"):
        third = sign_in(client, "owner_a", "wrong password")
    assert "Too many failed sign-ins for this username" in page_text(third)
    assert "refused for 15 minutes" in page_text(third)
    assert any("Lockout: username owner_a" in record.getMessage() for record in caplog.records)
    lockout_row = Lockout.objects.get()
    assert (lockout_row.scope, lockout_row.key, lockout_row.failures) == ("username", "owner_a", 3)

    # Even the right password is refused now, without being checked, and the refusal is recorded.
    refused = sign_in(client, "owner_a", PASSWORD)
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins for this username" in page_text(refused)
    assert LoginAttempt.objects.filter(username="owner_a", refused=True).count() == 1
    # Refusals do not extend the lockout.
    assert Lockout.objects.count() == 1


def test_the_lockout_ends_after_its_period_and_the_count_starts_again(person: Any) -> None:
    client = Client()
    for _ in range(3):
        sign_in(client, "owner_a", "wrong password")
    # Five minutes later (inside the ten-minute window) the fifteen-minute lockout has been shortened to its end.
    five_minutes_ago = timezone.now() - dt.timedelta(minutes=5)
    LoginAttempt.objects.update(at=five_minutes_ago)
    Lockout.objects.update(created_at=five_minutes_ago, locked_until=timezone.now() - dt.timedelta(seconds=1))
    # One more failure after the lockout is not a new lockout: the failures before it no longer count.
    sign_in(client, "owner_a", "wrong password")
    assert Lockout.objects.count() == 1
    response = sign_in(client, "owner_a", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_a_successful_sign_in_resets_the_count(person: Any) -> None:
    for _ in range(2):
        sign_in(Client(), "owner_a", "wrong password")
    assert sign_in(Client(), "owner_a", PASSWORD).status_code == 302
    for _ in range(2):
        sign_in(Client(), "owner_a", "wrong password")
    assert not Lockout.objects.exists()
    assert LoginAttempt.objects.filter(username="owner_a", succeeded=True).count() == 1


def test_usernames_are_counted_case_insensitively_and_whether_or_not_they_exist(person: Any) -> None:
    for name in ("Owner_A", "OWNER_A", " owner_a"):
        sign_in(Client(), name, "wrong password")
    assert Lockout.objects.get().key == "owner_a"
    for _ in range(3):
        sign_in(Client(), "nobody-here", "wrong password", address="10.2.2.2")
    # The same lockout for a name with no account: a lockout tells an attacker nothing about which accounts exist.
    assert Lockout.objects.filter(key="nobody-here").exists()


def test_one_address_trying_many_usernames_is_locked_out(person: Any) -> None:
    for index in range(5):
        sign_in(Client(), f"guess-{index}", "Winter2026!", address="192.0.2.10")
    address_lockout = Lockout.objects.get(scope="address")
    assert address_lockout.key == "192.0.2.10"
    # The right password from that address is refused; from another address it works.
    response = sign_in(Client(), "owner_a", PASSWORD, address="192.0.2.10")
    assert "Too many failed sign-ins for your network address" in page_text(response)
    assert sign_in(Client(), "owner_a", PASSWORD, address="192.0.2.11").status_code == 302


def test_the_admin_sign_in_honours_the_same_lockout(person: Any, personas: Any) -> None:
    admin_user = personas.admin
    admin_user.set_password(PASSWORD)
    admin_user.save()
    for _ in range(3):
        sign_in(Client(), "admin_user", "wrong password", path=ADMIN_LOGIN)
    response = sign_in(Client(), "admin_user", PASSWORD, path=ADMIN_LOGIN)
    assert response.status_code == 200
    assert "Too many failed sign-ins for this username" in page_text(response)


def test_any_other_password_path_is_refused_by_the_backend(person: Any) -> None:
    for _ in range(3):
        sign_in(Client(), "owner_a", "wrong password")
    assert authenticate(None, username="owner_a", password=PASSWORD) is None


def test_admins_see_lockouts_and_release_them(person: Any, personas: Any) -> None:
    for _ in range(3):
        sign_in(Client(), "owner_a", "wrong password")
    row = Lockout.objects.get()
    personas.admin.is_staff = True  # as user_create sets it for the Admin role
    personas.admin.save()
    admin_client = Client()
    admin_client.force_login(personas.admin)
    listing = admin_client.get("/admin/core/lockout/")
    assert listing.status_code == 200
    assert "owner_a" in page_text(listing)
    assert admin_client.get("/admin/core/loginattempt/").status_code == 200
    response = admin_client.post(
        "/admin/core/lockout/", {"action": "release_lockouts", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 lockout(s) released." in page_text(response)
    row.refresh_from_db()
    assert row.released_by == personas.admin
    assert sign_in(Client(), "owner_a", PASSWORD).status_code == 302


def test_people_without_the_admin_role_see_no_lockouts(person: Any, personas: Any) -> None:
    for _ in range(3):
        sign_in(Client(), "owner_a", "wrong password")
    for user in (personas.risk_officer, personas.owner_b):
        client = Client()
        client.force_login(user)
        assert client.get("/admin/core/lockout/").status_code in {302, 403}
    with pytest.raises(Exception, match="Only an Admin"):
        lockout.lockout_release(actor=personas.risk_officer, lockout=Lockout.objects.get())


def test_failed_api_tokens_are_throttled_per_address(personas: Any) -> None:
    _, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION=f"Token {clear[:-4]}AAAA")
    statuses = [guesser.get(ME, REMOTE_ADDR="198.51.100.7").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    throttled = guesser.get(ME, REMOTE_ADDR="198.51.100.7")
    assert "Too many failed API token attempts" in throttled.json()["detail"]
    assert 0 < int(throttled["Retry-After"]) <= 900
    assert Lockout.objects.get().channel == "api_token"
    # Another address is not affected, and a valid token still works from the locked address (see
    # core.lockout.throttle_token_failures for why).
    assert guesser.get(ME, REMOTE_ADDR="198.51.100.8").status_code == 401
    pipeline = APIClient()
    pipeline.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    assert pipeline.get(ME, REMOTE_ADDR="198.51.100.7").status_code == 200
    # Password sign-in from that address is a separate counter.
    assert lockout.sign_in_refusal(username="owner_a", address="198.51.100.7") is None


def test_old_attempts_are_pruned_by_a_daily_schedule(person: Any) -> None:
    sign_in(Client(), "owner_a", "wrong password")
    LoginAttempt.objects.update(at=timezone.now() - dt.timedelta(days=100))
    sign_in(Client(), "owner_a", "wrong password")
    assert lockout.login_attempts_prune(older_than_days=90) == 1
    assert LoginAttempt.objects.count() == 1
    LoginAttempt.objects.update(at=timezone.now() - dt.timedelta(days=100))
    # What beat runs: the task named by the default schedule.
    schedule = {item.name: item for item in default_schedules()}["portal-prune-login-attempts"]
    assert schedule.task == prune_login_attempts.name and schedule.hour is not None
    assert prune_login_attempts.run() == 1
    assert not LoginAttempt.objects.exists()
