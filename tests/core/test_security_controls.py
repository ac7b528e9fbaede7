"""Production security controls: the deploy check, password rules, session expiry, API tokens hashed at rest,
upload size limits and secrets kept out of logs (docs/security.md, "Controls")."""

from __future__ import annotations

import io
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import ApiToken
from core.security import (
    REDACTED,
    SESSION_AUTH_AT,
    SESSION_SEEN_AT,
    SecretRedactingFilter,
    redact_secrets,
)
from core.services import api_token_issue
from tests.factories import ModelVersionFactory

BASE_DIR = Path(settings.BASE_DIR)


def production_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What an operator sets in production (docs/operations.md), and nothing of the test run's environment."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "BEHIND_TLS_PROXY": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        **extra,
    }


def manage(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_deploy_check_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = manage(production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_names_what_is_missing_without_https_settings(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        del environment[name]
    result = manage(environment, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_production_refuses_to_start_without_a_secret_key_or_with_a_short_password_rule(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    del environment["SECRET_KEY"]
    assert "SECRET_KEY must be set" in manage(environment, "check").stderr
    short = production_environment(tmp_path, PASSWORD_MIN_LENGTH="8")
    assert "PASSWORD_MIN_LENGTH=8 is below the minimum 12" in manage(short, "check").stderr


@pytest.mark.django_db
def test_passwords_need_twelve_characters_and_may_not_be_common_or_like_the_username(personas: Any) -> None:
    user = personas.owner_a
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Xq7#vLm2pR9", user)
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234", user)
    with pytest.raises(ValidationError, match="entirely numeric"):
        validate_password("830274619258", user)
    with pytest.raises(ValidationError, match="too similar"):
        validate_password(f"{user.username}-2026", user)
    validate_password("plum harbour kettle 42", user)


@pytest.fixture
def signed_in(personas: Any) -> Client:
    client = Client()
    client.force_login(personas.owner_a)
    return client


@pytest.mark.django_db
def test_a_session_ends_after_the_idle_timeout(settings: Any, signed_in: Client) -> None:
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 600
    assert signed_in.get(reverse("dashboard:home")).status_code == 200
    session = signed_in.session
    assert SESSION_AUTH_AT in session and SESSION_SEEN_AT in session
    session[SESSION_SEEN_AT] = time.time() - 601
    session.save()
    response = signed_in.get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = signed_in.get(response["Location"]).content.decode()
    assert "Your session ended after 10 minutes without activity" in page


@pytest.mark.django_db
def test_activity_keeps_a_session_alive_until_its_absolute_lifetime(settings: Any, signed_in: Client) -> None:
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 600
    settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS = 8 * 3600
    signed_in.get(reverse("dashboard:home"))
    session = signed_in.session
    session[SESSION_AUTH_AT] = time.time() - 7 * 3600
    session[SESSION_SEEN_AT] = time.time() - 120
    session.save()
    assert signed_in.get(reverse("dashboard:home")).status_code == 200
    session = signed_in.session
    assert time.time() - session[SESSION_SEEN_AT] < 60  # the request counted as activity
    session[SESSION_AUTH_AT] = time.time() - 8 * 3600 - 1
    session.save()
    response = signed_in.get(reverse("dashboard:home"), follow=True)
    assert "Your session ended because it is older than 8 hours" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_session_cookie_settings() -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS
    assert settings.SESSION_COOKIE_HTTPONLY is True


@pytest.mark.django_db
def test_api_tokens_are_stored_only_as_a_digest(personas: Any) -> None:
    token, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    secret = clear.rsplit("_", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        rows = cursor.fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert token.digest in stored
    assert secret not in stored and clear not in stored


@pytest.mark.django_db
def test_a_too_large_evaluation_upload_is_refused_with_a_message(personas: Any, settings: Any) -> None:
    settings.EVALUATION_UPLOAD_MAX_BYTES = 2048
    ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    client = APIClient()
    client.force_authenticate(personas.owner_a)
    content = b"y_true,y_pred,sex\n" + b"1,0,f\n" * 1000
    response = client.post(
        "/api/v1/evaluation-datasets/",
        {
            "model": personas.model_a.key,
            "version": "1.0.0",
            "name": "holdout",
            "mapping": '{"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"]}',
            "file": SimpleUploadedFile("big.csv", content, content_type="text/csv"),
        },
        format="multipart",
    )
    assert response.status_code in {400, 413}
    assert "the limit is 2048" in " ".join(response.json()["file"])


@pytest.mark.django_db
def test_a_request_body_over_the_limit_is_refused(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = Client().post(reverse("login"), {"username": "x", "password": "y" * 4096})
    assert response.status_code == 400
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES >= 1


CLEAR_TOKEN = "mop_0123456789abcdef_s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3c"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        (f"Authorization: Token {CLEAR_TOKEN}", "s3cr3t"),
        ("{'HTTP_AUTHORIZATION': 'Bearer eyJhbGciOiJFUzI1NiJ9.payload.sig'}", "eyJhbGci"),
        ("headers={'Authorization': 'Basic dXNlcjpodW50ZXIy'}", "dXNlcjpodW50ZXIy"),
        ("login failed password=hunter2hunter2 for owner_a", "hunter2"),
        ('{"username": "owner_a", "password": "hunter2hunter2"}', "hunter2"),
        ("Cookie: sessionid=abc123sessionvalue; csrftoken=def456csrfvalue", "sessionvalue"),
        ("Cookie: sessionid=abc123sessionvalue; csrftoken=def456csrfvalue", "csrfvalue"),
        ("broker redis://:redispassword@10.0.0.5:6379/0 down", "redispassword"),
        ("DATABASE_URL=postgres://portal:dbpassword@db/portal", "dbpassword"),
        ("MLFLOW_TRACKING_TOKEN=abcdef0123456789", "abcdef0123456789"),
        ("api_key: sk-live-0123456789", "sk-live"),
    ],
)
def test_secrets_are_redacted(text: str, leak: str) -> None:
    redacted = redact_secrets(text)
    assert leak not in redacted
    assert REDACTED in redacted


def test_ordinary_text_is_left_alone() -> None:
    text = "Model RB-0001 version 1.0.0 approved by risk_officer; token_count=3 tokens"
    assert redact_secrets("Model RB-0001 version 1.0.0 approved by risk_officer") == (
        "Model RB-0001 version 1.0.0 approved by risk_officer"
    )
    assert "RB-0001" in redact_secrets(text)
    # The token's public lookup part stays, so a log line still says which token it was.
    assert "mop_0123456789abcdef_" in redact_secrets(CLEAR_TOKEN)


def test_log_records_reach_the_handler_without_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(SecretRedactingFilter())
    logger = logging.getLogger("tests.security.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Request headers: %s", {"HTTP_AUTHORIZATION": f"Token {CLEAR_TOKEN}", "HTTP_HOST": "portal"})
        logger.info("User %s signed in with password=%s", "owner_a", "hunter2hunter2")
        try:
            raise RuntimeError(f"upstream refused Authorization: Bearer {CLEAR_TOKEN}")
        except RuntimeError:
            logger.exception("MLflow sync failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "s3cr3t" not in output and "hunter2" not in output
    assert "HTTP_HOST" in output and "owner_a" in output and "MLflow sync failed" in output
    assert "RuntimeError" in output  # the traceback is kept, only the secret in it goes
    assert output.count(REDACTED) >= 3


def test_the_portal_logging_configuration_redacts_on_its_handler() -> None:
    logging_config: dict[str, Any] = settings.LOGGING
    assert "redact_secrets" in logging_config["handlers"]["console"]["filters"]
    assert logging_config["filters"]["redact_secrets"]["()"] == "core.security.SecretRedactingFilter"
    root_filters = [type(item).__name__ for h in logging.getLogger().handlers for item in h.filters]
    assert "SecretRedactingFilter" in root_filters
