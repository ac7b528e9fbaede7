"""``manage.py verify_evidence_pack PATH [--against-ledger]``: check an evidence pack against its manifest.

Every file listed must be present with the recorded size and SHA-256, and no file may be present that the
manifest does not list; each problem is printed with the file it concerns and the command exits non-zero.
``--against-ledger`` also checks that the ledger head the pack names is still an entry of this portal's ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.evidence import evidence_pack_verify, ledger_head_problem


class Command(BaseCommand):
    """Verify an evidence pack ZIP: hashes, sizes, missing and extra files, optionally the ledger head."""

    help = "Verify an evidence pack: every file against the manifest's SHA-256 and size, nothing missing or extra."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The evidence pack (.zip) to verify.")
        parser.add_argument(
            "--against-ledger",
            action="store_true",
            help="Also check that the ledger head named in the manifest is an entry of this portal's live ledger.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        result = evidence_pack_verify(path)
        problems = list(result.problems)
        if result.manifest is not None and options["against_ledger"]:
            ledger = ledger_head_problem(result.manifest)
            if ledger is not None:
                problems.append(f"ledger: {ledger}")
        for problem in problems:
            self.stderr.write(f"FAIL {problem}")
        if problems:
            raise CommandError(
                f"{path}: verification failed ({len(problems)} problem{'s' if len(problems) > 1 else ''})"
            )
        assert result.manifest is not None
        head = result.manifest["ledger_head"]
        self.stdout.write(
            f"OK {path}: {result.checked} files match the manifest; generated {result.manifest.get('generated_at')} "
            f"by {result.manifest.get('generated_by', {}).get('username', '?')}; ledger head #{head['seq']} "
            f"{head['hash']}" + (" (present in the live ledger)" if options["against_ledger"] else "")
        )
