"""``manage.py export_report KIND --user USERNAME --output PATH``: produce one export in this process.

The export is requested through the same service as from the portal (checked, recorded in the ledger, listed on
the user's Downloads page) and produced by the same function the worker runs; the file is then copied to
``--output``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import User
from reports.choices import ExportKind, ExportStatus
from reports.services import export_execute, export_request


class Command(BaseCommand):
    help = "Produce a report export (register, portfolio, model report, evidence pack) as USER into PATH."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ExportKind.values, help="What to export.")
        parser.add_argument("--user", required=True, help="Username the export is made as (and for).")
        parser.add_argument("--output", required=True, type=Path, help="Where to write the file.")
        parser.add_argument("--as-of", dest="as_of", help="Register only: the register as of this day (YYYY-MM-DD).")
        parser.add_argument(
            "--model",
            dest="models",
            action="append",
            default=[],
            help="Model key: one for model_pdf, any for evidence_pack.",
        )
        parser.add_argument(
            "--filter",
            dest="filters",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="Register only: an inventory filter, e.g. stage=production (repeatable).",
        )

    def _params(self, kind: str, options: dict[str, Any]) -> dict[str, Any]:
        models: list[str] = options["models"]
        is_register = kind in (ExportKind.REGISTER_CSV, ExportKind.REGISTER_XLSX)
        if not is_register and (options["as_of"] or options["filters"]):
            raise CommandError("--as-of and --filter apply to the register only.")
        if is_register:
            if models:
                raise CommandError("--model does not apply to the register; use --filter q=KEY.")
            params: dict[str, Any] = {}
            for item in options["filters"]:
                name, equals, value = item.partition("=")
                if not equals or not name:
                    raise CommandError(f"--filter {item!r}: give NAME=VALUE.")
                params.setdefault(name, []).append(value)
            if options["as_of"]:
                params["as_of"] = options["as_of"]
            return params
        if kind == ExportKind.MODEL_PDF:
            if len(models) != 1:
                raise CommandError("model_pdf needs exactly one --model KEY.")
            return {"model": models[0]}
        if kind == ExportKind.EVIDENCE_PACK:
            if not models:
                raise CommandError("evidence_pack needs at least one --model KEY.")
            return {"models": models}
        if models:
            raise CommandError("--model does not apply to the portfolio report.")
        return {}

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {options['user']!r}.")
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise CommandError(f"No folder {output.parent} to write {output.name} into.")
        kind = options["kind"]
        try:
            export = export_request(actor=actor, kind=kind, params=self._params(kind, options), enqueue=False)
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in error.message_dict.items())
                if hasattr(error, "error_dict")
                else "; ".join(error.messages)
            ) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        export = export_execute(export_id=export.pk)
        if export.status != ExportStatus.DONE:
            raise CommandError(f"Export #{export.pk} failed: {export.error}")
        with export.file.open("rb") as source, output.open("wb") as target:
            shutil.copyfileobj(source, target)
        rows = f", {export.row_count} rows" if export.row_count is not None else ""
        self.stdout.write(f"Export #{export.pk}: {output} ({export.size} bytes{rows}, sha256 {export.sha256})")
