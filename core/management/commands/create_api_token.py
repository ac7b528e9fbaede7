"""``manage.py create_api_token <username> --name "..." [--expires-days N]``: issue an API token from the shell.

Operators use it to give a CI/CD pipeline (a service account) its first token, or to issue one for a person
without going through the web UI. The clear token is written to standard output alone, so a script can capture
it (``TOKEN=$(python manage.py create_api_token ci-jenkins --name jenkins)``); the notes go to standard error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.models import User
from core.services import api_token_issue


class Command(BaseCommand):
    """Issue an API token for one user and print it once."""

    help = "Issue an API token for a user or service account and print the clear token (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user or service account the token authenticates as.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'jenkins credit-risk'.")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the token expires (at least 1); without it the token lasts until revoked.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        expires_days: int | None = options["expires_days"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: activate the account before issuing a token.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days is not None else None
        try:
            # Whoever runs manage.py already holds the keys to the database; the token is issued as the user
            # itself, the one case the service allows for every account, people and service accounts alike.
            token, clear = api_token_issue(actor=user, user=user, name=options["name"], expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
        self.stderr.write(
            f"Token {token.name!r} for {user.username} ({expiry}). It is shown only this once: store it now."
        )
        self.stdout.write(clear)
