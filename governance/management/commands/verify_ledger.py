"""``python manage.py verify_ledger``: recompute the governance ledger's hash chain and say whether it is intact."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.ledger import verify_ledger


class Command(BaseCommand):
    help = "Verify the hash chain of the governance ledger; exits 1 and names the first broken row if it is not intact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_ledger()
        if options["json"]:
            self.stdout.write(json.dumps(result.__dict__))
        elif result.intact:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Ledger intact: {result.checked} events, head #{result.head_seq} {result.head_hash}"
                )
            )
        if not result.intact:
            raise CommandError(f"Ledger broken at row #{result.first_broken_seq}: {result.problem}")
