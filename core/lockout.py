"""Sign-in throttling: after too many failed attempts in a window, a username or a client address is refused for a
while, with a message that says so and until when.

Three counters, all kept in the database (``LoginAttempt``/``Lockout``) so every web process sees the same ones:

- password sign-in per username (``LOGIN_FAILURE_LIMIT``): stops guessing one person's password; a successful
  sign-in starts the count again;
- password sign-in per client address (``LOGIN_FAILURE_ADDRESS_LIMIT``): stops one client trying one password
  against many usernames. A success does not reset it, or an attacker with one account could clear it at will;
- API token authentication per client address (``API_TOKEN_FAILURE_LIMIT``): stops floods of guessed tokens
  (failures answer 429 during the lockout; see :func:`throttle_token_failures`).

All three share ``LOGIN_FAILURE_WINDOW_SECONDS`` and ``LOGIN_LOCKOUT_SECONDS``. A lockout is set whether or not the
username exists, so a lockout says nothing about which accounts there are. Attempts turned away during a lockout
are recorded but do not extend it. Each lockout is logged (logger ``core.lockout``) and listed in Django's admin,
where an Admin can release it early.

The portal's sign-in form and the admin's check the lockout before the password and show the message;
:class:`LockoutBackend`, first in ``AUTHENTICATION_BACKENDS``, refuses any other password path too.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from core.models import Lockout, LockoutScope, LoginAttempt, SignInChannel, User
from core.security import SESSION_AUTH_AT

logger = logging.getLogger(__name__)

PASSWORD = SignInChannel.PASSWORD
API_TOKEN = SignInChannel.API_TOKEN
USERNAME = LockoutScope.USERNAME
ADDRESS = LockoutScope.ADDRESS


@dataclass(frozen=True)
class Refusal:
    """An active lockout, said for the person or pipeline it turns away."""

    lockout: Lockout
    message: str
    retry_after_seconds: int


def normalise_username(username: str | None) -> str:
    """Usernames are compared lower-cased and trimmed, so ``Admin`` and ``admin `` count against one lockout."""
    return (username or "").strip().lower()[:150]


def request_address(request: HttpRequest | None) -> str | None:
    """The client address of a request, as the API token records it (``REMOTE_ADDR`` only, never a header the
    client writes), or None."""
    if request is None:
        return None
    from core.authentication import client_address  # core.authentication calls into this module

    return client_address(request)  # type: ignore[arg-type]


def _limit(channel: str, scope: str) -> int:
    if channel == API_TOKEN:
        return int(settings.API_TOKEN_FAILURE_LIMIT)
    if scope == USERNAME:
        return int(settings.LOGIN_FAILURE_LIMIT)
    return int(settings.LOGIN_FAILURE_ADDRESS_LIMIT)


def _keys(channel: str, username: str, address: str | None) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if channel == PASSWORD and username:
        keys.append((USERNAME, username))
    if address:
        keys.append((ADDRESS, address))
    return keys


def _attempt_filter(scope: str, key: str) -> Q:
    return Q(username=key) if scope == USERNAME else Q(address=key)


def _active(channel: str, keys: list[tuple[str, str]], now: datetime) -> Lockout | None:
    if not keys:
        return None
    matches = Q()
    for scope, key in keys:
        matches |= Q(scope=scope, key=key)
    return (
        Lockout.objects.filter(matches, channel=channel, released_at__isnull=True, locked_until__gt=now)
        .order_by("-locked_until")
        .first()
    )


def _refusal(lockout: Lockout, now: datetime) -> Refusal:
    seconds = max(1, math.ceil((lockout.locked_until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    until = timezone.localtime(lockout.locked_until).strftime("%H:%M %Z")
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if lockout.channel == API_TOKEN:
        message = (
            f"Too many failed API token attempts from your address: token authentication is refused for {wait} "
            f"(until {until})."
        )
    else:
        who = "this username" if lockout.scope == USERNAME else "your network address"
        message = (
            f"Too many failed sign-ins for {who}: sign-in is refused for {wait} (until {until}). "
            "An administrator can release the lock sooner."
        )
    return Refusal(lockout=lockout, message=message, retry_after_seconds=seconds)


def sign_in_refusal(*, username: str | None, address: str | None, record: bool = False) -> Refusal | None:
    """The active lockout that refuses this password sign-in, or None. With ``record``, a refused attempt is
    written for the record (callers that will not go on to authenticate, such as the sign-in form)."""
    name = normalise_username(username)
    now = timezone.now()
    lockout = _active(PASSWORD, _keys(PASSWORD, name, address), now)
    if lockout is None:
        return None
    if record:
        LoginAttempt.objects.create(
            channel=PASSWORD, username=name, address=address, succeeded=False, refused=True, at=now
        )
    return _refusal(lockout, now)


def api_token_refusal(*, address: str | None) -> Refusal | None:
    """The active lockout that refuses API token authentication from this address, or None."""
    now = timezone.now()
    lockout = _active(API_TOKEN, _keys(API_TOKEN, "", address), now)
    return None if lockout is None else _refusal(lockout, now)


def _failures_since(channel: str, scope: str, key: str, now: datetime) -> datetime:
    """Where the count of failures starts: the window, the last success (usernames only), the end of the last
    lockout (so an expired lockout gives a fresh set of attempts rather than locking again at once)."""
    start = now - timedelta(seconds=int(settings.LOGIN_FAILURE_WINDOW_SECONDS))
    if scope == USERNAME:
        last_success = LoginAttempt.objects.filter(channel=channel, username=key, succeeded=True).aggregate(
            at=Max("at")
        )["at"]
        if last_success is not None:
            start = max(start, last_success)
    last_lockout = Lockout.objects.filter(channel=channel, scope=scope, key=key).order_by("-created_at").first()
    if last_lockout is not None:
        start = max(start, min(last_lockout.released_at or last_lockout.locked_until, now))
    return start


def _record_failure(*, channel: str, username: str, address: str | None) -> Refusal | None:
    """Write a failed attempt and set a lockout on each counter it brings to its limit. Returns the refusal in
    force after this attempt (an earlier lockout, or the one it set off), or None."""
    now = timezone.now()
    keys = _keys(channel, username, address)
    with transaction.atomic():
        active = _active(channel, keys, now)
        if active is not None:
            LoginAttempt.objects.create(
                channel=channel, username=username, address=address, succeeded=False, refused=True, at=now
            )
            return _refusal(active, now)
        LoginAttempt.objects.create(channel=channel, username=username, address=address, succeeded=False, at=now)
        created: Lockout | None = None
        for scope, key in keys:
            since = _failures_since(channel, scope, key, now)
            failures = LoginAttempt.objects.filter(
                _attempt_filter(scope, key), channel=channel, succeeded=False, refused=False, at__gt=since
            ).count()
            if failures < _limit(channel, scope):
                continue
            lockout = Lockout.objects.create(
                channel=channel,
                scope=scope,
                key=key,
                failures=failures,
                created_at=now,
                locked_until=now + timedelta(seconds=int(settings.LOGIN_LOCKOUT_SECONDS)),
            )
            logger.warning(
                "Lockout: %s %s refused for %s until %s after %d failed attempts (%s)",
                lockout.get_scope_display().lower(),
                key,
                lockout.get_channel_display().lower(),
                lockout.locked_until.isoformat(timespec="seconds"),
                failures,
                f"last from {address}" if address else "address unknown",
            )
            created = created or lockout
        return None if created is None else _refusal(created, now)


def sign_in_failed(*, username: str | None, address: str | None) -> Refusal | None:
    """Record a failed password sign-in; returns the lockout in force after it, if any."""
    return _record_failure(channel=PASSWORD, username=normalise_username(username), address=address)


def sign_in_succeeded(*, username: str, address: str | None) -> LoginAttempt:
    """Record a successful password sign-in, which starts that username's failure count again."""
    return LoginAttempt.objects.create(
        channel=PASSWORD, username=normalise_username(username), address=address, succeeded=True
    )


