"""``manage.py sync_mlflow [--tracking-uri URI] [--actor USERNAME] [--dry-run] [--json]``: import from MLflow.

Reads the tracking server's registered models, versions, runs and tags and brings the inventory in line (see
``inventory.services.mlflow``). Without ``--tracking-uri`` the ``MLFLOW_TRACKING_URI`` setting is used. The
summary goes to standard output; ``--json`` prints the whole report as one JSON document instead. A server that
cannot be read is a CommandError (exit status 1) naming the URL and the problem, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from inventory.management.mlflow_command import MlflowCommand
from inventory.services.mlflow import SyncReport, mlflow_sync


class Command(MlflowCommand):
    """Import registered models, versions and runs from an MLflow tracking server."""

    help = "Import registered models, versions, runs and tags from an MLflow tracking server (read-only on MLflow)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="Report what would change, write nothing.")
        parser.add_argument(
            "--timeout", type=float, default=None, help="Seconds to wait for each answer of the server (default 10)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tracking_uri = self.tracking_uri(options)
        timeout = options["timeout"]
        if timeout is not None and not 0 < timeout <= 600:
            raise CommandError("--timeout must be more than 0 and at most 600 seconds.")
        actor = self.actor(options["actor"])
        self.run_and_print(
            lambda: mlflow_sync(
                actor=actor,
                tracking_uri=tracking_uri,
                dry_run=options["dry_run"],
                timeout=timeout,
                token=settings.MLFLOW_TRACKING_TOKEN,
            ),
            summary,
            as_json=options["json"],
        )


def summary(report: SyncReport) -> str:
    """The report as a few readable lines: totals, then each model that needs someone's attention."""
    totals = report.totals
    lines = [
        f"MLflow {report.tracking_uri}{' (dry run: nothing written)' if report.dry_run else ''}",
        f"  models:       {totals['models']} found: {totals['linked']} linked, {totals['unregistered']} unregistered, "
        f"{totals['ignored']} ignored, {totals['skipped']} skipped",
        f"  triage:       {totals['records_created']} new, {totals['records_updated']} updated",
        f"  versions:     {totals['versions_created']} created, {totals['versions_existing']} unchanged",
        f"  artifacts:    {totals['artifacts_created']} created, {totals['artifacts_updated']} updated, "
        f"{totals['artifacts_unchanged']} unchanged",
    ]
    if not report.changed:
        lines.append("  nothing changed")
    for outcome in report.models:
        if outcome.status in {"unregistered", "skipped"} or outcome.notes:
            target = f" -> {outcome.model_key}" if outcome.model_key else ""
            lines.append(f"  {outcome.status:<12}  {outcome.name}{target}")
            lines.extend(f"                  {note}" for note in outcome.notes)
    for entry in report.unknown_owners:
        lines.append(f"  unknown owner {entry['owner']!r} named by {entry['name']}")
    for name in report.missing:
        lines.append(f"  no longer in MLflow: {name}")
    return "\n".join(lines)
