"""``manage.py audit_bias``: store evaluation data for a model version and run a bias audit on it.

The same service stores the data and the same task function runs the audit as for the API (in this process,
instead of on a worker), so a scripted audit is recorded exactly like one requested from the portal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.models import AuditRun
from audits.services import bias_audit_request, evaluation_dataset_create
from audits.tasks import run_bias_audit
from core.models import User
from inventory.models import ModelVersion


class Command(BaseCommand):
    help = "Store a CSV of labelled predictions for a model version, run a bias audit, print the result as JSON."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """The parser, with ``--version`` meaning the model version (the brief's interface) instead of Django's."""
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="Registered model key, e.g. RB-0001.")
        parser.add_argument("--version", dest="version_label", required=True, help="Version label.")
        parser.add_argument("--file", required=True, type=Path, help="UTF-8 CSV with a header row.")
        parser.add_argument("--label", required=True, help="Column of the true label (binary).")
        parser.add_argument("--prediction", help="Column of the predicted label (binary).")
        parser.add_argument("--score", help="Column of a score, used with --threshold when there is no prediction.")
        parser.add_argument("--threshold", type=float, help="Scores at or above it are positive predictions.")
        parser.add_argument("--positive-label", help="The label value that counts as positive, if not 1/true.")
        parser.add_argument("--sensitive", action="append", required=True, help="Sensitive column (repeatable).")
        parser.add_argument("--name", help="Name of the dataset (default: the file name).")
        parser.add_argument("--as", dest="username", default="admin", help="User acting (default: admin).")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {options['username']!r}; name one with --as.")
        version = (
            ModelVersion.objects.select_related("model")
            .filter(model__key=options["model"], version=options["version_label"])
            .first()
        )
        if version is None:
            raise CommandError(f"No version {options['version_label']} of model {options['model']}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        mapping: dict[str, Any] = {"label": options["label"], "sensitive": options["sensitive"]}
        for key in ("prediction", "score", "threshold", "positive_label"):
            if options[key] is not None:
                mapping[key] = options[key]
        try:
            with path.open("rb") as handle:
                dataset = evaluation_dataset_create(
                    actor=actor,
                    version=version,
                    name=options["name"] or path.name,
                    mapping=mapping,
                    upload=File(handle, name=path.name),
                )
            run = bias_audit_request(actor=actor, dataset=dataset, enqueue=False)
        except (ValidationError, PermissionDenied) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("; ".join(messages)) from None
        run_bias_audit(run.pk)
        run = AuditRun.objects.get(pk=run.pk)
        document = {
            "run": run.pk,
            "status": run.status,
            "error": run.error,
            "dataset_sha256": run.dataset_sha256,
            "policy_revision": run.policy_revision,
            "verdicts": run.verdicts,
            "result": run.result,
        }
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        if run.status == "error":
            raise CommandError(f"The audit ended in error: {run.error}")
