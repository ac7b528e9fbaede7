"""Management commands of the shared kernel: ``create_api_token``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core import roles
from core.authentication import ApiTokenAuthentication
from core.models import ApiToken, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    """Run the command; returns (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def authenticate(clear: str) -> tuple[User, ApiToken]:
    """Authenticate a request the way the API does, with the token in the header."""
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {clear}"))
    result = ApiTokenAuthentication().authenticate(request)
    assert result is not None
    return result


def test_prints_a_working_token_once_on_stdout_alone() -> None:
    bot = UserFactory(username="ci-jenkins", roles=[roles.CI_SERVICE], is_service_account=True)

    out, err = run("ci-jenkins", "--name", "jenkins credit-risk pipeline")

    clear = out.strip()
    assert "\n" not in clear
    user, token = authenticate(clear)
    assert user == bot
    assert token.name == "jenkins credit-risk pipeline"
    assert token.expires_at is None
    assert "shown only this once" in err
    assert clear not in err
    # Only the digest is stored.
    assert not ApiToken.objects.filter(digest=clear).exists()
    assert ApiToken.objects.get().digest == ApiToken.hash_secret(clear)


def test_issues_tokens_for_people_too() -> None:
    person = UserFactory(username="m.owner", roles=[roles.MODEL_OWNER])

    out, _ = run("m.owner", "--name", "notebook")

    assert authenticate(out.strip())[0] == person


def test_expiry_in_days() -> None:
    UserFactory(username="ci-bot", roles=[roles.CI_SERVICE], is_service_account=True)
    before = timezone.now()

    _, err = run("ci-bot", "--name", "nightly", "--expires-days", "30")

    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)
    assert "expires" in err


def test_unknown_user_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("nobody", "--name", "x")
    assert not ApiToken.objects.exists()


def test_inactive_user_is_refused() -> None:
    UserFactory(username="left.the.bank")
    User.objects.filter(username="left.the.bank").update(is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        run("left.the.bank", "--name", "x")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "-3"])
def test_expiry_must_be_in_the_future(days: str) -> None:
    UserFactory(username="ci-bot", is_service_account=True)

    with pytest.raises(CommandError, match="at least 1"):
        run("ci-bot", "--name", "x", "--expires-days", days)
    assert not ApiToken.objects.exists()


def test_blank_name_is_refused_with_the_services_message() -> None:
    UserFactory(username="ci-bot", is_service_account=True)

    with pytest.raises(CommandError, match="Say what the token is for"):
        run("ci-bot", "--name", "   ")
    assert not ApiToken.objects.exists()


def test_name_is_required() -> None:
    UserFactory(username="ci-bot", is_service_account=True)

    with pytest.raises(CommandError, match="--name"):
        run("ci-bot")
