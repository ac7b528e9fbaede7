"""What one gate decision costs the database: a fixed budget of queries whatever the inventory holds, one
permission read, the reads before the ledger's lock, and the token's use written at most once a minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.permissions import restrict
from core.services import api_token_issue
from gate.selectors import askable_model
from governance.ledger import verify_ledger
from governance.services.findings import finding_raise
from inventory.models import RegisteredModel
from inventory.services.artifacts import artifact_ingest, may_report
from tests.factories import ModelVersionFactory
from tests.gate.conftest import DIGEST

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/gate/check/"
# Token with its user and their permissions (1), the model with the right to ask (1), the version with its findings,
# bias verdict, tier policy, approved digests and evidence (1), then the ledger head (1) and the writes. On
# PostgreSQL the head's move, the event and the decision are one statement that commits on its own (1). On SQLite
# they are one each (3) in a transaction of their own, which the tests' transaction makes a SAVEPOINT and its RELEASE.
WRITES = {"postgresql": 1, "sqlite": 3 + 2}


def gate_queries() -> int:
    return 4 + WRITES[connection.vendor]


def _pipeline(personas: Any) -> APIClient:
    _, clear = api_token_issue(actor=personas.ci_scoped, user=personas.ci_scoped, name="jenkins")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    return client


def _ask(client: APIClient, digest: str = DIGEST) -> dict[str, Any]:
    response = client.post(
        CHECK, {"model": "RB-0001", "version": "1.0.0", "environment": "production", "digest": digest}, format="json"
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def _grow(personas: Any, version: Any, count: int) -> None:
    due = timezone.localdate() + dt.timedelta(days=30)
    for index in range(count):
        artifact_ingest(
            actor=personas.ci_scoped,
            version=version,
            kind="git_commit",
            data={"repository": "github.com/bank/pd", "sha": f"{index + 1000 * count:040x}"},
        )
        finding_raise(
            actor=personas.risk_officer, model=personas.model_a, title=f"F{count}-{index}", severity="low", due_date=due
        )
        ModelVersionFactory(model=personas.model_a, version=f"0.{count}.{index}", actor=personas.owner_a)


def test_a_decision_costs_a_fixed_number_of_queries_whatever_the_inventory_holds(
    personas: Any, approved_version: Any
) -> None:
    client = _pipeline(personas)
    _ask(client)
    with CaptureQueriesContext(connection) as small:
        assert _ask(client)["decision"] == "allow"
    _grow(personas, approved_version, 12)
    with CaptureQueriesContext(connection) as grown:
        assert _ask(client)["decision"] == "allow"
    assert len(small.captured_queries) == len(grown.captured_queries) == gate_queries()
    assert verify_ledger().intact


def test_the_right_to_ask_is_read_once(personas: Any, approved_version: Any) -> None:
    client = _pipeline(personas)
    _ask(client)
    with CaptureQueriesContext(connection) as queries:
        _ask(client)
    permission_reads = [q["sql"] for q in queries.captured_queries if "userobjectpermission" in q["sql"]]
    assert len(permission_reads) == 1
    assert sum("core_user_groups" in q["sql"] for q in queries.captured_queries) == 1  # roles and own, one UNION


def test_the_ledger_head_is_read_after_every_other_read(personas: Any, approved_version: Any) -> None:
    """Nothing but the writes that depend on the chain's position come after the head is read: on PostgreSQL one
    statement moves it (if it is still there) and inserts the event and the decision; on SQLite, which lets one
    writer at a time, the three writes follow in the decision's transaction."""
    client = _pipeline(personas)
    _ask(client)
    with CaptureQueriesContext(connection) as queries:
        _ask(client)
    statements = [q["sql"] for q in queries.captured_queries]
    head = next(index for index, sql in enumerate(statements) if 'FROM "governance_ledgerhead"' in sql)
    after = statements[head + 1 :]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" not in statements[head]
        (writes,) = after
        assert writes.startswith('WITH head AS (UPDATE "governance_ledgerhead" SET')
        assert '"seq" = ' in writes.split(")", 1)[0].split("WHERE", 1)[1]  # only if the head is where it was read
        assert 'event AS (INSERT INTO "governance_governanceevent"' in writes
        assert 'INSERT INTO "gate_gatedecision"' in writes
    else:
        assert [sql.split(" ", 3)[:3] for sql in after[:-1]] == [
            ["INSERT", "INTO", '"governance_governanceevent"'],
            ["UPDATE", '"governance_ledgerhead"', "SET"],
            ["INSERT", "INTO", '"gate_gatedecision"'],
        ]
        assert after[-1].startswith("RELEASE SAVEPOINT")


@pytest.mark.parametrize(
    "persona",
    [
        "ci_scoped",
        "ci_unscoped",
        "owner_a",
        "owner_b",
        "validator_assigned",
        "risk_officer",
        "auditor",
        "admin",
        "no_role",
    ],
)
def test_the_one_query_right_to_ask_agrees_with_may_report(personas: Any, persona: str) -> None:
    user = getattr(personas, persona)
    model, may_ask = askable_model(user=user, key=personas.model_a.key)
    visible = model is not None
    assert visible == restrict(user, "view", RegisteredModel.objects.filter(pk=personas.model_a.pk)).exists()
    assert may_ask == (visible and may_report(user, personas.model_a))


def test_a_pipeline_asking_many_times_writes_its_token_once_a_minute(personas: Any, approved_version: Any) -> None:
    client = _pipeline(personas)
    for attempt in range(3):
        with CaptureQueriesContext(connection) as queries:
            _ask(client)
        token_writes = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]]
        assert len(token_writes) == (1 if attempt == 0 else 0)
    token = ApiToken.objects.get(user=personas.ci_scoped, name="jenkins")
    assert token.use_count == 1 and token.last_used_at is not None


@pytest.mark.parametrize(
    "action", ["view", "change", "custom:report_registeredmodel", "custom:validate_registeredmodel"]
)
def test_may_row_answers_what_restrict_answers_for_every_persona_and_row(personas: Any, action: str) -> None:
    from core.permissions import may_row
    from inventory.models import ModelVersion
    from tests.factories import ModelVersionFactory

    ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)
    names = ["owner_a", "owner_b", "validator_assigned", "validator_other", "risk_officer", "auditor", "ci_scoped"]
    names += ["ci_unscoped", "admin", "no_role"]
    for name in names:
        user = getattr(personas, name)
        for model, rows in (
            (RegisteredModel, RegisteredModel.objects.all()),
            (ModelVersion, ModelVersion.objects.all()),
        ):
            if action.startswith("custom:") and model is ModelVersion:
                continue
            allowed = set(restrict(user, action, rows).values_list("pk", flat=True))
            annotated = rows.annotate(allowed=may_row(user, action, model)).values_list("pk", "allowed")
            assert {pk for pk, flag in annotated if flag} == allowed, (name, model.__name__, action)
