"""The permission matrix: every URL pattern of the project × every persona × every method it answers.

What each persona must get is written down in ``tests/permission_matrix_table.py``; this module only builds the
world the URLs need (one object of model A for every URL keyword), walks ``get_resolver()`` and compares. It runs
as one test that collects every disagreement into one report, because thousands of parametrized cases, each
building the world again, would take many minutes. See docs/permission-matrix.md.

Each request runs inside a savepoint that is rolled back afterwards, so an allowed write (an Admin deleting the
dependency) never changes what the next request sees. Before the rollback, a refused state-changing request is
checked to have written nothing: the row count of every table, the ledger included, must be what it was.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audits.scheduling import periodic_task_queryset
from audits.services import bias_audit_request, evaluation_dataset_create
from audits.sweep import compliance_sweep_request
from core import roles
from core.models import User
from core.services import api_token_issue
from gate.services import gate_check
from governance.models import GovernanceEvent, PolicyPack, TierPolicy
from governance.services.assessments import current_questionnaire, tier_override_request
from governance.services.findings import finding_raise
from inventory.choices import ExternalModelStatus
from inventory.models import ExternalRegistryModel
from inventory.services.artifacts import artifact_ingest, deployment_report
from inventory.services.registry import model_dependency_create
from inventory.services.saved_views import saved_view_create
from monitoring.services import (
    drift_audit_request,
    drift_dataset_create,
    drift_schedule_set,
    metric_batch_ingest,
    target_propose,
)
from reports.choices import ExportKind
from reports.services import export_execute, export_request
from tests.audits.conftest import GERMAN_MAPPING, GERMAN_PREDICTIONS, upload
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier
from tests.markers import sqlite_pass
from tests.permission_matrix_table import (
    ADMIN_LOGIN,
    DIGEST,
    EXCLUDED_PREFIXES,
    FORBIDDEN,
    HIDDEN,
    LOGIN,
    NO_SUCH_REFERENCE,
    NOT_ALLOWED,
    OK,
    PERSONAS,
    SERVICE_ACCOUNTS,
    TABLE,
    TELLTALES,
    Outcome,
    Row,
)

pytestmark = [pytest.mark.django_db, sqlite_pass]

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Tables a refused request may still write: the session of the client, and the use count of the API token that
# authenticated it.
WRITABLE_WHEN_REFUSED = {"django_session", "core_apitoken"}
ADMIN_ROLE_APPS = {*roles.PORTAL_APPS, "auth"}


# --- the world -------------------------------------------------------------------------------------------------


@dataclass
class World:
    """The personas, and one object of model A (or a global one) for every keyword a URL pattern takes."""

    users: dict[str, User | None]
    objects: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(personas: Any, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GATE_KEY_DIR = tmp_path / "keys"
    settings.GATE_SIGNING_KEY = None
    settings.GATE_PREVIOUS_PUBLIC_KEYS = None
    p = personas
    assessment = approve_tier(p.model_a, TIER_1_ANSWERS, p.owner_a, p.risk_officer)
    version = ModelVersionFactory(model=p.model_a, version="1.0.0", actor=p.owner_a, artifact_digest=DIGEST)
    artifact, _ = artifact_ingest(
        actor=p.ci_scoped,
        version=version,
        kind="model_file",
        data={"uri": "s3://models/rb-0001/1.0.0/model.pkl", "digest": DIGEST},
    )
    deployment, _ = deployment_report(actor=p.ci_scoped, version=version, environment="staging", digest=DIGEST)
    # Model A uses model B: only those who see both may see the dependency.
    dependency = model_dependency_create(
        actor=p.risk_officer, upstream=p.model_b, downstream=p.model_a, reason="Fraud score feeds the PD model."
    )
    finding = finding_raise(
        actor=p.risk_officer,
        model=p.model_a,
        title="Calibration drift on thin files",
        severity="high",
        due_date=timezone.localdate() + dt.timedelta(days=30),
    )
    override = tier_override_request(
        actor=p.owner_a, assessment=assessment, tier=2, justification="The materiality answer overstates it."
    )
    dataset = evaluation_dataset_create(
        actor=p.owner_a,
        version=version,
        name="German test split",
        mapping=GERMAN_MAPPING,
        upload=upload(GERMAN_PREDICTIONS.read_bytes()),
    )
    audit_run = bias_audit_request(actor=p.owner_a, dataset=dataset, enqueue=False)
    sweep = compliance_sweep_request(actor=p.risk_officer, enqueue=False)
    target = target_propose(actor=p.owner_a, model=p.model_a, values={"accuracy_min": 0.8}, reason="Model review")
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)
    metric_batch_ingest(
        actor=p.ci_scoped,
        observations=[
            {
                "model": p.model_a.key,
                "version": "1.0.0",
                "environment": "production",
                "metric": "accuracy",
                "window_start": start.isoformat(),
                "window_end": (start + dt.timedelta(days=1)).isoformat(),
                "value": 0.9,
            }
        ],
    )
    table = b"x,c\n1,a\n2,b\n3,a\n4,b\n"
    reference = drift_dataset_create(actor=p.owner_a, version=version, name="Reference", upload=upload(table))
    current = drift_dataset_create(
        actor=p.owner_a, version=version, name="Current", upload=upload(table.replace(b"4", b"5"))
    )
    drift_run = drift_audit_request(
        actor=p.owner_a, reference=reference, current=current, features=["x"], enqueue=False
    )
    drift_schedule = drift_schedule_set(actor=p.owner_a, reference=reference, features=["x"])
    decision = gate_check(
        actor=p.ci_scoped, model_key=p.model_a.key, version_label="1.0.0", environment="production", digest=DIGEST
    )
    export = export_execute(export_id=export_request(actor=p.owner_a, kind=ExportKind.REGISTER_CSV, enqueue=False).pk)
    saved_view = saved_view_create(actor=p.owner_a, name="My Tier 1 models", query="tier=1", columns=["key", "name"])
    now = timezone.now()
    external = ExternalRegistryModel.objects.create(
        tracking_uri="http://mlflow.bank.example",
        name="fraud-gbm",
        status=ExternalModelStatus.UNREGISTERED,
        first_seen_at=now,
        last_seen_at=now,
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "owner_a": p.owner_a,
        "owner_b": p.owner_b,
        "validator_a": p.validator_assigned,
        "validator_other": p.validator_other,
        "risk_officer": p.risk_officer,
        "auditor": p.auditor,
        "ci_a": p.ci_scoped,
        "ci_other": p.ci_unscoped,
        "admin": p.admin,
        "no_role": p.no_role,
    }
    return World(
        users=users,
        objects={
            "model_a": p.model_a,
            "unit": p.unit,
            "version": version,
            "artifact": artifact,
            "deployment": deployment,
            "dependency": dependency,
            "finding": finding,
            "assessment": assessment,
            "override": override,
            "dataset": dataset,
            "audit_run": audit_run,
            "sweep": sweep,
            "target": target,
            "metric": version.metric_observations.first(),
            "drift_dataset": reference,
            "drift_run": drift_run,
            "drift_schedule": drift_schedule,
            "decision": decision,
            "export": export,
            "saved_view": saved_view,
            "external": external,
            "questionnaire": current_questionnaire(),
            "tier_policy": TierPolicy.objects.order_by("pk").first(),
            "policy_pack": PolicyPack.objects.order_by("pk").first(),
            "ledger_event": GovernanceEvent.objects.filter(model=p.model_a).order_by("-seq").first(),
            "schedule": periodic_task_queryset(user=p.risk_officer).first(),
            "person": p.owner_a,
        },
    )


# --- the URL patterns ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """One routed URL pattern: its name (namespaced), its route, its view, and whether it is an API pattern."""

    name: str
    route: str
    callback: Callable[..., Any]
    keywords: frozenset[str]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_format_suffix(self) -> bool:
        return "format" in self.keywords


def url_patterns(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    """Every pattern of the project; Django's admin site is one pattern named ``admin``."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                yield Pattern("admin", route, admin.site.index, frozenset())
                continue
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from url_patterns(entry.url_patterns, route, inner or "")
        elif isinstance(entry, URLPattern):
            assert entry.name, f"the pattern {route!r} has no name: the matrix needs one"
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Pattern(name, route, entry.callback, frozenset(entry.pattern.regex.groupindex))


