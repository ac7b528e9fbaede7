"""Query counts of every list and detail endpoint of the API: a page costs the same number of queries whatever
the number of rows (issue 9, item 5), and the inventory's list and detail stay within the issue's bounds.

The endpoints are found by walking the API router, so a new list or detail endpoint is either given a grower
here (a function that adds rows it lists) or named in ``NOT_GROWN`` with the reason; otherwise
``test_every_list_and_detail_endpoint_is_covered`` fails.

Each covered endpoint is read with ``N`` rows, then with ``3N``; the queries are counted with Django's
``CaptureQueriesContext``. Queries every request pays before the view runs (the session, the signed-in user, the
permission cache, the API token) are the *fixed overhead*: ``test_fixed_overhead_per_request`` measures it for a
session (``force_login``) and for a token, and the inventory's bounds are asserted on the queries of the view
itself (docs/performance.md, "After the inventory fixes").
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audits.choices import AuditKind, RunStatus
from audits.models import AuditRun, ComplianceStatus
from config.api_urls import router
from core import roles
from governance.choices import FindingSeverity, NotificationKind
from governance.services.findings import finding_raise
from governance.services.notifications import notify
from inventory.models import ExternalRegistryModel, ModelVersion, RegisteredModel
from inventory.services import model_dependency_create
from inventory.services.artifacts import artifact_ingest, deployment_report
from reports.choices import ExportKind
from reports.services import export_request
from tests.conftest import Personas, token_client
from tests.factories import (
    BusinessUnitFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    system_actor,
)

pytestmark = pytest.mark.django_db

N = 2
API = "/api/v1/"
_numbers = itertools.count(1)


@dataclass
class World:
    """The personas, and the reader whose lists are counted (a Risk Officer: sees every model)."""

    personas: Personas

    @property
    def reader(self) -> Any:
        return self.personas.risk_officer


def _model(world: World, **extra: Any) -> RegisteredModel:
    """A model with two tags and two validators, so a per-row query for either would show."""
    number = next(_numbers)
    return RegisteredModelFactory(
        name=f"Counted {number}",
        business_unit=world.personas.unit,
        business_owner=world.personas.owner_a,
        technical_owner=world.personas.owner_b,
        tags=[f"t{number}", "shared"],
        validators=[world.personas.validator_assigned, world.personas.validator_other],
        **extra,
    )


def _version(world: World, model: RegisteredModel | None = None) -> ModelVersion:
    model = model or _model(world)
    return ModelVersionFactory(model=model, version=f"1.{next(_numbers)}.0", actor=system_actor())


def _digest(number: int) -> str:
    return "sha256:" + f"{number:064x}"


# --- growers: each adds ``count`` rows that its endpoint lists for the reader ----------------------------------


def grow_models(world: World, count: int) -> None:
    for _ in range(count):
        _model(world)


def grow_units(world: World, count: int) -> None:
    for _ in range(count):
        number = next(_numbers)
        BusinessUnitFactory(code=f"CNT{number}", parent=world.personas.unit, head=world.personas.owner_a)


def grow_versions(world: World, count: int) -> None:
    for _ in range(count):
        _version(world)


def grow_dependencies(world: World, count: int) -> None:
    for _ in range(count):
        model_dependency_create(actor=system_actor(), upstream=_model(world), downstream=_model(world))


def grow_artifacts(world: World, count: int) -> None:
    for _ in range(count):
        number = next(_numbers)
        artifact_ingest(
            actor=system_actor(),
            version=_version(world),
            kind="model_file",
            data={"uri": f"s3://models/counted/{number}/model.pkl", "digest": _digest(number)},
        )


def grow_deployments(world: World, count: int) -> None:
    # One model each, so "what runs where" (latest per model and environment) grows too.
    for _ in range(count):
        deployment_report(
            actor=system_actor(), version=_version(world), environment="production", digest=_digest(next(_numbers))
        )


def grow_external_models(world: World, count: int) -> None:
    now = timezone.now()
    for _ in range(count):
        number = next(_numbers)
        ExternalRegistryModel.objects.create(
            tracking_uri="http://mlflow.example:5000",
            name=f"counted-{number}",
            tags={"team": "risk"},
            registered_model=_model(world),
            first_seen_at=now,
            last_seen_at=now,
        )


def grow_users(world: World, count: int) -> None:
    for _ in range(count):
        UserFactory(username=f"counted{next(_numbers)}", roles=[roles.MODEL_OWNER, roles.VALIDATOR])


def grow_findings(world: World, count: int) -> None:
    # Each finding is also a ledger event, so this grows the ledger too.
    for _ in range(count):
        finding_raise(
            actor=world.reader,
            model=_model(world),
            title=f"Counted finding {next(_numbers)}",
            severity=FindingSeverity.HIGH,
            due_date=timezone.localdate() + dt.timedelta(days=30),
            owner=world.personas.owner_a,
            evidence_links=["https://wiki.example/evidence"],
        )


def grow_notifications(world: World, count: int) -> None:
    for _ in range(count):
        notify(recipients=[world.reader], kind=NotificationKind.ACTION_REQUIRED, title=f"Counted {next(_numbers)}")


def grow_exports(world: World, count: int) -> None:
    for _ in range(count):
        export_request(actor=world.reader, kind=ExportKind.REGISTER_CSV, params={"tier": ["1"]}, enqueue=False)


def grow_compliance(world: World, count: int) -> None:
    """A finished sweep per call (the sweeps list grows) covering every model, ``count`` of them new."""
    for _ in range(count):
        _model(world)
    now = timezone.now()
    run = AuditRun.objects.create(
        kind=AuditKind.COMPLIANCE,
        status=RunStatus.PASSED,
        idempotency_key=f"query-counts-{next(_numbers)}",
        requested_at=now,
        finished_at=now,
    )
    for _ in range(count - 1):
        AuditRun.objects.create(
            kind=AuditKind.COMPLIANCE,
            status=RunStatus.PASSED,
            idempotency_key=f"query-counts-{next(_numbers)}",
            requested_at=now - dt.timedelta(days=1),
            finished_at=now - dt.timedelta(days=1),
        )
    for model in RegisteredModel.objects.all():
        ComplianceStatus.objects.create(run=run, model=model, status="compliant", rule_ids="", evaluated_at=now)


# Router basename -> grower. Detail endpoints are read for one row of the list after each growth.
GROWERS: dict[str, Callable[[World, int], None]] = {
    "registeredmodel": grow_models,
    "businessunit": grow_units,
    "modelversion": grow_versions,
    "modeldependency": grow_dependencies,
    "artifact": grow_artifacts,
    "deployment": grow_deployments,
    "runs-where": grow_deployments,
    "externalmodel": grow_external_models,
    "user": grow_users,
    "finding": grow_findings,
    "ledger": grow_findings,
    "notification": grow_notifications,
    "export": grow_exports,
    "compliancesweep": grow_compliance,
    "compliancestatus": grow_compliance,
}

# Endpoints without a grower yet, each with the reason. Adding an endpoint to the router without adding it to
# GROWERS or here fails test_every_list_and_detail_endpoint_is_covered.
NOT_GROWN: dict[str, str] = {
    "lineage": "detail only: a model's lineage chain, bounded by its own limits (tests/inventory/test_lineage.py)",
    "gatejwks": "the gate's public keys: a fixed handful, no database rows",
    "versionworkflow": "detail only: one version's workflow state and actions",
    "questionnaire": "no grower yet (questionnaire versions are few and published one at a time)",
    "riskassessment": "no grower yet (needs the questionnaire's answers per model)",
    "tieroverride": "no grower yet (needs an assessment per override)",
    "policypack": "fixed rows installed by migrations",
    "tierpolicy": "fixed rows installed by migrations (one per tier and pack)",
    "reviewqueue": "no grower yet (versions taken through submission per reviewer)",
    "evaluationdataset": "no grower yet (stored data files)",
    "auditrun": "no grower yet (bias audits need an evaluation dataset)",
    "schedule": "fixed rows installed after migrate (core/schedules.py)",
    "monitoringtarget": "no grower yet",
    "metricobservation": "no grower yet",
    "driftdataset": "no grower yet (stored data files)",
    "driftrun": "no grower yet",
    "gatedecision": "no grower yet (needs an approved version per decision; gate tests count its queries)",
    "driftschedule": "no grower yet (drift schedules are new: one per model)",
}


def _routes() -> dict[str, dict[str, str]]:
    """Router basename -> {"list": prefix, "retrieve": prefix} for the viewsets that list or retrieve."""
    routes: dict[str, dict[str, str]] = {}
    for prefix, viewset, basename in router.registry:
        actions = {name: prefix for name in ("list", "retrieve") if hasattr(viewset, name)}
        if actions:
            routes[basename] = actions
    return routes


def _lookup(basename: str) -> str:
    viewset = next(viewset for _, viewset, name in router.registry if name == basename)
    lookup = getattr(viewset, "lookup_field", "pk")
    return "id" if lookup == "pk" else lookup


# --- the fixed overhead -------------------------------------------------------------------------------------------

# What every request pays before a view runs: Django's session and user, the permission cache the gate
# (core/permissions.py) fills, and the API token's look-up and use record.
_OVERHEAD_TABLES = ("django_session", "auth_permission", "core_apitoken", "guardian_userobjectpermission")
_FIRST_TABLE = re.compile(r'^\s*\(?\s*(?:SELECT\b.*?\bFROM|UPDATE|INSERT INTO|DELETE FROM)\s+"(\w+)"', re.S)
_USER_BY_ID = re.compile(r'^SELECT .* FROM "core_user" WHERE "core_user"\."id" = \S+( LIMIT 21)?$', re.S)


def is_overhead(sql: str) -> bool:
    """Whether a query is part of the fixed per-request overhead rather than of the view's own work."""
    first = _FIRST_TABLE.match(sql)
    if first and first.group(1) in _OVERHEAD_TABLES:
        return True
    return bool(_USER_BY_ID.match(sql.strip()))


