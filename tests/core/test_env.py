"""The environment reader: typed values, refusals that name the variable, ``*_FILE`` secrets, ``DATABASE_URL``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, database_from_url, redact


def env(**values: str) -> Env:
    return Env(environ=values)


# --- booleans ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["1", "true", "True", "YES", "on", " on "])
def test_true_words(word: str) -> None:
    assert env(DEBUG=word).bool("DEBUG", False) is True


@pytest.mark.parametrize("word", ["0", "false", "FALSE", "no", "off"])
def test_false_words(word: str) -> None:
    assert env(DEBUG=word).bool("DEBUG", True) is False


@pytest.mark.parametrize("word", ["flase", "2", "y", "enabled"])
def test_bad_boolean_is_refused_naming_the_variable(word: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf"^DEBUG='{word}' is not a boolean"):
        env(DEBUG=word).bool("DEBUG", False)


def test_unset_or_blank_boolean_takes_the_default() -> None:
    assert env().bool("DEBUG", True) is True
    assert env(DEBUG="  ").bool("DEBUG", False) is False


# --- whole numbers ----------------------------------------------------------------------------------------------


def test_int_is_parsed() -> None:
    assert env(HEARTBEAT_SECONDS="15").int("HEARTBEAT_SECONDS", 60, minimum=1) == 15


@pytest.mark.parametrize("value", ["ten", "1.5", "1e3"])
def test_bad_int_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf"^HEARTBEAT_SECONDS='{value}' is not a whole number"):
        env(HEARTBEAT_SECONDS=value).int("HEARTBEAT_SECONDS", 60)


def test_int_bounds_are_enforced() -> None:
    with pytest.raises(ImproperlyConfigured, match="HEARTBEAT_SECONDS=0 is below the minimum 1"):
        env(HEARTBEAT_SECONDS="0").int("HEARTBEAT_SECONDS", 60, minimum=1)
    with pytest.raises(ImproperlyConfigured, match="WORKERS=99 is above the maximum 16"):
        env(WORKERS="99").int("WORKERS", 2, maximum=16)


# --- strings and lists ------------------------------------------------------------------------------------------


def test_required_string_missing_names_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^SECRET_KEY must be set"):
        env().str("SECRET_KEY")


def test_list_splits_on_commas_and_refuses_empty_entries() -> None:
    assert env(ALLOWED_HOSTS="portal.bank.example, localhost").list("ALLOWED_HOSTS", []) == [
        "portal.bank.example",
        "localhost",
    ]
    with pytest.raises(ImproperlyConfigured, match=r"^ALLOWED_HOSTS=.* has an empty entry"):
        env(ALLOWED_HOSTS="a.example,,b.example").list("ALLOWED_HOSTS", [])


# --- URLs -------------------------------------------------------------------------------------------------------


def test_url_with_an_accepted_scheme() -> None:
    assert env(REDIS_URL="redis://cache:6379/0").url("REDIS_URL", None, schemes=("redis",)) == "redis://cache:6379/0"


def test_unset_url_takes_the_default() -> None:
    assert env().url("REDIS_URL", None, schemes=("redis",)) is None


@pytest.mark.parametrize("value", ["http://cache:6379/0", "cache:6379", "localhost"])
def test_url_with_a_wrong_scheme_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_URL has scheme"):
        env(REDIS_URL=value).url("REDIS_URL", None, schemes=("redis", "rediss"))


def test_refused_url_does_not_echo_its_password() -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        env(DATABASE_URL="mysql://app:hunter2-secret@db/portal").url("DATABASE_URL", schemes=("postgres",))
    assert "hunter2-secret" not in str(refused.value)
    assert "app:***@db" in str(refused.value)


def test_redact_leaves_urls_without_password_alone() -> None:
    assert redact("redis://cache:6379/0") == "redis://cache:6379/0"
    assert redact("postgres://u:p%40ss@db/x") == "postgres://u:***@db/x"


# --- *_FILE secrets ---------------------------------------------------------------------------------------------


def test_file_variant_is_read_and_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("s3cr3t-from-a-mounted-file\n", encoding="utf-8")

    assert env(SECRET_KEY_FILE=str(secret)).str("SECRET_KEY") == "s3cr3t-from-a-mounted-file"


def test_file_variant_wins_over_the_plain_variable(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-file", encoding="utf-8")

    assert env(SECRET_KEY="from-env", SECRET_KEY_FILE=str(secret)).str("SECRET_KEY") == "from-file"


def test_file_variant_applies_to_every_type(tmp_path: Path) -> None:
    url_file = tmp_path / "database_url"
    url_file.write_text("postgres://portal:pw@db:5432/portal", encoding="utf-8")

    value = env(DATABASE_URL_FILE=str(url_file)).url("DATABASE_URL", schemes=("postgres",))

    assert database_from_url(value, conn_max_age=0)["PASSWORD"] == "pw"


def test_unreadable_file_names_the_file_variable(tmp_path: Path) -> None:
    missing = tmp_path / "absent"

    with pytest.raises(ImproperlyConfigured, match=r"^SECRET_KEY_FILE: cannot read .*absent"):
        env(SECRET_KEY_FILE=str(missing)).str("SECRET_KEY")


# --- DATABASE_URL -----------------------------------------------------------------------------------------------


def test_sqlite_absolute_path_and_its_folder_is_created(tmp_path: Path) -> None:
    target = tmp_path / "var" / "portal.sqlite3"

    database = database_from_url(f"sqlite:///{target}", conn_max_age=600)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(target)
    assert target.parent.is_dir()
    # Web, worker and beat share the file: they must wait for the write lock rather than fail.
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_sqlite_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    database = database_from_url("sqlite:///data/portal.sqlite3", conn_max_age=0)

    assert database["NAME"] == "data/portal.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_sqlite_query_parameters_become_options(tmp_path: Path) -> None:
    database = database_from_url(f"sqlite:///{tmp_path}/p.sqlite3?timeout=5", conn_max_age=0)

    assert database["OPTIONS"]["timeout"] == "5"


def test_sqlite_without_a_file_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="names no SQLite file"):
        database_from_url("sqlite://", conn_max_age=0)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_url_is_split_into_its_parts(scheme: str) -> None:
    database = database_from_url(f"{scheme}://portal:p%40ss%2Fword@db.internal:6432/inventory", conn_max_age=300)

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "inventory"
    assert database["USER"] == "portal"
    assert database["PASSWORD"] == "p@ss/word"
    assert database["HOST"] == "db.internal"
    assert database["PORT"] == "6432"
    assert database["CONN_MAX_AGE"] == 300
    assert database["CONN_HEALTH_CHECKS"] is True


def test_postgres_defaults_and_options() -> None:
    database = database_from_url("postgres://db/portal?sslmode=require", conn_max_age=0)

    assert (database["USER"], database["PASSWORD"], database["PORT"]) == ("", "", "")
    assert database["OPTIONS"] == {"sslmode": "require"}


def test_postgres_with_a_prepare_threshold_binds_on_the_server() -> None:
    database = database_from_url("postgres://db/portal?sslmode=require", conn_max_age=0, prepare_threshold=5)

    assert database["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5, "sslmode": "require"}


def test_sqlite_ignores_the_prepare_threshold(tmp_path: Path) -> None:
    database = database_from_url(f"sqlite:///{tmp_path}/p.sqlite3", conn_max_age=0, prepare_threshold=5)

    assert "server_side_binding" not in database["OPTIONS"]
    assert "prepare_threshold" not in database["OPTIONS"]


def test_postgres_without_a_database_name_is_refused_without_the_password() -> None:
    with pytest.raises(ImproperlyConfigured, match="names no database") as refused:
        database_from_url("postgres://portal:hunter2@db:5432/", conn_max_age=0)
    assert "hunter2" not in str(refused.value)


def test_unsupported_database_scheme_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL has scheme 'mysql'"):
        database_from_url("mysql://db/portal", conn_max_age=0)


# --- the settings module as a whole -----------------------------------------------------------------------------


SHOW_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.DEBUG)"
)


def load_settings(tmp_path: Path, script: str = SHOW_SETTINGS, **overrides: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter with only the given environment (plus what Python needs) and run
    ``script`` there."""
    environ = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), **overrides})
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_refuse_to_start_without_a_secret_key_outside_debug(tmp_path: Path) -> None:
    result = load_settings(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_settings_refuse_a_typo_in_debug(tmp_path: Path) -> None:
    result = load_settings(tmp_path, DEBUG="flase")

    assert result.returncode != 0
    assert "DEBUG='flase' is not a boolean" in result.stderr


def test_settings_start_in_production_shape(tmp_path: Path) -> None:
    result = load_settings(
        tmp_path,
        SECRET_KEY="a-real-secret-from-the-vault",
        ALLOWED_HOSTS="portal.bank.example",
        DATABASE_URL="postgres://portal@db/portal",
        REDIS_URL="redis://cache:6379/0",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache:6379/0", "False"]


def test_settings_with_no_environment_but_debug_run_embedded(tmp_path: Path) -> None:
    result = load_settings(tmp_path, DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "True"]


SHOW_DATABASE_OPTIONS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "options = s.DATABASES['default']['OPTIONS']; "
    "print(options.get('server_side_binding'), options.get('prepare_threshold'))"
)


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        ({}, ["True", "5"]),
        ({"DB_PREPARE_THRESHOLD": "0"}, ["True", "0"]),
        ({"DB_PREPARED_STATEMENTS": "0"}, ["None", "None"]),
    ],
)
def test_prepared_statements_are_on_by_default_and_can_be_turned_off(
    tmp_path: Path, overrides: dict[str, str], shown: list[str]
) -> None:
    result = load_settings(
        tmp_path, SHOW_DATABASE_OPTIONS, DEBUG="1", DATABASE_URL="postgres://portal@db/portal", **overrides
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == shown
