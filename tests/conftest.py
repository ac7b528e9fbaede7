"""Shared fixtures: role personas, API clients, and the real services (PostgreSQL, Redis, Chromium).

Tests that need a service use the ``redis_url`` / ``chromium_path`` fixtures. A missing service fails the test with
a message saying what to start or install: the suite proves the portal against real services, so a run without
them is not a pass (``make test`` installs Chromium; Redis must be running, see the README).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, fields
from typing import Any

import pytest
from rest_framework.test import APIClient

from core import roles
from core.models import User
from core.services import api_token_issue
from inventory.models import BusinessUnit, RegisteredModel
from tests.factories import BusinessUnitFactory, RegisteredModelFactory, UserFactory


def service_missing(message: str) -> None:
    """Fail the test that needs a service the machine does not offer, saying which."""
    pytest.fail(f"a service the test needs is missing: {message}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis is not reachable at {url} (start redis-server or set REDIS_URL): {exc}")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        service_missing(f"Chromium is not installed at {path} (apt-get install chromium)")
    return path


# Debian's Chromium, headless: Playwright cannot download its own browser here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], chromium_path: str) -> dict[str, Any]:
    """Every Playwright test launches the system Chromium headless."""
    # Playwright's sync API keeps an event loop running in the test thread, and Django refuses ORM calls from such
    # a thread. The loop only drives the browser, so the test set-up may safely use the ORM there.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": CHROMIUM_ARGS}


@dataclass
class Personas:
    """One user per role and situation, and two models: A (owned by owner_a) and B (owned by owner_b).

    validator_assigned validates model A; ci_scoped may report for model A.
    """

    owner_a: User
    owner_b: User
    validator_assigned: User
    validator_other: User
    risk_officer: User
    auditor: User
    ci_scoped: User
    ci_unscoped: User
    admin: User
    no_role: User
    unit: BusinessUnit
    model_a: RegisteredModel
    model_b: RegisteredModel


# The names of every user among the personas, for tests that go through all of them.
PERSONA_USERS = tuple(field.name for field in fields(Personas) if field.type in ("User", User))


@pytest.fixture
def personas(db: Any) -> Personas:
    from guardian.shortcuts import assign_perm

    unit = BusinessUnitFactory(code="RETAIL", name="Retail Banking", key_prefix="RB")
    owner_a = UserFactory(username="owner_a", roles=[roles.MODEL_OWNER])
    owner_b = UserFactory(username="owner_b", roles=[roles.MODEL_OWNER])
    validator_assigned = UserFactory(username="validator_assigned", roles=[roles.VALIDATOR])
    validator_other = UserFactory(username="validator_other", roles=[roles.VALIDATOR])
    ci_scoped = UserFactory(username="ci_scoped", roles=[roles.CI_SERVICE], is_service_account=True)
    model_a = RegisteredModelFactory(
        key="RB-0001",
        name="Retail PD scorecard",
        business_unit=unit,
        business_owner=owner_a,
        technical_owner=owner_a,
        validators=[validator_assigned],
    )
    model_b = RegisteredModelFactory(
        key="RB-0002",
        name="Card fraud detector",
        business_unit=unit,
        business_owner=owner_b,
        technical_owner=owner_b,
    )
    assign_perm("inventory.view_registeredmodel", ci_scoped, model_a)
    assign_perm("inventory.report_registeredmodel", ci_scoped, model_a)
    return Personas(
        owner_a=owner_a,
        owner_b=owner_b,
        validator_assigned=validator_assigned,
        validator_other=validator_other,
        risk_officer=UserFactory(username="risk_officer", roles=[roles.RISK_OFFICER]),
        auditor=UserFactory(username="auditor", roles=[roles.AUDITOR]),
        ci_scoped=ci_scoped,
        ci_unscoped=UserFactory(username="ci_unscoped", roles=[roles.CI_SERVICE], is_service_account=True),
        admin=UserFactory(username="admin_user", roles=[roles.ADMIN]),
        no_role=UserFactory(username="no_role"),
        unit=unit,
        model_a=model_a,
        model_b=model_b,
    )


def token_client(user: User) -> APIClient:
    """An API client that authenticates like a pipeline does: with an API token in the header."""
    _, clear = api_token_issue(actor=user, user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    return client


@pytest.fixture
def api_client_for() -> Any:
    return token_client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 at production strength costs ~0.3 s a user; the personas alone would cost seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each pass leaves out what the other runs: on SQLite the tests of PostgreSQL-only behaviour and those that run
    once in the PostgreSQL pass (``single_pass``); on PostgreSQL those that run once in the SQLite pass
    (``sqlite_pass``, ``browser``). tests/markers.py says why."""
    from django.db import connection

    in_other_pass = {
        "postgresql": ("sqlite_pass", "browser"),
        "sqlite": ("postgresql_only", "single_pass"),
    }[connection.vendor]
    leave_out = {item for item in items if any(item.get_closest_marker(name) for name in in_other_pass)}
    if leave_out:
        config.hook.pytest_deselected(items=[item for item in items if item in leave_out])
        items[:] = [item for item in items if item not in leave_out]
