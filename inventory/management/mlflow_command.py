"""What the commands that read an MLflow tracking server share: the server and the acting account from the
command line, and the report printed, or a refusal turned into a CommandError naming the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import User
from inventory.mlflow.client import MlflowError
from inventory.services.mlflow import SERVICE_ACCOUNT_USERNAME, mlflow_service_account


class MlflowCommand(BaseCommand):
    """A command reading ``--tracking-uri`` (default ``MLFLOW_TRACKING_URI``) as ``--actor``, printing a report."""

    actor_help = "The account the changes are recorded under"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tracking-uri",
            default=None,
            help="The tracking server, e.g. http://mlflow.internal:5000 (default: the MLFLOW_TRACKING_URI setting).",
        )
        parser.add_argument(
            "--actor",
            default=SERVICE_ACCOUNT_USERNAME,
            help=f"{self.actor_help} (default: {SERVICE_ACCOUNT_USERNAME}, a CI Service account created on first use).",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def tracking_uri(self, options: dict[str, Any]) -> str:
        """The server the command reads; a CommandError when neither the option nor the setting names one."""
        tracking_uri = options["tracking_uri"] or settings.MLFLOW_TRACKING_URI
        if not tracking_uri:
            raise CommandError("Give --tracking-uri or set MLFLOW_TRACKING_URI.")
        return str(tracking_uri)

    def actor(self, username: str) -> User:
        """The acting account: the MLflow service account (made on first use) or an existing user."""
        if username == SERVICE_ACCOUNT_USERNAME:
            return mlflow_service_account()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def run_and_print(self, run: Callable[[], Any], summary: Callable[[Any], str], *, as_json: bool) -> None:
        """Run the import and print its report; an unreadable server or a refusal is a CommandError (exit 1)."""
        try:
            report = run()
        except MlflowError as exc:
            raise CommandError(str(exc)) from exc
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            self.stdout.write(summary(report))