def api_token_failed(*, address: str | None) -> Refusal | None:
    """Record a failed API token authentication from an address; returns the lockout in force after it, if any."""
    return _record_failure(channel=API_TOKEN, username="", address=address)


def throttle_token_failures(authenticate: Callable[[Any, Request], Any]) -> Callable[[Any, Request], Any]:
    """Decorates ``ApiTokenAuthentication.authenticate``: each failure is recorded, and a failure while the client
    address is locked out (or the one that locks it) answers 429 with ``Retry-After`` instead of 401.

    Only failures are throttled: a valid token is accepted even from a locked address. A token's secret is 256
    random bits, so guessing cannot succeed anyway; what the lockout stops is the flood of guesses. Accepting
    valid tokens keeps one misconfigured pipeline from locking out every pipeline behind the same egress
    address, and keeps the success path free of an extra query.
    """

    @functools.wraps(authenticate)
    def wrapper(self: Any, request: Request) -> Any:
        try:
            return authenticate(self, request)
        except exceptions.AuthenticationFailed:
            refusal = api_token_failed(address=request_address(request))
            if refusal is not None:
                raise exceptions.Throttled(wait=refusal.retry_after_seconds, detail=refusal.message) from None
            raise

    return wrapper


def lockout_release(*, actor: User, lockout: Lockout) -> Lockout:
    """End a lockout now (an Admin who checked with the person); the row stays for the record."""
    if not (actor.is_superuser or actor.has_perm("core.change_lockout")):
        raise PermissionDenied("Only an Admin may release a lockout.")
    if lockout.released_at is None:
        lockout.released_at = timezone.now()
        lockout.released_by = actor
        lockout.save(update_fields=["released_at", "released_by"])
        logger.warning("Lockout released by %s: %s", actor.get_username(), lockout)
    return lockout


