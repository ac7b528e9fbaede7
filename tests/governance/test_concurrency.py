"""Two Risk Officers deciding the same version at the same moment: the row lock lets exactly one win."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from governance.models import ApprovalDecision
from governance.services import workflow
from inventory.choices import VersionState
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier
from tests.markers import postgresql_only


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_cannot_both_succeed(personas, second_risk_officer):
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)
    workflow.version_submit(actor=personas.owner_b, version=version)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(actor, approve):
        try:
            barrier.wait(timeout=10)
            workflow.version_decide(actor=actor, version=version, approve=approve, comment="decided")
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(f"refused: {error.messages[0]}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(personas.risk_officer, True)),
        threading.Thread(target=decide, args=(second_risk_officer, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcome.split(":")[0] for outcome in outcomes) == ["ok", "refused"]
    version.refresh_from_db()
    assert version.state in {VersionState.APPROVED, VersionState.REJECTED}
    assert ApprovalDecision.objects.filter(version=version, stage="risk_review").count() == 1