def accepted_methods(callback: Callable[..., Any]) -> set[str] | None:
    """The methods a view answers (HEAD and OPTIONS aside), or None when it does not say."""
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return {
            method.upper()
            for method in view_class.http_method_names
            if method not in {"head", "options"} and hasattr(view_class, method)
        }
    function: Any = callback
    while function is not None:
        # require_http_methods(["GET", "POST"]) (and require_POST, require_safe) keep their list in a closure.
        for cell in inspect.getclosurevars(function).nonlocals.values():
            if isinstance(cell, list | tuple) and cell and all(isinstance(m, str) and m.isupper() for m in cell):
                return set(cell) - {"HEAD", "OPTIONS"}
        function = getattr(function, "__wrapped__", None)
    return None


KEYWORD_ATTRIBUTE = {
    "key": "key",
    "code": "code",
    "pk": "pk",
    "version": "version",
    "version_id": "pk",
    "seq": "seq",
    "username": "username",
}


def url_of(pattern: Pattern, row: Row, world: World) -> str:
    """The pattern's URL with its keywords filled from the row's object (and step), ``.json`` for a suffix."""
    kwargs: dict[str, Any] = {}
    for keyword in pattern.keywords:
        if keyword == "format":
            kwargs[keyword] = "json"
        elif keyword == "step":
            assert row.step, f"{pattern.name}: the row needs step="
            kwargs[keyword] = row.step
        else:
            assert row.obj, f"{pattern.name}: the row needs the object that fills <{keyword}>"
            kwargs[keyword] = getattr(world.objects[row.obj], KEYWORD_ATTRIBUTE[keyword])
    return reverse(pattern.name, kwargs=kwargs)


