"""``manage.py import_mlflow_metrics [--tracking-uri URI] [--model KEY] [--actor USERNAME] [--environment ENV]
[--json]``: the latest metric values of the MLflow runs behind imported versions, as metric observations.

See ``monitoring.mlflow``. Without ``--tracking-uri`` the ``MLFLOW_TRACKING_URI`` setting is used; without
``--model`` every model the actor may report for. A server that cannot be read, or a refusal, is a CommandError
(exit status 1) naming the problem, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from inventory.management.mlflow_command import MlflowCommand
from inventory.models import RegisteredModel
from monitoring.mlflow import DEFAULT_ENVIRONMENT, MetricImportReport, mlflow_metrics_import


class Command(MlflowCommand):
    """Import the metrics of MLflow runs behind portal versions as metric observations."""

    help = "Import the latest metric values of the MLflow runs behind imported versions as metric observations."
    actor_help = "The account the observations are recorded under"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--model", default=None, help="Only this model's versions (its key, e.g. RB-0001).")
        parser.add_argument(
            "--environment",
            default=DEFAULT_ENVIRONMENT,
            help=f"Environment to file them under ({DEFAULT_ENVIRONMENT}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tracking_uri = self.tracking_uri(options)
        actor = self.actor(options["actor"])
        model = None
        if options["model"]:
            model = RegisteredModel.objects.filter(key=options["model"].strip()).first()
            if model is None:
                raise CommandError(f"No model with the key {options['model']!r}.")
        self.run_and_print(
            lambda: mlflow_metrics_import(
                actor=actor,
                tracking_uri=tracking_uri,
                token=settings.MLFLOW_TRACKING_TOKEN,
                model=model,
                environment=options["environment"],
            ),
            summary,
            as_json=options["json"],
        )


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
