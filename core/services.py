"""Writes of the shared kernel: people and service accounts, their roles, API tokens, heartbeats."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.models import ApiToken, ServiceHeartbeat, User
from core.roles import ADMIN, ALL_ROLES, STAFF_ROLES


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    business_unit: Any = None,
    roles: Iterable[str] = (),
    password: str | None = None,
    is_service_account: bool = False,
) -> User:
    """Create a person or a service account with the given roles.

    Service accounts get no usable password: they authenticate with API tokens only.
    """
    roles = list(roles)
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        raise ValidationError({"roles": [f"Unknown role(s): {', '.join(unknown)}. Known: {', '.join(ALL_ROLES)}."]})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [f"A user named {username!r} already exists."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        title=title,
        business_unit=business_unit,
        is_service_account=is_service_account,
        is_staff=bool(STAFF_ROLES.intersection(roles)),
    )
    if password and not is_service_account:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def api_token_issue(*, actor: User, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the row and the clear token, which is never stored or shown again.

    People may issue tokens for themselves; only Admins issue tokens for someone else (service accounts).
    """
    if actor.pk != user.pk and not (actor.is_superuser or actor.groups.filter(name=ADMIN).exists()):
        raise PermissionDenied("Only an Admin may issue a token for another user.")
    if not name.strip():
        raise ValidationError({"name": ["Say what the token is for."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    lookup, clear = ApiToken.new_clear_token()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        lookup=lookup,
        digest=ApiToken.hash_secret(clear),
        expires_at=expires_at,
    )
    return token, clear


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token at once; it is kept for the record."""
    if actor.pk != token.user_id and not (actor.is_superuser or actor.groups.filter(name=ADMIN).exists()):
        raise PermissionDenied("Only an Admin may revoke another user's token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def heartbeat_record(*, name: str, details: dict[str, Any] | None = None) -> ServiceHeartbeat:
    """Record that a background process is alive now (one row per process name, updated in place)."""
    heartbeat, _ = ServiceHeartbeat.objects.update_or_create(
        name=name,
        defaults={"hostname": socket.gethostname(), "last_seen": timezone.now(), "details": details or {}},
    )
    return heartbeat
