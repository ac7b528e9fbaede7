"""``manage.py seed_demo``: fill the portal with the Northwind Bank demo inventory.

Creates the bank's business units, people (one demo login per role), some 175 models with versions and
dependencies, and trains the German Credit model; then records their governance through the governance
services: risk assessments (the tiers come from them), version approvals, findings and the ledger. Idempotent:
what already exists is left alone and a second run says it changed nothing. The demo logins share a published
password, so the command refuses to run unless ``DEBUG`` is on or ``--allow-production`` is given.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demo.organisation import BANK_NAME, DEMO_LOGINS, PEOPLE, PIPELINE_ACCOUNT
from demo.plan import DEFAULT_SEED
from demo.seed import DEMO_PASSWORD, SeedSummary, seed_demo
from demo.seed_audits import seed_audits
from demo.seed_governance import GovernanceSummary
from demo.seed_lineage import seed_lineage

# Models left out of the governance story that are listed one by one; the rest are counted.
CONFLICTS_SHOWN = 5


class Command(BaseCommand):
    """Seed the demo inventory and print a summary with the demo logins."""

    help = "Create the Northwind Bank demo inventory (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even though DEBUG is off. The demo logins share a published password: never on a real site.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Seed of the random choices (stages, validators, dates, metrics); default {DEFAULT_SEED}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with a published demo password, so it runs only with DEBUG on. "
                "Pass --allow-production to seed a non-debug site anyway (never one with real users)."
            )
        started = time.monotonic()
        try:
            summary = seed_demo(
                var_dir=settings.VAR_DIR,
                data_dir=settings.BASE_DIR / "demo" / "data",
                today=timezone.localdate(),
                seed=options["seed"],
            )
            if summary.german_credit is not None:
                audits = seed_audits(predictions_path=summary.german_credit.predictions_path)
                self.stdout.write(
                    f"Audits: {audits.datasets} evaluation dataset(s), {audits.runs} bias audit(s) queued for the "
                    "worker."
                )
            lineage = seed_lineage()
            if lineage.changed:
                self.stdout.write(
                    f"Lineage: {lineage.artifacts} artifacts, {lineage.deployments} deployments and "
                    f"{lineage.gate_decisions} gate decision(s) reported through the API services."
                )
            for note in lineage.notes:
                self.stdout.write(f"  {note}")
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(f"The demo inventory could not be created, nothing was written: {exc}") from exc
        self._report(summary, time.monotonic() - started)

    def _report(self, summary: SeedSummary, seconds: float) -> None:
        out = self.stdout
        if summary.changed:
            out.write(self.style.SUCCESS(f"{BANK_NAME} demo inventory"))
            rows = (
                ("business units", summary.units_created, summary.units_existing),
                ("people", summary.people_created, summary.people_existing),
                ("models", summary.models_created, summary.models_existing),
            )
            for label, created, existing in rows:
                out.write(f"  {label:<15}{created:>5} created, {existing} already present")
            out.write(f"  {'versions':<15}{summary.versions_created:>5} created")
            out.write(f"  {'dependencies':<15}{summary.dependencies_created:>5} created")
            self._report_governance(summary.governance)
        else:
            out.write(
                self.style.SUCCESS(
                    f"Nothing changed: the {BANK_NAME} demo inventory is already in place "
                    f"({summary.units_existing} business units, {summary.people_existing} people, "
                    f"{summary.models_existing} models)."
                )
            )
        for conflict in summary.conflicts:
            out.write(self.style.WARNING(f"  {conflict}"))
        self._report_governance_conflicts(summary.governance.conflicts)
        self._report_german_credit(summary)
        self._report_logins(summary)
        out.write(f"Done in {seconds:.1f} s.")

    def _report_governance(self, governance: GovernanceSummary) -> None:
        out = self.stdout
        out.write(
            f"  {'governance':<15}{governance.models_told:>5} models recorded, "
            f"{governance.models_governed_already} already had governance records"
        )
        rows = (
            ("assessments", governance.assessments),
            ("tier overrides", governance.overrides),
            ("transitions", governance.transitions),
            ("findings", governance.findings),
            ("ledger events", governance.ledger_events),
            ("CI report scopes", governance.reporting_grants),
        )
        for label, created in rows:
            out.write(f"    {label:<17}{created:>5} created")

    def _report_governance_conflicts(self, conflicts: list[str]) -> None:
        for conflict in conflicts[:CONFLICTS_SHOWN]:
            self.stdout.write(self.style.WARNING(f"  {conflict}"))
        if len(conflicts) > CONFLICTS_SHOWN:
            # Many at once means the database was seeded by another version of the demo, not edited by hand.
            self.stdout.write(
                self.style.WARNING(
                    f"  ... and {len(conflicts) - CONFLICTS_SHOWN} more models whose governance story was left out. "
                    "The database was probably seeded by an older demo: seed an empty database for the full story."
                )
            )

    def _report_german_credit(self, summary: SeedSummary) -> None:
        outcome = summary.german_credit
        if outcome is None:
            return
        figures = ", ".join(
            f"{name} {outcome.metrics[name]:.4f}" for name in ("accuracy", "auc") if name in outcome.metrics
        )
        notes = {
            "trained": "trained and registered",
            "present": "in place",
            "restored": "files restored",
            "mismatch": "files restored, but the retrained artifact's digest differs from the registered one",
        }
        line = f"German Credit model {outcome.key} v{outcome.version} ({notes[outcome.status]}): {figures}"
        self.stdout.write(self.style.WARNING(line) if outcome.status == "mismatch" else line)
        self.stdout.write(f"  model file   {outcome.model_path}  sha256:{outcome.digest}")
        self.stdout.write(f"  predictions  {outcome.predictions_path}")

    def _report_logins(self, summary: SeedSummary) -> None:
        people = {person.username: person for person in PEOPLE}
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}; the service account has none):")
        for username in DEMO_LOGINS:
            person = people[username]
            who = f"{person.first_name} {person.last_name}, {person.title}"
            self.stdout.write(f"  {person.role:<13} {username:<13} {who}")
        if summary.api_token:
            self.stdout.write(
                self.style.WARNING(f"API token for {PIPELINE_ACCOUNT} (shown only this once): {summary.api_token}")
            )
        else:
            self.stdout.write(
                f"{PIPELINE_ACCOUNT} signs in with API tokens only; its first token was shown when it was created. "
                f"Issue another with: manage.py create_api_token {PIPELINE_ACCOUNT} --name <purpose>"
            )
