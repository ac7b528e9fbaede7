"""Shared kernel models: the portal's user, API tokens for service accounts, worker heartbeats, and sign-in
attempts with the lockouts they set off."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from core.history import PortalHistoricalRecords
from core.permissions import RestrictedQuerySet


class TimeStampedModel(models.Model):
    """Base for portal records: creation and last-change times, and the restricted manager."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True


class PortalUserManager(UserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    """User manager that also offers ``restrict(user, action)``."""


class User(AbstractUser):
    """A person (or a service account) using the portal.

    People carry a job title and the business unit they belong to, so an inventory can say who owns what in
    the organisation. Service accounts are users with ``is_service_account`` set: they sign in with API
    tokens only and hold object permissions on the models they may report for.
    """

    title = models.CharField(max_length=120, blank=True)
    business_unit = models.ForeignKey(
        "inventory.BusinessUnit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_service_account = models.BooleanField(
        default=False, help_text="A CI/CD system or tool, not a person: API tokens only, no password sign-in."
    )

    objects: ClassVar[PortalUserManager] = PortalUserManager()
    history = PortalHistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


TOKEN_PREFIX = "mop"  # noqa: S105 - a public marker, not a secret  # nosec B105


class ApiTokenQuerySet(RestrictedQuerySet):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token for the REST API, stored only as a SHA-256 digest.

    The clear token (``mop_<lookup>_<secret>``) is shown once, when it is issued. ``lookup`` finds the row
    without scanning; the digest is compared in constant time. Tokens can expire and be revoked. Every use is
    counted, with the time and client address of the last one, so a leaked or forgotten token shows up.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'jenkins credit-risk pipeline'.")
    lookup = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    use_count = models.PositiveBigIntegerField(default=0, editable=False, help_text="Requests authenticated with it.")
    last_used_from = models.GenericIPAddressField(
        null=True,
        blank=True,
        editable=False,
        help_text="Client address of the last use (the connection's, REMOTE_ADDR).",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user.username}, {TOKEN_PREFIX}_{self.lookup}_…)"

    @staticmethod
    def hash_secret(clear: str) -> str:
        return hashlib.sha256(clear.encode()).hexdigest()

    @classmethod
    def new_clear_token(cls) -> tuple[str, str]:
        """A fresh (lookup, clear token) pair."""
        lookup = secrets.token_hex(8)
        return lookup, f"{TOKEN_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class ServiceHeartbeat(models.Model):
    """The last time a background process proved it was alive (beat scheduled a task and a worker ran it)."""

    name = models.CharField(max_length=50, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    last_seen = models.DateTimeField()
    details: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


class SignInChannel(models.TextChoices):
    PASSWORD = "password", "Password sign-in"
    API_TOKEN = "api_token", "API token"


class LockoutScope(models.TextChoices):
    USERNAME = "username", "Username"
    ADDRESS = "address", "Client address"


class LoginAttempt(models.Model):
    """One sign-in attempt, by password or API token, whether it succeeded or not.

    Lockouts are counted from these rows (``core.lockout``), so they hold across every web process and survive a
    restart. ``username`` is what was typed, lower-cased, whether or not such a user exists; API token attempts
    carry no username. ``refused`` marks an attempt turned away because a lockout was active: it is kept for the
    record but does not count towards another lockout.
    """

    channel = models.CharField(max_length=20, choices=SignInChannel.choices)
    username = models.CharField(max_length=150, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="The connection's REMOTE_ADDR.")
    succeeded = models.BooleanField()
    refused = models.BooleanField(default=False, help_text="Turned away by an active lockout, password not checked.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["channel", "username", "at"], name="core_attempt_username_idx"),
            models.Index(fields=["channel", "address", "at"], name="core_attempt_address_idx"),
        ]

    def __str__(self) -> str:
        outcome = "succeeded" if self.succeeded else "refused" if self.refused else "failed"
        return f"{self.get_channel_display()} {self.username or '-'} from {self.address or '?'} {outcome}"


class Lockout(models.Model):
    """A username or client address refused sign-in until ``locked_until`` after too many failures in a row.

    Admins see lockouts in Django's admin and may release one early (``released_at``/``released_by``); rows are
    kept for the record.
    """

    channel = models.CharField(max_length=20, choices=SignInChannel.choices)
    scope = models.CharField(max_length=20, choices=LockoutScope.choices)
    key = models.CharField(max_length=150, help_text="The username (lower-cased) or the client address.")
    failures = models.PositiveIntegerField(help_text="Failed attempts within the window that set it off.")
    created_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["channel", "scope", "key", "locked_until"], name="core_lockout_key_idx")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key} ({self.get_channel_display()}) until {self.locked_until:%H:%M}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None and self.locked_until > timezone.now()