# --- the requests ----------------------------------------------------------------------------------------------


def clients(world: World) -> dict[tuple[str, bool], Client]:
    """A client per (persona, API or page): people sign in with a session on pages and a token on the API; service
    accounts send their token to both (pages ignore it); anonymous sends nothing."""
    made: dict[tuple[str, bool], Client] = {}
    for persona in PERSONAS:
        user = world.users[persona]
        token = None
        if user is not None:
            _, token = api_token_issue(actor=user, user=user, name="matrix")
        api = APIClient(raise_request_exception=False)
        page = Client(raise_request_exception=False)
        if user is not None and token is not None:
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            if persona in SERVICE_ACCOUNTS:
                page.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
            else:
                page.force_login(user)
        made[persona, True] = api
        made[persona, False] = page
    return made


def row_counts() -> list[int]:
    """The number of rows in every table (one query), to prove a refused request wrote nothing."""
    quote = connection.ops.quote_name
    tables = sorted(set(connection.introspection.table_names()) - WRITABLE_WHEN_REFUSED)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables))
        return list(cursor.fetchone())


def body_of(response: HttpResponse) -> str:
    streaming = getattr(response, "streaming", False)
    content = b"".join(response.streaming_content) if streaming else response.content  # type: ignore[attr-defined]
    return content.decode(errors="replace")


def verdict(expected: str, response: HttpResponse, is_api: bool) -> str | None:
    """None when ``response`` is what ``expected`` means, else what is wrong."""
    status = response.status_code
    location = response.get("Location", "")
    # login_required sends to the sign-in page with ?next=; signing out lands there too, without one.
    to_login = status == 302 and location.startswith(resolve_url(settings.LOGIN_URL)) and "next=" in location
    if status >= 500:
        return f"server error {status}"
    if expected == OK:
        if status in {401, 403, 404, 405} or to_login:
            return f"refused with {status} {location}".strip()
        return None
    if expected == LOGIN:
        if is_api:
            return None if status == 401 else f"{status}, expected 401"
        return None if to_login else f"{status} {location}, expected a redirect to sign in".strip()
    if expected == ADMIN_LOGIN:
        ok = status == 302 and location.startswith(reverse("admin:login"))
        return None if ok else f"{status} {location}, expected the admin sign-in page"
    if expected == NO_SUCH_REFERENCE:
        ok = status == 400 and "does not exist" in body_of(response)
        return None if ok else f"{status}, expected 400 saying the object does not exist"
    wanted = {FORBIDDEN: 403, HIDDEN: 404, NOT_ALLOWED: 405}[expected]
    return None if status == wanted else f"{status}, expected {wanted}"


def expectation(outcome: Outcome, persona: str, pattern: Pattern) -> str:
    """What the row says, with the rule every page shares: a service account cannot sign in to a page, so it gets
    what an anonymous visitor gets."""
    if persona in SERVICE_ACCOUNTS and not pattern.is_api:
        return outcome.expect("anonymous")
    return outcome.expect(persona)


