"""``manage.py seed_demo``: the Northwind Bank demo inventory, its logins, its German Credit model, and that a
second run changes nothing.

The command runs once per module inside a transaction that is rolled back when the module is done; each test
runs in a savepoint within it, so tests that run the command again leave the seeded state for the next one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Q
from django.test import override_settings
from django.utils import timezone

from core import roles
from core.models import ApiToken, User
from core.permissions import restrict
from inventory import services
from inventory.choices import LifecycleStage, ModelType
from inventory.demo import catalogue, plan
from inventory.demo.german_credit import file_sha256
from inventory.demo.organisation import DEMO_LOGINS, PEOPLE, UNITS
from inventory.demo.seed import DEMO_PASSWORD, IMPORT_REASON, INITIAL_TIERING_REASON
from inventory.models import (
    BusinessUnit,
    ModelDependency,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Tag,
)
from inventory.validators import DIGEST_PATTERN

pytestmark = pytest.mark.django_db
DEMO_USERNAMES = [person.username for person in PEOPLE]


@dataclass
class Seeded:
    """The module's seeded database: where the command wrote its files and what it printed."""

    var_dir: Path
    output: str


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Run the command once for the module, with its files in a temporary VAR_DIR."""
    var_dir = tmp_path_factory.mktemp("var")
    output = StringIO()
    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, VAR_DIR=var_dir, PASSWORD_HASHERS=fast_hashing),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=output)
        yield Seeded(var_dir=var_dir, output=output.getvalue())
        transaction.set_rollback(True)


def demo_plan() -> plan.DemoPlan:
    """The plan the command followed today."""
    return plan.build_plan(today=timezone.localdate())


def key_of(slug: str) -> str:
    """The key the demo gave the model with this catalogue slug."""
    return next(model.key for model in demo_plan().models if model.slug == slug)


def snapshot() -> dict[str, int]:
    """Row counts of everything the command writes, field history included."""
    return {
        "units": BusinessUnit.objects.count(),
        "unit history": BusinessUnit.history.count(),
        "users": User.objects.count(),
        "user history": User.history.count(),
        "models": RegisteredModel.objects.count(),
        "model history": RegisteredModel.history.count(),
        "versions": ModelVersion.objects.count(),
        "version history": ModelVersion.history.count(),
        "dependencies": ModelDependency.objects.count(),
        "dependency history": ModelDependency.history.count(),
        "object permissions": RegisteredModelUserObjectPermission.objects.count(),
        "tags": Tag.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


# --- the command's guard -------------------------------------------------------------------------------------


def test_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    before = snapshot()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before


def test_allow_production_runs_with_debug_off(seeded, settings):
    settings.DEBUG = False
    output = StringIO()
    call_command("seed_demo", "--allow-production", stdout=output)
    assert "Nothing changed" in output.getvalue()


# --- the bank ------------------------------------------------------------------------------------------------


def test_business_units_form_a_hierarchy_with_key_prefixes(seeded):
    units = list(BusinessUnit.objects.filter(code__in=[unit.code for unit in UNITS]))
    assert len(units) >= 6
    roots = [unit for unit in units if unit.parent_id is None]
    assert [root.code for root in roots] == ["NWB"]
    assert all(unit.path.startswith("NWB/") and unit.key_prefix for unit in units)
    assert max(unit.depth for unit in units) >= 2
    cards = BusinessUnit.objects.select_related("parent", "head").get(code="RETAIL-CARDS")
    assert cards.parent is not None and cards.head is not None
    assert (cards.parent.code, cards.path, cards.head.username) == (
        "RETAIL",
        "NWB/RETAIL/RETAIL-CARDS/",
        "sofia.marchetti",
    )


def test_people_cover_every_role_with_titles_and_units(seeded):
    people = User.objects.filter(username__in=DEMO_USERNAMES).select_related("business_unit")
    assert people.count() >= 25
    assert all(person.title and person.business_unit and person.get_full_name() for person in people)
    for role in roles.ALL_ROLES:
        assert Group.objects.get(name=role).user_set.filter(username__in=DEMO_USERNAMES).exists(), role
    service_accounts = set(people.filter(is_service_account=True).values_list("username", flat=True))
    ci_members = set(Group.objects.get(name=roles.CI_SERVICE).user_set.values_list("username", flat=True))
    assert service_accounts == ci_members >= {"ci-jenkins"}


def test_demo_logins_sign_in_with_the_printed_password(seeded):
    assert f"password: {DEMO_PASSWORD}" in seeded.output
    for username in DEMO_LOGINS:
        assert username in seeded.output
        person = User.objects.get(username=username)
        if person.is_service_account:
            assert not person.has_usable_password()
            assert authenticate(username=username, password=DEMO_PASSWORD) is None
        else:
            assert authenticate(username=username, password=DEMO_PASSWORD) == person
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.get(username="victoria.hale").has_usable_password()


def test_the_service_account_token_is_printed_once_and_valid(seeded):
    match = re.search(r"API token for ci-jenkins \(shown only this once\): (\S+)", seeded.output)
    assert match
    clear = match.group(1)
    lookup = clear.split("_")[1]
    token = ApiToken.objects.get(lookup=lookup)
    assert token.user.username == "ci-jenkins"
    assert token.digest == ApiToken.hash_secret(clear) and token.is_usable


# --- the inventory -------------------------------------------------------------------------------------------


def test_models_of_every_type_and_stage_with_versions(seeded):
    models = RegisteredModel.objects.all()
    assert models.count() >= 150
    assert set(models.values_list("model_type", flat=True)) == set(ModelType.values)
    stages = list(models.values_list("lifecycle_stage", flat=True))
    assert set(stages) == set(LifecycleStage.values)
    assert stages.count(LifecycleStage.PRODUCTION) > len(stages) / 2
    assert not models.filter(model_type=ModelType.VENDOR, vendor_name="").exists()
    for model in models.prefetch_related("versions"):
        versions = list(model.versions.all())
        assert 1 <= len(versions) <= 4, model.key
        for version in versions:
            assert re.match(DIGEST_PATTERN, version.artifact_digest) and version.training_data_ref, version
    assert ModelVersion.objects.filter(version="2.0.0").exists()


def test_validation_dates_tiers_and_eu_ai_act_categories_are_plausible(seeded):
    today = timezone.localdate()
    production = RegisteredModel.objects.filter(lifecycle_stage=LifecycleStage.PRODUCTION)
    assert production.filter(next_validation_due__lt=today).exists(), "some revalidations are overdue"
    assert production.filter(next_validation_due__gte=today).count() > production.count() / 2
    assert not production.filter(Q(last_validated_on=None) | Q(risk_tier=None)).exists()
    proposed = RegisteredModel.objects.filter(lifecycle_stage=LifecycleStage.PROPOSED)
    assert proposed.exists() and not proposed.exclude(risk_tier=None, eu_ai_act_category="").exists()
    assessed = RegisteredModel.objects.exclude(lifecycle_stage=LifecycleStage.PROPOSED)

    def categories(tag: str) -> set[str]:
        return set(assessed.filter(tags__name=tag).values_list("eu_ai_act_category", flat=True))

    # Credit decisions about natural persons and recruitment are Annex III high-risk; chatbots carry Art. 50 duties.
    assert categories("application-scorecard") == {"high_risk"}
    assert categories("recruitment") == {"high_risk"}
    assert categories("chatbot") == {"limited"}
    assert categories("fraud") == {"minimal"}
    assert set(assessed.values_list("risk_tier", flat=True)) == {1, 2, 3}


def test_tiering_is_recorded_as_its_own_history_entry(seeded):
    model = RegisteredModel.objects.get(key=key_of("pd-app-personal-loans"))
    records = list(model.history.order_by("history_id"))
    assert [record.history_type for record in records] == ["+", "~"]
    registered, tiered = records
    assert (registered.risk_tier, registered.eu_ai_act_category) == (None, "")
    assert registered.history_change_reason == IMPORT_REASON
    assert (tiered.risk_tier, tiered.eu_ai_act_category) == (1, "high_risk")
    assert tiered.history_change_reason == INITIAL_TIERING_REASON
    assert tiered.history_user.username == "risk.officer"


def test_validators_are_assigned_and_never_own_what_they_validate(seeded):
    for model in RegisteredModel.objects.prefetch_related("validators"):
        validator_ids = {validator.pk for validator in model.validators.all()}
        assert not validator_ids & {model.business_owner_id, model.technical_owner_id}, model.key
        assert bool(validator_ids) == (model.lifecycle_stage != LifecycleStage.PROPOSED), model.key


def test_dependencies_trace_credit_and_financial_crime_chains_without_cycles(seeded):
    edges = set(ModelDependency.objects.values_list("upstream__key", "downstream__key"))
    assert len(edges) >= 100
    bureau, pd_model = key_of("vendor-bureau-consumer"), key_of("pd-app-personal-loans")
    assert (bureau, pd_model) in edges
    assert (pd_model, key_of("retail-credit-rules")) in edges
    assert (key_of("pd-beh-personal-loans"), key_of("ifrs9-pd-retail-unsecured")) in edges
    assert (key_of("ifrs9-sicr"), key_of("ifrs9-ecl-engine")) in edges
    assert (key_of("sanctions-name-screening"), key_of("aml-alert-scoring")) in edges
    assert (key_of("llm-gateway"), key_of("llm-complaints-summariser")) in edges

    keys = {key for edge in edges for key in edge}
    waiting = {key: sum(1 for _up, down in edges if down == key) for key in keys}
    ready = [key for key, count in waiting.items() if count == 0]
    sorted_keys = []
    while ready:
        key = ready.pop()
        sorted_keys.append(key)
        for upstream, downstream in edges:
            if upstream == key:
                waiting[downstream] -= 1
                if waiting[downstream] == 0:
                    ready.append(downstream)
    assert len(sorted_keys) == len(keys), "the dependency graph has a cycle"


def test_model_owner_sees_and_changes_only_their_models(seeded):
    owner = User.objects.get(username="model.owner")
    owned = set(RegisteredModel.objects.filter(Q(business_owner=owner) | Q(technical_owner=owner)))
    assert 3 <= len(owned) < RegisteredModel.objects.count()
    assert set(restrict(owner, "view", RegisteredModel.objects.all())) == owned
    assert set(restrict(owner, "change", RegisteredModel.objects.all())) == owned


def test_validator_sees_the_models_assigned_to_them(seeded):
    validator = User.objects.get(username="validator")
    assigned = set(validator.validated_models.all())
    assert assigned
    assert set(restrict(validator, "view", RegisteredModel.objects.all())) == assigned
    assert not restrict(validator, "change", RegisteredModel.objects.all()).exists()


# --- the German Credit model ---------------------------------------------------------------------------------


def test_german_credit_model_is_registered_with_its_artifact_data_and_figures(seeded):
    model = RegisteredModel.objects.get(key="CR-0001")
    assert "German Credit" in model.name
    assert model.business_unit.code == "RETAIL-CREDIT"
    assert model.technical_owner.username == "model.owner"
    version = model.versions.get()
    artifact = seeded.var_dir / "demo" / "models" / "CR-0001-1.0.0.joblib"
    assert version.version == "1.0.0"
    assert version.artifact_digest == f"sha256:{file_sha256(artifact)}"
    csv_digest = file_sha256(Path(__file__).resolve().parents[2] / "demo" / "data" / "german_credit.csv")
    assert version.training_data_ref == f"demo/data/german_credit.csv@sha256:{csv_digest}"
    assert version.metrics["accuracy"] == 0.74
    assert 0.5 < version.metrics["auc"] < 1
    predictions = (seeded.var_dir / "demo" / "german_credit_predictions.csv").read_text().splitlines()
    assert predictions[0] == "row,y_true,y_pred,y_score,sex,age_group"
    assert len(predictions) == 301


# --- idempotency ---------------------------------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_says_so(seeded):
    files = sorted((seeded.var_dir / "demo").rglob("*.*"))
    before = snapshot(), {path: (path.stat().st_mtime_ns, file_sha256(path)) for path in files}
    output = StringIO()
    call_command("seed_demo", stdout=output)
    after = snapshot(), {path: (path.stat().st_mtime_ns, file_sha256(path)) for path in files}
    assert after == before
    assert "Nothing changed" in output.getvalue()
    assert "API token for" not in output.getvalue()


def test_missing_demo_files_are_restored_without_touching_the_inventory(seeded):
    predictions = seeded.var_dir / "demo" / "german_credit_predictions.csv"
    artifact = seeded.var_dir / "demo" / "models" / "CR-0001-1.0.0.joblib"
    expected = file_sha256(predictions), file_sha256(artifact)
    predictions.unlink()
    before = snapshot()
    output = StringIO()
    call_command("seed_demo", stdout=output)
    assert snapshot() == before
    assert "files restored" in output.getvalue()
    assert (file_sha256(predictions), file_sha256(artifact)) == expected


def test_an_existing_model_under_a_demo_key_is_reported_and_left_alone(seeded):
    model = RegisteredModel.objects.get(key=key_of("mmm"))
    risk_officer = User.objects.get(username="risk.officer")
    services.registered_model_update(actor=risk_officer, model=model, changes={"name": "Someone else's model"})
    output = StringIO()
    call_command("seed_demo", stdout=output)
    assert f'{model.key} is "Someone else\'s model"' in output.getvalue()
    assert RegisteredModel.objects.get(pk=model.pk).name == "Someone else's model"


# --- the plan ------------------------------------------------------------------------------------------------


def test_the_plan_is_deterministic_for_a_seed_and_day():
    day = date(2026, 6, 30)
    assert plan.build_plan(today=day, seed=7) == plan.build_plan(today=day, seed=7)
    assert plan.build_plan(today=day, seed=7) != plan.build_plan(today=day, seed=8)


def test_a_catalogue_with_a_dependency_cycle_is_refused(monkeypatch):
    first = catalogue.CATALOGUE[0]
    looped = (
        catalogue.Family(**{**first.__dict__, "slug": "a", "depends_on": (catalogue.Dep("b"),), "stage": None}),
        catalogue.Family(**{**first.__dict__, "slug": "b", "depends_on": (catalogue.Dep("a"),), "stage": None}),
    )
    monkeypatch.setattr(plan, "CATALOGUE", looped)
    with pytest.raises(ValueError, match="cycle"):
        plan.build_plan(today=date(2026, 6, 30))
