"""What every installation starts with: the ledger's genesis head, questionnaire v1 and the two rule packs.

Installed by a data migration, and again (idempotently) after every ``migrate`` or ``flush``, so an emptied
database still has a ledger to append to and a questionnaire to answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.utils import timezone

DATA = Path(__file__).resolve().parent / "data"
RULE_PACKS = ("rule_pack_sr_11_7.json", "rule_pack_sr_26_2.json")
DEFAULT_PACK = "sr-11-7"
GENESIS_HASH = "0" * 64


def install_defaults(models: Any, using: str = "default") -> None:
    """Create what is missing; never change what exists. ``models`` gives the model classes by name (real ones,
    or a migration's historical ones)."""
    models.LedgerHead.objects.using(using).get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    if not models.Questionnaire.objects.using(using).exists():
        definition = json.loads((DATA / "questionnaire_v1.json").read_text(encoding="utf-8"))
        models.Questionnaire.objects.using(using).create(
            version=1,
            title=definition["title"],
            definition=definition,
            status="published",
            published_at=timezone.now(),
            notes="Installed with the portal.",
        )
    any_active = models.PolicyPack.objects.using(using).filter(is_active=True).exists()
    for file_name in RULE_PACKS:
        data = json.loads((DATA / file_name).read_text(encoding="utf-8"))
        pack, _ = models.PolicyPack.objects.using(using).get_or_create(
            code=data["code"],
            defaults={
                "name": data["name"],
                "description": data["description"],
                "is_active": not any_active and data["code"] == DEFAULT_PACK,
            },
        )
        for tier in data["tiers"]:
            policy, created = models.TierPolicy.objects.using(using).get_or_create(
                pack=pack, tier=tier["tier"], defaults={key: value for key, value in tier.items() if key != "tier"}
            )
            if created:
                _record_installed(models, policy, using)


def _record_installed(models: Any, policy: Any, using: str) -> None:
    """The policy's first field-history record, so later edits show what they changed from."""
    history = models.HistoricalTierPolicy.objects.using(using)
    if history.filter(id=policy.pk).exists():
        return  # the live model's own history signal already wrote it
    history.create(
        **{field.attname: getattr(policy, field.attname) for field in policy._meta.concrete_fields},
        history_date=timezone.now(),
        history_type="+",
        history_change_reason="Installed with the portal",
    )


class _RealModels:
    def __getattr__(self, name: str) -> Any:
        from django.apps import apps

        return apps.get_model("governance", name)


def install_defaults_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate hook (also sent after ``flush``)."""
    if sender.name == "governance":
        install_defaults(_RealModels(), using)
