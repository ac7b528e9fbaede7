"""``GET /health/``: anonymous, database decides the status code, broker and scheduler reported, nothing leaked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.test import Client
from django.utils import timezone

from core import health
from core.models import ServiceHeartbeat
from core.services import heartbeat_record

URL = "/health/"
ALLOWED_VALUES = {"ok", "error"}


@pytest.fixture
def filesystem_broker(settings: Any, tmp_path: Path) -> Path:
    """The embedded broker, with its queue folder in a place this test owns."""
    queue = tmp_path / "queue"
    queue.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(queue), "data_folder_out": str(queue)}
    return queue


@pytest.fixture
def unreachable_broker(settings: Any) -> str:
    """A Redis URL with a password, on a port where nothing listens: the connection is refused at once."""
    settings.CELERY_BROKER_URL = "redis://:broker-password-123@127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    return "broker-password-123"


@pytest.mark.django_db
def test_anonymous_gets_a_report_with_fixed_keys(client: Client, filesystem_broker: Path) -> None:
    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"status", "database", "broker", "scheduler", "version"}
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["version"] == health.portal_version() != "unknown"


@pytest.mark.django_db
def test_scheduler_never_seen_makes_the_portal_degraded_not_down(client: Client, filesystem_broker: Path) -> None:
    body = client.get(URL).json()

    assert body["scheduler"] == {"status": "never", "last_heartbeat": None, "age_seconds": None}
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_recent_heartbeat_is_reported_with_its_time_and_age(
    client: Client, filesystem_broker: Path, settings: Any
) -> None:
    settings.HEARTBEAT_SECONDS = 60
    heartbeat = heartbeat_record(name="scheduler")
    seen = timezone.now() - timedelta(seconds=30)
    ServiceHeartbeat.objects.filter(pk=heartbeat.pk).update(last_seen=seen)

    body = client.get(URL).json()

    assert body["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"
    assert body["scheduler"]["last_heartbeat"] == seen.isoformat()
    # The age is counted from the moment of the request, which comes after `seen` was taken.
    assert 30 <= body["scheduler"]["age_seconds"] < 3 * 60


@pytest.mark.django_db
def test_heartbeat_older_than_three_beats_is_stale(client: Client, filesystem_broker: Path, settings: Any) -> None:
    settings.HEARTBEAT_SECONDS = 60
    heartbeat = heartbeat_record(name="scheduler")
    ServiceHeartbeat.objects.filter(pk=heartbeat.pk).update(last_seen=timezone.now() - timedelta(minutes=10))

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["scheduler"]["status"] == "stale"
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db
def test_unreachable_broker_is_reported_without_its_url(client: Client, unreachable_broker: str) -> None:
    response = client.get(URL)

    assert response.status_code == 200, "a broker outage must not take the web tier out of rotation"
    body = response.json()
    assert body["broker"] == "error"
    assert body["status"] == "degraded"
    assert unreachable_broker not in response.content.decode()
    assert "127.0.0.1:1" not in response.content.decode()


@pytest.mark.django_db
def test_filesystem_broker_without_its_queue_folder_is_an_error(settings: Any, tmp_path: Path) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    missing = str(tmp_path / "never-created")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": missing, "data_folder_out": missing}

    assert health.check_broker() == "error"


def test_redis_broker_is_checked_for_real(settings: Any, redis_url: str) -> None:
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    assert health.check_broker() == "ok"


@pytest.mark.django_db
def test_database_outage_answers_503(
    client: Client, filesystem_broker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real connection to a database file that cannot be opened: the driver itself refuses.
    broken = DatabaseWrapper(
        {
            **connections[DEFAULT_DB_ALIAS].settings_dict,
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "no-such-folder" / "portal.sqlite3"),
            "OPTIONS": {},
        },
        alias=DEFAULT_DB_ALIAS,
    )
    monkeypatch.setattr(health, "connections", {DEFAULT_DB_ALIAS: broken})

    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert body["scheduler"]["status"] == "unknown"
    assert "no-such-folder" not in response.content.decode()


@pytest.mark.django_db
def test_reveals_nothing_about_the_inventory_or_the_configuration(
    client: Client, personas: Any, filesystem_broker: Path, settings: Any
) -> None:
    heartbeat_record(name="scheduler", details={"host": "worker-7.internal"})

    response = client.get(URL)

    text = response.content.decode()
    for secret_or_private in (
        settings.SECRET_KEY,
        personas.model_a.key,
        personas.model_a.name,
        personas.owner_a.username,
        "worker-7.internal",
        str(filesystem_broker),
        str(settings.DATABASES["default"]["NAME"]),
    ):
        assert secret_or_private not in text
    body = response.json()
    assert body["database"] in ALLOWED_VALUES
    assert body["broker"] in ALLOWED_VALUES
    assert set(body["scheduler"]) == {"status", "last_heartbeat", "age_seconds"}


def test_only_safe_methods_are_allowed(client: Client) -> None:
    assert client.post(URL).status_code == 405
