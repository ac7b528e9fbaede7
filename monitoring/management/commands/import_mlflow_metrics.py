"""``manage.py import_mlflow_metrics [--tracking-uri URI] [--model KEY] [--actor USERNAME] [--environment ENV]
[--json]``: the latest metric values of the MLflow runs behind imported versions, as metric observations.

See ``monitoring.mlflow``. Without ``--tracking-uri`` the ``MLFLOW_TRACKING_URI`` setting is used; without
``--model`` every model the actor may report for. A server that cannot be read, or a refusal, is a CommandError
(exit status 1) naming the problem, and nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import User
from inventory.mlflow.client import MlflowError
from inventory.models import RegisteredModel
from inventory.services.mlflow import SERVICE_ACCOUNT_USERNAME, mlflow_service_account
from monitoring.mlflow import DEFAULT_ENVIRONMENT, MetricImportReport, mlflow_metrics_import


class Command(BaseCommand):
    """Import the metrics of MLflow runs behind portal versions as metric observations."""

    help = "Import the latest metric values of the MLflow runs behind imported versions as metric observations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tracking-uri", default=None, help="The tracking server (default: the MLFLOW_TRACKING_URI setting)."
        )
        parser.add_argument("--model", default=None, help="Only this model's versions (its key, e.g. RB-0001).")
        parser.add_argument(
            "--actor",
            default=SERVICE_ACCOUNT_USERNAME,
            help=f"The account the observations are recorded under (default: {SERVICE_ACCOUNT_USERNAME}).",
        )
        parser.add_argument(
            "--environment",
            default=DEFAULT_ENVIRONMENT,
            help=f"Environment to file them under ({DEFAULT_ENVIRONMENT}).",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        tracking_uri = options["tracking_uri"] or settings.MLFLOW_TRACKING_URI
        if not tracking_uri:
            raise CommandError("Give --tracking-uri or set MLFLOW_TRACKING_URI.")
        actor = self._actor(options["actor"])
        model = None
        if options["model"]:
            model = RegisteredModel.objects.filter(key=options["model"].strip()).first()
            if model is None:
                raise CommandError(f"No model with the key {options['model']!r}.")
        try:
            report = mlflow_metrics_import(
                actor=actor,
                tracking_uri=tracking_uri,
                token=settings.MLFLOW_TRACKING_TOKEN,
                model=model,
                environment=options["environment"],
            )
        except MlflowError as exc:
            raise CommandError(str(exc)) from exc
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            self.stdout.write(summary(report))

    def _actor(self, username: str) -> User:
        if username == SERVICE_ACCOUNT_USERNAME:
            return mlflow_service_account()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user


def summary(report: MetricImportReport) -> str:
    """The report as a few lines: the counts, then each run with its metrics and notes."""
    lines = [
        f"MLflow {report.tracking_uri} -> environment {report.environment}: {len(report.runs)} run(s); "
        f"observations {report.created} created, {report.updated} updated, {report.unchanged} unchanged; "
        f"{len(report.findings)} finding(s) raised"
    ]
    for run in report.runs:
        lines.append(f"  {run.model} {run.version}  run {run.run_id}: {', '.join(run.metrics) or 'no metrics'}")
        lines += [f"    note: {note}" for note in run.notes]
    return "\n".join(lines) + "\n"