@dataclass
class Counted:
    status: int
    total: int
    own: int
    body: Any
    sql: list[str]


def count(client: APIClient, url: str) -> Counted:
    """Request ``url`` once to warm per-process caches (content types), then count the queries of a second call."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    sql = [query["sql"] for query in queries.captured_queries]
    own = [statement for statement in sql if not is_overhead(statement)]
    body = response.json() if response.get("Content-Type", "").startswith("application/json") else None
    return Counted(response.status_code, len(sql), len(own), body, sql)


def session_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user, backend="core.authentication.PersonModelBackend")
    return client


@pytest.fixture
def world(personas: Personas) -> World:
    return World(personas)


def test_every_list_and_detail_endpoint_is_covered() -> None:
    routes = set(_routes())
    covered = set(GROWERS) | set(NOT_GROWN)
    assert routes - covered == set(), "give these endpoints a grower in GROWERS (or a reason in NOT_GROWN)"
    assert covered - routes == set(), "these names are no longer routes: remove them"
    assert not set(GROWERS) & set(NOT_GROWN)


def test_fixed_overhead_per_request(world: World) -> None:
    """The queries a request pays before the view, measured on a model's detail (whose own work is one query),
    for a session and for a token. On 2026-11-27: session 3 (session, user, permissions), token 1 (the token
    with its user and their permissions); docs/performance.md lists them."""
    key = world.personas.model_a.key
    by_session = count(session_client(world.reader), f"{API}models/{key}/")
    by_token = count(token_client(world.reader), f"{API}models/{key}/")
    for measured in (by_session, by_token):
        assert measured.status == 200
        assert measured.own == 1, measured.sql
        # Session/user or token look-up, plus the permission cache: at most four before any view work.
        assert measured.total - measured.own <= 4, measured.sql


@pytest.mark.parametrize("basename", sorted(GROWERS))
def test_list_and_detail_queries_do_not_grow_with_the_rows(world: World, basename: str) -> None:
    routes = _routes()[basename]
    client = token_client(world.reader)
    grow = GROWERS[basename]
    measured: dict[str, list[Counted]] = {"list": [], "retrieve": []}
    for rows in (N, 2 * N):  # N rows, then 3N in all
        grow(world, rows)
        if "list" in routes:
            listed = count(client, f"{API}{routes['list']}/")
            assert listed.status == 200, listed.body
            results = listed.body["results"] if isinstance(listed.body, dict) else listed.body
            assert len(results) >= N, f"the grower added nothing {basename} lists"
            measured["list"].append(listed)
        if "retrieve" in routes and "list" in routes:
            lookup = results[0][_lookup(basename)]
            detail = count(client, f"{API}{routes['retrieve']}/{lookup}/")
            assert detail.status == 200, detail.body
            measured["retrieve"].append(detail)
    for action, pair in measured.items():
        if pair:
            small, large = pair
            assert large.total == small.total, (
                f"{basename} {action}: {small.total} queries with fewer rows, {large.total} with 3x the rows",
                large.sql,
            )


def test_inventory_list_and_detail_bounds(world: World) -> None:
    """The issue's bounds, on the view's own queries: the list at most 3 (filtered, tag, paged past the first
    page), the detail at most 4 in all with a session."""
    grow_models(world, 3 * N)
    client = token_client(world.reader)
    for query in ("", "?tier=1&stage=development", "?tag=shared", "?page_size=2&page=2", "?owner=owner_a"):
        listed = count(client, f"{API}models/{query}")
        assert listed.status == 200, listed.body
        assert listed.own <= 3, (query, listed.sql)
    detail = count(session_client(world.reader), f"{API}models/{world.personas.model_a.key}/")
    assert detail.own == 1, detail.sql