def login_attempts_prune(*, older_than_days: int = 90) -> int:
    """Delete attempts older than the given age (lockouts stay); returns how many went."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = LoginAttempt.objects.filter(at__lt=cutoff).delete()
    return deleted


class LockoutBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses a password sign-in during a lockout before any password is
    checked, whatever path it came by. Never authenticates anyone itself.

    Deliberately not a ``BaseBackend``: without ``get_user`` and the permission methods, Django skips it for
    sessions (``force_login`` picks the first backend that has ``get_user``) and permission checks.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **kwargs: Any) -> None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is not None and sign_in_refusal(username=username, address=request_address(request)):
            # authenticate() stops at PermissionDenied and sends user_login_failed, which records the refusal.
            raise PermissionDenied("locked out")
        return None


@receiver(user_login_failed, dispatch_uid="core.lockout.sign_in_failed")
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = credentials.get("username", credentials.get(User.USERNAME_FIELD))
    sign_in_failed(username=username, address=request_address(request))


@receiver(user_logged_in, dispatch_uid="core.lockout.sign_in_succeeded")
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    sign_in_succeeded(username=user.get_username(), address=request_address(request))
    if request is not None and hasattr(request, "session"):
        # The absolute session lifetime (core.security.SessionExpiryMiddleware) counts from here.
        request.session[SESSION_AUTH_AT] = timezone.now().timestamp()


class LockoutFormMixin:
    """For Django's sign-in forms: refuse during a lockout before the password is checked, and say so, also right
    after the failure that set the lockout off."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        address = request_address(self.request)
        if username:
            refusal = sign_in_refusal(username=username, address=address, record=True)
            if refusal is not None:
                raise forms.ValidationError(refusal.message, code="locked_out")
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            refusal = sign_in_refusal(username=username, address=address) if username else None
            if refusal is not None:
                raise forms.ValidationError(refusal.message, code="locked_out") from None
            raise


class LockoutAuthenticationForm(LockoutFormMixin, AuthenticationForm):
    """The portal's sign-in form (core/urls.py)."""


class LockoutAdminAuthenticationForm(LockoutFormMixin, AdminAuthenticationForm):
    """The admin site's sign-in form (core/admin.py)."""