def send(client: Client, method: str, url: str, is_api: bool, body: Any) -> Any:
    """One request; state-changing ones carry the row's body (JSON for the API, a form for a page) or none."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)  # signing out on the logout row must not sign the persona out for good
    try:
        if method == "GET":
            return client.get(url)
        call = getattr(client, method.lower())
        if is_api:
            return call(url, dict(body or {}), format="json")
        return call(url, dict(body or {}))
    finally:
        client.cookies = cookies


def leaks(persona: str, body: str) -> list[str]:
    """Telltales of models the persona may not see found in a response body."""
    return [text for seers, texts in TELLTALES.items() if persona not in seers for text in texts if text in body]


def check(
    made: dict[tuple[str, bool], Client],
    pattern: Pattern,
    row: Row,
    url: str,
    personas: tuple[str, ...],
    problems: list[str],
) -> int:
    """Send every method of the row as each persona; add what disagrees with the table to ``problems``."""
    checked = 0
    for method, outcome in row.methods.items():
        for persona in personas:
            expected = expectation(outcome, persona, pattern)
            with transaction.atomic():
                before = row_counts() if expected != OK and method in UNSAFE else None
                response = send(made[persona, pattern.is_api], method, url, pattern.is_api, row.body)
                wrong = verdict(expected, response, pattern.is_api)
                if before is not None and row_counts() != before:
                    wrong = (wrong + "; " if wrong else "") + "wrote to the database although refused"
                transaction.set_rollback(True)
            checked += 1
            label = f"{pattern.name} [{outcome.name}] {persona} {method} {url}"
            if wrong:
                problems.append(f"{label}: {wrong}")
            elif method == "GET" and response.status_code == 200 and not row.documentation:
                found = leaks(persona, body_of(response))
                if found:
                    problems.append(f"{label}: shows {found}")
    return checked


def sample_personas(row: Row, pattern: Pattern) -> tuple[str, ...]:
    """Anonymous, a user without roles, and per method one persona the row allows and one it refuses."""
    chosen = {"anonymous", "no_role"}
    for outcome in row.methods.values():
        answers = {persona: expectation(outcome, persona, pattern) for persona in PERSONAS}
        chosen |= {next((p for p, a in answers.items() if a == OK), "anonymous")}
        chosen |= {next((p for p, a in answers.items() if a not in {OK, LOGIN}), "anonymous")}
    return tuple(persona for persona in PERSONAS if persona in chosen)


def admin_urls() -> list[tuple[str, Row]]:
    """The admin site's index and the changelist of every model registered with it, each with its row.

    The Admin role holds the permissions of the portal's apps and of ``auth``; the beat schedules registered by
    django-celery-beat are not among them (Risk Officers change schedules through the portal's schedule pages, whose
    services write the ledger), so an Admin gets the admin site's 403 there.
    """
    row = TABLE["admin"]
    outside = Row(methods={m: o.but(admin=FORBIDDEN) for m, o in row.methods.items()})
    urls = [(reverse("admin:index"), row)]
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        urls.append((url, row if model._meta.app_label in ADMIN_ROLE_APPS else outside))
    return urls


def test_every_url_pattern_answers_every_persona_as_the_table_says(world: World) -> None:
    made = clients(world)
    problems: list[str] = []
    patterns = list(url_patterns())
    names = {pattern.name for pattern in patterns}
    problems += [f"{name}: no row in tests/permission_matrix_table.py" for name in sorted(names - set(TABLE))]
    problems += [f"{name}: a row for a pattern that does not exist" for name in sorted(set(TABLE) - names)]
    checked = 0
    for pattern in patterns:
        assert not pattern.route.startswith(tuple(EXCLUDED_PREFIXES)), pattern.route
        row = TABLE.get(pattern.name)
        if row is None:
            continue
        accepted = accepted_methods(pattern.callback)
        if accepted is not None and pattern.name != "admin" and accepted != set(row.methods):
            problems.append(f"{pattern.name}: the view answers {sorted(accepted)}, the row lists {sorted(row.methods)}")
            continue
        if pattern.name == "admin":
            for url, admin_row in admin_urls():
                checked += check(made, pattern, admin_row, url, PERSONAS, problems)
            continue
        # A .json twin runs the same view; the schema and its docs are static text, the same for everyone and
        # slow to build: both are asked by a sample of the personas.
        sampled = pattern.is_format_suffix or row.documentation
        personas = sample_personas(row, pattern) if sampled else PERSONAS
        checked += check(made, pattern, row, url_of(pattern, row, world), personas, problems)
    assert not problems, f"{len(problems)} of {checked} checks disagree with the table:\n" + "\n".join(problems)
