"""The one reader of the process environment.

Every setting that comes from the environment goes through :class:`Env`, which refuses a bad value at start-up
with a message naming the variable and what it expected, instead of letting a typo (``DEBUG=flase``) silently
become a different configuration. ``NAME_FILE`` variants let secrets come from mounted files (Docker/Kubernetes
secrets) rather than the environment.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_MISSING = object()


class Env:
    """Typed, strict access to environment variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: builtins.str) -> builtins.str | None:
        file_name = self.environ.get(f"{name}_FILE")
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc.strerror}") from exc
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: builtins.str, default: Any = _MISSING) -> Any:
        value = self._raw(name)
        if value is None:
            if default is _MISSING:
                raise ImproperlyConfigured(f"{name} must be set")
            return default
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use one of {sorted(TRUE_WORDS | FALSE_WORDS)}")

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}")
        return number

    def list(self, name: builtins.str, default: builtins.list[builtins.str]) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise ImproperlyConfigured(f"{name}={value!r} has an empty entry: separate values with single commas")
        return items

    def url(self, name: builtins.str, default: Any = _MISSING, *, schemes: tuple[builtins.str, ...]) -> Any:
        value = self.str(name, default)
        if value is default:
            return value
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name} has scheme {scheme!r}; expected one of: {', '.join(schemes)} (value: {redact(value)})"
            )
        return value


def redact(url: str) -> str:
    """The URL with its password replaced, fit for an error message or a log line."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _prepared_statements(threshold: int | None) -> dict[str, Any]:
    # With server-side binding a query's text is the same whatever its parameters, so psycopg can prepare it once
    # per connection and PostgreSQL stops parsing and planning it on every request (the gate's statements and a
    # list page's query spent 1-3 ms there). Client-side binding pastes the parameters into the text instead,
    # which is what a PgBouncer in transaction mode needs (it cannot keep a prepared statement across clients).
    if threshold is None:
        return {}
    return {"server_side_binding": True, "prepare_threshold": threshold}


def database_from_url(url: str, *, conn_max_age: int, prepare_threshold: int | None = None) -> dict[str, Any]:
    """Translate ``DATABASE_URL`` into a Django ``DATABASES`` entry.

    On PostgreSQL, ``prepare_threshold`` (an int) binds parameters on the server and prepares a statement once the
    connection has run its text that many times; None binds them in the client and prepares nothing.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` and ``postgres://user:pass@host:port/name``
    (also ``postgresql://``) are accepted; query parameters become connection options (``?sslmode=require``).
    """
    parts = urlsplit(url)
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file")
        # The embedded default lives under var/, which a fresh clone does not have yet.
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # The web server, the Celery worker and beat all write to the one file: WAL lets readers go on
            # while one writes, IMMEDIATE transactions take the write lock up front instead of failing midway,
            # and the timeout makes a writer wait for the lock rather than raise "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                **options,
            },
        }
    if parts.scheme in {"postgres", "postgresql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={redact(url)!r} names no database")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # A new PostgreSQL connection costs ~10 ms; keep them across requests and check them before use.
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {**_prepared_statements(prepare_threshold), **options},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL has scheme {parts.scheme!r}; expected sqlite:// or postgres:// (value: {redact(url)})"
    )
