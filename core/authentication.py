"""API token authentication: ``Authorization: Token mop_<lookup>_<secret>`` (``Bearer`` is accepted too)."""

from __future__ import annotations

import atexit
import datetime as dt
import hmac
import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core import lockout
from core.compiled import CompiledQuery
from core.models import TOKEN_PREFIX, ApiToken

# How often one web process writes a token's use to its row. An UPDATE on every request made every API call,
# reads included, a write (and a WAL flush), and queued one token's concurrent requests on its row lock.
TOKEN_USE_WRITE_SECONDS = 60.0


@dataclass
class _PendingUse:
    token_id: int
    lookup: str
    count: int = 0
    at: dt.datetime | None = None
    address: str | None = None
    written: float = float("-inf")


class TokenUseRecorder:
    """Counts a process's uses of each token and writes them to the token's row at most once a minute.

    The first use a process sees of a token is written at once, and so is the first after a quiet minute; the
    uses in between are counted here and added to ``use_count`` (incremented in the database, so processes never
    lose each other's uses) with the next write. What the admin shows is therefore behind by at most a minute per
    web process: ``last_used_at`` and ``last_used_from`` are those of a use no more than
    :data:`TOKEN_USE_WRITE_SECONDS` before the latest, and ``use_count`` lacks at most the uses of the last minute.
    Counts a process holds are written when it exits normally; a process killed outright loses them.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        # Keyed by the token's lookup, which is never reused (a primary key can be, after a delete on SQLite).
        self._pending: dict[str, _PendingUse] = {}

    def record(self, token: ApiToken, *, at: dt.datetime, address: str | None) -> None:
        """Count one use; write what this process has counted if its last write for the token is a minute old."""
        with self._lock:
            pending = self._pending.setdefault(token.lookup, _PendingUse(token.pk, token.lookup))
            pending.count += 1
            pending.at, pending.address = at, address
            clock = self.clock()
            if clock - pending.written < TOKEN_USE_WRITE_SECONDS:
                return
            count, pending.count, pending.written = pending.count, 0, clock
        self._write(pending, count, at, address)

    def flush(self) -> None:
        """Write every count this process still holds (at exit, and in tests)."""
        with self._lock:
            held = list(self._pending.values())
            self._pending.clear()
        for use in held:
            if use.count and use.at is not None:
                self._write(use, use.count, use.at, use.address)

    @staticmethod
    def _write(use: _PendingUse, count: int, at: dt.datetime, address: str | None) -> None:
        # The lookup too: a write at exit must not touch another token that came to have the same primary key.
        ApiToken.objects.filter(pk=use.token_id, lookup=use.lookup).update(
            use_count=F("use_count") + count, last_used_at=at, last_used_from=address
        )


token_uses = TokenUseRecorder()

_USER_BY_ID = CompiledQuery(
    lambda user_id: get_user_model()._default_manager.filter(pk=user_id).order_by(), user_id=int
)


@atexit.register
def _write_held_uses() -> None:
    # A gunicorn worker leaving normally (restart, max-requests, shutdown) writes what it counted.
    try:
        token_uses.flush()
    except Exception:  # the database may be gone at exit; there is nothing else to do then
        return


def client_address(request: Request) -> str | None:
    """The address of the connection the request came on (``REMOTE_ADDR``), or None when it is not an IP.

    Forwarding headers (``X-Forwarded-For``) are ignored on purpose: any client can write them, and the record
    of who used a token must not be something the token holder chooses. Behind a proxy this is the proxy's
    address unless the server in front rewrites ``REMOTE_ADDR`` itself.
    """
    raw = str(request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Looks the token up by its public part and compares the SHA-256 of the whole token in constant time."""

    keywords = ("token", "bearer")

    @lockout.throttle_token_failures  # failures count towards a lockout of the client address
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Token <token>'.")
        try:
            clear = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Token contains invalid characters.") from None
        prefix, _, rest = clear.partition("_")
        lookup, _, _secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not lookup:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = _TOKEN_BY_LOOKUP.first(lookup=lookup)
        if token is None or not hmac.compare_digest(token.digest, ApiToken.hash_secret(clear)):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_usable:
            raise exceptions.AuthenticationFailed("Token has expired or was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if not token.user.is_superuser:
            # What PersonModelBackend.get_all_permissions would read next (superusers' come from every permission).
            names: str | None = token.user_permission_names  # type: ignore[attr-defined]
            token.user._perm_cache = set(names.split()) if names else set()  # type: ignore[attr-defined]
        token_uses.record(token, at=timezone.now(), address=client_address(request))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class PersonModelBackend(ModelBackend):
    """Password sign-in for people only: service accounts authenticate with API tokens, whatever password an
    administrator may have set on them."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)

    def get_user(self, user_id: Any) -> Any:
        """The user a session names (Django's lookup), read with a statement compiled once: every signed-in
        request asks."""
        try:
            user = _USER_BY_ID.first(user_id=int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The user's role and direct permissions in one statement (Django's backend asks twice on every request)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser or hasattr(user_obj, "_perm_cache"):
            return super().get_all_permissions(user_obj, obj)
        with connection.cursor() as cursor:
            cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache


@lru_cache(maxsize=1)
def _permissions_sql() -> str:
    """The text of the user's permissions query: direct ones and those of their roles (groups), as app_label and
    codename rows; parameters: the user's id twice.

    Every signed-in request asks this. Built with the ORM it cost about a millisecond of query compiling per
    request, more than the database took to answer; as fixed text (table and column names from the models'
    metadata) it costs nothing to build and, with server-side binding, PostgreSQL plans it once per connection.
    """
    ct, p = _permission_columns()
    return f"SELECT {ct['app_label']}, {p['codename']} {_permissions_from('%s')}"  # nosec B608


@lru_cache(maxsize=1)
def _token_permissions_sql() -> str:
    """A scalar subquery of the token statement: the permissions of the token's user as ``app_label.codename``
    names separated by spaces (NULL without any), so an API request reads them with its token instead of in a
    query of its own."""
    ct, p = _permission_columns()
    quote = connection.ops.quote_name
    user = f"{quote(ApiToken._meta.db_table)}.{quote(ApiToken._meta.get_field('user').column)}"
    name = f"{ct['app_label']} || '.' || {p['codename']}"
    aggregate = f"STRING_AGG({name}, ' ')" if connection.vendor == "postgresql" else f"GROUP_CONCAT({name}, ' ')"
    return f"(SELECT {aggregate} {_permissions_from(user)})"  # nosec B608


def _permission_columns() -> tuple[dict[str, str], dict[str, str]]:
    quote = connection.ops.quote_name
    content_type: Any = ContentType._meta
    permission: Any = Permission._meta
    return (
        {name: f"ct.{quote(content_type.get_field(name).column)}" for name in ("id", "app_label")},
        {name: f"p.{quote(permission.get_field(name).column)}" for name in ("id", "codename", "content_type")},
    )


def _permissions_from(user: str) -> str:
    """FROM and WHERE of the permissions of the user ``user`` stands for (a placeholder or an outer column)."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    direct = user_model.user_permissions.through._meta
    roles = user_model.groups.through._meta
    granted = Group.permissions.through._meta
    ct, p = _permission_columns()

    def table(meta: Any) -> str:
        return quote(meta.db_table)

    def column(meta: Any, field: str) -> str:
        return quote(meta.get_field(field).column)

    user_field = str(user_model._meta.model_name)
    # Names from the models' metadata; the user is a placeholder or a column.
    return (
        f"FROM {table(Permission._meta)} p JOIN {table(ContentType._meta)} ct ON {ct['id']} = {p['content_type']} "  # noqa: S608  # nosec B608
        f"WHERE {p['id']} IN ("
        f"SELECT d.{column(direct, 'permission')} FROM {table(direct)} d WHERE d.{column(direct, user_field)} = {user} "
        f"UNION SELECT g.{column(granted, 'permission')} FROM {table(granted)} g JOIN {table(roles)} r "
        f"ON r.{column(roles, 'group')} = g.{column(granted, 'group')} WHERE r.{column(roles, user_field)} = {user})"
    )


# Every API request looks its token up, with its user and the user's permissions: compiled once, not on each
# request (core.compiled).
_TOKEN_BY_LOOKUP: CompiledQuery[ApiToken] = CompiledQuery(
    lambda lookup: (
        ApiToken.objects.select_related("user")
        .annotate(user_permission_names=RawSQL(_token_permissions_sql(), ()))  # noqa: S611  # nosec B611
        .filter(lookup=lookup)
        .order_by()[:1]
    ),
    lookup=str,
)
