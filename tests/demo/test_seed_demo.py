"""``manage.py seed_demo``: the Northwind Bank demo inventory, its logins, its German Credit model, its
governance records (assessments, approvals, findings, the ledger), and that a second run changes nothing.

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

from audits.choices import RunStatus
from audits.models import AuditRun, EvaluationDataset
from audits.services import bias_audit_execute
from core import roles
from core.models import ApiToken, User
from core.permissions import restrict
from demo import catalogue, plan, story
from demo.german_credit import file_sha256
from demo.organisation import DEMO_LOGINS, PEOPLE, UNITS
from demo.seed import DEMO_PASSWORD, IMPORT_REASON
from demo.seed_governance import seed_governance
from governance.choices import (
    ApprovalStage,
    AssessmentStatus,
    Decision,
    EventType,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    OverrideStatus,
)
from governance.ledger import verify_ledger
from governance.models import (
    ApprovalDecision,
    Finding,
    GovernanceEvent,
    Notification,
    RiskAssessment,
    TierOverride,
    VersionTransition,
)
from governance.scoring import score_answers
from governance.selectors import current_assessment, overdue_findings, review_queue
from governance.services.assessments import effective_tier
from governance.services.policies import active_policy
from inventory import services
from inventory.choices import LifecycleStage, ModelType, VersionState
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
RISK_OFFICERS = {person.username for person in PEOPLE if person.role == roles.RISK_OFFICER}


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
        "assessments": RiskAssessment.objects.count(),
        "overrides": TierOverride.objects.count(),
        "transitions": VersionTransition.objects.count(),
        "decisions": ApprovalDecision.objects.count(),
        "findings": Finding.objects.count(),
        "finding history": Finding.history.count(),
        "ledger events": GovernanceEvent.objects.count(),
        "notifications": Notification.objects.count(),
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
    assessed = RegisteredModel.objects.exclude(risk_tier=None)

    def categories(tag: str) -> set[str]:
        return set(assessed.filter(tags__name=tag).values_list("eu_ai_act_category", flat=True))

    # Credit decisions about natural persons and recruitment are Annex III high-risk; chatbots carry Art. 50 duties.
    assert categories("application-scorecard") == {"high_risk"}
    assert categories("recruitment") == {"high_risk"}
    assert categories("chatbot") == {"limited"}
    assert categories("fraud") == {"minimal"}
    assert set(assessed.values_list("risk_tier", flat=True)) == {1, 2, 3}


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


# --- governance ----------------------------------------------------------------------------------------------


def group_members(role: str) -> set[int]:
    return set(Group.objects.get(name=role).user_set.values_list("pk", flat=True))


def test_every_tier_comes_from_an_approved_assessment_with_its_reasons(seeded):
    risk_officers = group_members(roles.RISK_OFFICER)
    tiered = RegisteredModel.objects.exclude(risk_tier=None)
    assert tiered.count() >= 150
    for model in tiered:
        assessment = current_assessment(model=model)
        assert assessment is not None, model.key
        assert (effective_tier(assessment), assessment.eu_ai_act_category) == (
            model.risk_tier,
            model.eu_ai_act_category,
        ), model.key
        scored = score_answers(assessment.questionnaire.definition, assessment.answers)
        assert (scored.score, scored.tier, scored.reasons_as_data()) == (
            assessment.score,
            assessment.computed_tier,
            assessment.reasons,
        )
        owners = {model.business_owner_id, model.technical_owner_id}
        assert assessment.assessed_by_id in owners | risk_officers, model.key
        assert assessment.reviewed_by_id in risk_officers - {assessment.assessed_by_id}, model.key
    # Everything past the proposal stage is assessed; only first assessments awaiting review leave a model untiered.
    untiered = RegisteredModel.objects.filter(risk_tier=None).exclude(lifecycle_stage=LifecycleStage.PROPOSED)
    assert untiered.exists()
    for model in untiered:
        assert list(model.risk_assessments.values_list("status", flat=True)) == [AssessmentStatus.SUBMITTED]


def test_the_tier_reaches_the_model_through_the_review_not_by_hand(seeded):
    model = RegisteredModel.objects.get(key=key_of("pd-app-personal-loans"))
    assessment = current_assessment(model=model)
    assert assessment is not None
    records = list(model.history.order_by("history_id"))
    assert (records[0].risk_tier, records[0].eu_ai_act_category) == (None, "")
    assert records[0].history_change_reason == IMPORT_REASON
    tiered = next(record for record in records if record.risk_tier is not None)
    assert (tiered.risk_tier, tiered.eu_ai_act_category) == (1, "high_risk")
    assert tiered.history_change_reason == f"Risk assessment #{assessment.pk} approved"
    assert tiered.history_user == assessment.reviewed_by
    assert assessment.assessed_by == model.technical_owner


def test_risk_categories_follow_the_answers(seeded):
    def assessment_of(slug: str) -> RiskAssessment:
        found = current_assessment(model=RegisteredModel.objects.get(key=key_of(slug)))
        assert found is not None
        return found

    credit = assessment_of("pd-app-personal-loans")
    assert "creditworthiness" in credit.answers["annex_iii_areas"] and credit.answers["materiality"] == "high"
    assert (credit.computed_tier, credit.eu_ai_act_category) == (1, "high_risk")
    chatbot = assessment_of("llm-virtual-assistant")
    assert "interacts_with_people" in chatbot.answers["transparency"] and chatbot.eu_ai_act_category == "limited"
    fraud = assessment_of("fraud-ato")
    assert fraud.answers["annex_iii_areas"] == ["fraud_detection"] and fraud.eu_ai_act_category == "minimal"
    hiring = assessment_of("hr-cv-screening")
    assert hiring.answers["annex_iii_areas"] == ["employment"] and hiring.eu_ai_act_category == "high_risk"
    vendor = assessment_of("hr-assessment")
    assert vendor.answers["vendor_opacity"] == "vendor_opaque"
    assert any(reason["question"] == "vendor_opacity" for reason in vendor.reasons)

    emotion = RegisteredModel.objects.get(key=key_of("agent-emotion-analytics"))
    assert (emotion.lifecycle_stage, emotion.risk_tier, emotion.eu_ai_act_category) == ("retired", 1, "prohibited")
    practice = emotion.findings.get()
    assert (practice.severity, practice.status) == (FindingSeverity.CRITICAL, FindingStatus.CLOSED)


def test_assessments_and_overrides_wait_for_and_get_a_second_risk_officer(seeded):
    assert RiskAssessment.objects.filter(status=AssessmentStatus.SUBMITTED).count() >= 3
    # The reassessment of the virtual assistant would make it Tier 1 high-risk; until reviewed, Tier 2 stands.
    assistant = RegisteredModel.objects.get(key=key_of("llm-virtual-assistant"))
    newest = assistant.risk_assessments.order_by("-assessed_at", "-id").first()
    assert newest is not None and newest.status == AssessmentStatus.SUBMITTED
    assert (newest.computed_tier, newest.eu_ai_act_category) == (1, "high_risk")
    assert (assistant.risk_tier, assistant.eu_ai_act_category) == (2, "limited")

    approved = TierOverride.objects.select_related("assessment__model").get(status=OverrideStatus.APPROVED)
    capital = approved.assessment.model
    assert capital.key == key_of("oprisk-lda")
    assert (approved.assessment.computed_tier, approved.tier, capital.risk_tier) == (2, 1, 1)
    assert "regulatory capital" in approved.justification and approved.decision_comment
    assert approved.decided_by is not None and approved.requested_by != approved.decided_by
    assert {approved.requested_by.username, approved.decided_by.username} <= RISK_OFFICERS

    pending = TierOverride.objects.select_related("assessment__model").get(status=OverrideStatus.PENDING)
    bureau = pending.assessment.model
    assert bureau.key == key_of("vendor-bureau-consumer")
    assert pending.requested_by == bureau.business_owner and pending.tier == 2 and bureau.risk_tier == 1


def test_production_models_run_their_newest_release_approved_as_their_tier_requires(seeded):
    today = timezone.localdate()
    risk_officers = group_members(roles.RISK_OFFICER)
    pipeline = User.objects.get(username="ci-jenkins")
    production = RegisteredModel.objects.filter(lifecycle_stage=LifecycleStage.PRODUCTION).prefetch_related(
        "versions__decisions", "versions__transitions", "validators"
    )
    running = 0
    for model in production:
        versions = sorted(model.versions.all(), key=lambda version: version.created_at)
        deployed = [version for version in versions if version.state == VersionState.DEPLOYED]
        if not deployed:
            # Revalidation was overdue before the portal: no approval here yet, the legacy due date stands.
            assert model.next_validation_due is not None and model.next_validation_due < today, model.key
            continue
        running += 1
        assert len(deployed) == 1, model.key
        before = versions[: versions.index(deployed[0])]
        assert all(version.state == VersionState.RETIRED for version in before), model.key
        policy = active_policy(model.risk_tier)
        for version in [*before, deployed[0]]:
            decisions = list(version.decisions.all())
            approvers = {d.actor_id for d in decisions if d.stage == ApprovalStage.RISK_REVIEW}
            assert len(approvers) == policy.required_approvers and approvers <= risk_officers, version
            validations = [d for d in decisions if d.stage == ApprovalStage.VALIDATION]
            if ApprovalStage.VALIDATION in policy.required_stages:
                assert [d.decision for d in validations] == [Decision.APPROVE], version
                assert validations[0].actor in model.validators.all()
            deploy = next(t for t in version.transitions.all() if t.to_state == VersionState.DEPLOYED)
            if model.business_unit.code == "RETAIL-CREDIT":
                assert deploy.actor == pipeline
        # The approval of the running release sets the next revalidation.
        assert deployed[0].approval_expires_at is not None
        assert model.next_validation_due == deployed[0].approval_expires_at.date(), model.key
    assert running > production.count() / 2
    assert production.filter(next_validation_due__lt=today).exists()
    assert set(ModelVersion.objects.values_list("state", flat=True)) == set(VersionState.values)


def test_review_queues_of_the_demo_logins_have_work(seeded):
    validator = User.objects.get(username="validator")
    waiting = set(review_queue(user=validator).values_list("state", flat=True))
    assert waiting == {VersionState.SUBMITTED, VersionState.IN_VALIDATION}
    head = User.objects.get(username="risk.officer")
    queue = review_queue(user=head)
    assert queue.exists() and set(queue.values_list("state", flat=True)) == {VersionState.RISK_REVIEW}
    # A Tier 1 version with one approval from another Risk Officer waits for her second one.
    half_approved = queue.filter(model__risk_tier=1, decisions__stage=ApprovalStage.RISK_REVIEW).distinct()
    assert half_approved.exists()


def test_findings_of_every_source_severity_and_status_owned_by_model_owners(seeded):
    findings = Finding.objects.select_related("model", "owner", "resolved_by")
    assert set(findings.values_list("status", flat=True)) == set(FindingStatus.values)
    assert set(findings.values_list("severity", flat=True)) == set(FindingSeverity.values)
    assert {FindingSource.VALIDATION, FindingSource.APPROVAL_CONDITION, FindingSource.MANUAL} <= set(
        findings.values_list("source", flat=True)
    )
    conditions = findings.filter(source=FindingSource.APPROVAL_CONDITION)
    assert conditions.filter(version__transitions__to_state=VersionState.APPROVED_WITH_CONDITIONS).exists()
    risk_officers = group_members(roles.RISK_OFFICER)
    for finding in findings:
        assert finding.owner_id in {finding.model.business_owner_id, finding.model.technical_owner_id}, finding
        if finding.status == FindingStatus.RISK_ACCEPTED:
            assert finding.resolved_by_id in risk_officers and len(finding.resolution) >= 20
        elif finding.status == FindingStatus.CLOSED:
            assert finding.resolved_by_id in risk_officers | set(finding.model.validators.values_list("pk", flat=True))
        elif finding.status == FindingStatus.IN_REMEDIATION:
            assert finding.evidence_links
    # Only items carried over from the legacy issue log were due before today.
    overdue = overdue_findings(findings)
    assert overdue.exists()
    assert all("legacy issue log" in finding.description for finding in overdue)


def test_ci_jenkins_reports_for_the_retail_credit_models(seeded):
    pipeline = User.objects.get(username="ci-jenkins")
    scoped = restrict(pipeline, "custom:report_registeredmodel", RegisteredModel.objects.all())
    retail_credit = RegisteredModel.objects.filter(business_unit__code="RETAIL-CREDIT")
    assert set(scoped) == set(retail_credit) and retail_credit.count() >= 10
    assert set(restrict(pipeline, "view", RegisteredModel.objects.all())) == set(retail_credit)


def test_the_ledger_records_every_governance_fact_and_verifies(seeded):
    output = StringIO()
    call_command("verify_ledger", stdout=output)
    assert "intact" in output.getvalue()
    verification = verify_ledger()
    assert verification.intact and verification.checked == GovernanceEvent.objects.count()
    recorded = set(GovernanceEvent.objects.values_list("event_type", flat=True))
    assert {
        EventType.ASSESSMENT_SUBMITTED,
        EventType.ASSESSMENT_APPROVED,
        EventType.OVERRIDE_REQUESTED,
        EventType.OVERRIDE_APPROVED,
        EventType.VERSION_SUBMITTED,
        EventType.VALIDATION_STARTED,
        EventType.VERSION_VALIDATED,
        EventType.APPROVAL_RECORDED,
        EventType.VERSION_APPROVED,
        EventType.VERSION_REJECTED,
        EventType.VERSION_WITHDRAWN,
        EventType.VERSION_DEPLOYED,
        EventType.VERSION_RETIRED,
        EventType.FINDING_RAISED,
        EventType.FINDING_REMEDIATION_STARTED,
        EventType.FINDING_CLOSED,
        EventType.FINDING_RISK_ACCEPTED,
    } <= recorded
    assert (
        RiskAssessment.objects.count()
        == GovernanceEvent.objects.filter(event_type=EventType.ASSESSMENT_SUBMITTED).count()
    )


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


def test_a_story_is_told_only_to_an_untouched_model_with_the_people_it_names(seeded):
    head = User.objects.get(username="risk.officer")
    unit = BusinessUnit.objects.get(code="MARKETING")
    owner = User.objects.get(username="laura.schmidt")
    model = services.registered_model_create(
        actor=head,
        name="Store footfall forecast",
        purpose="Forecasts weekly branch footfall for staffing.",
        model_type=ModelType.STATISTICAL,
        business_unit=unit,
        business_owner=owner,
        technical_owner=owner,
        validators=[User.objects.get(username="kwame.boateng")],
    )
    services.model_version_create(actor=owner, model=model, version="1.0.0")
    answers = plan.questionnaire_answers(
        next(family for family in catalogue.CATALOGUE if family.slug == "capacity-forecast")
    )
    steps = (story.Assess("laura.schmidt", answers, "First assessment."), story.Submit("1.0.0", "laura.schmidt", ""))
    owners = ("laura.schmidt", "laura.schmidt")
    miscast = story.ModelStory(model.key, steps, owners, frozenset({"validator"}))
    unknown_version = story.ModelStory(
        model.key, (*steps, story.Retire("9.9.9", "laura.schmidt", "Gone")), owners, frozenset({"kwame.boateng"})
    )
    fitting = story.ModelStory(model.key, steps[:1], owners, frozenset({"kwame.boateng"}))
    people = {user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES)}
    ledger = GovernanceEvent.objects.count()

    told = seed_governance(
        (miscast, unknown_version), models={model.key: model}, people=people, today=timezone.localdate()
    )
    assert (told.models_told, told.changed, GovernanceEvent.objects.count()) == (0, False, ledger)
    assert "validators are kwame.boateng" in told.conflicts[0] and "9.9.9" in told.conflicts[1]

    told = seed_governance((fitting,), models={model.key: model}, people=people, today=timezone.localdate())
    assert (told.models_told, told.assessments, told.ledger_events) == (1, 1, 1)
    again = seed_governance((fitting,), models={model.key: model}, people=people, today=timezone.localdate())
    assert (again.models_told, again.models_governed_already, again.changed) == (0, 1, False)


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


def test_questionnaire_answers_are_completed_from_the_family():
    families = {family.slug: family for family in catalogue.CATALOGUE}
    bureau = plan.questionnaire_answers(families["vendor-bureau-consumer"])
    assert bureau["annex_iii_areas"] == ["creditworthiness"] and bureau["vendor_opacity"] == "vendor_documented"
    corporate = plan.questionnaire_answers(families["corp-rating-{v}"])
    assert corporate["annex_iii_areas"] == ["none"] and corporate["personal_data"] == "none"
    assert plan.questionnaire_answers(families["llm-gateway"])["complexity"] == "generative"
    vague_vendor = catalogue.Family(
        **{**families["vendor-ocr"].__dict__, "risk": catalogue.Risk("low", "informs", "team")}
    )
    with pytest.raises(ValueError, match="vendor model must say"):
        plan.questionnaire_answers(vague_vendor)


def test_the_story_is_deterministic_and_keeps_duties_apart():
    day = date(2026, 6, 30)
    demo = plan.build_plan(today=day)
    stories = story.build_story(demo, today=day, seed=plan.DEFAULT_SEED)
    assert stories == story.build_story(demo, today=day, seed=plan.DEFAULT_SEED)
    models = {model.key: model for model in demo.models}
    people = set(DEMO_USERNAMES)
    for told in stories:
        model = models[told.key]
        owners = {model.business_owner, model.technical_owner}
        assert set(told.version_labels) <= set(model.version_labels), told.key
        titles = [step.finding.title for step in told.steps if isinstance(step, story.RaiseFinding)]
        assert len(titles) == len(set(titles)), told.key
        for step in told.steps:
            assert step.actor in people, step
            if isinstance(step, story.Decide | story.ReviewAssessment | story.ApproveOverride | story.AcceptRisk):
                assert step.actor in RISK_OFFICERS and step.actor not in owners, step
            if isinstance(step, story.StartValidation | story.Validate):
                assert step.actor in model.validators, step
            if isinstance(step, story.Submit | story.Retire):
                assert step.actor in owners, step


def test_the_demo_queues_one_bias_audit_of_the_german_credit_model_which_fails(seeded: Seeded) -> None:
    dataset = EvaluationDataset.objects.get(version__model__key="CR-0001", version__version="1.0.0")
    assert dataset.mapping == {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex", "age_group"]}
    run = AuditRun.objects.get(dataset=dataset)
    assert run.status == RunStatus.QUEUED

    run = bias_audit_execute(run_id=run.pk)

    assert run.status == RunStatus.FAILED
    assert run.result["analyses"]["age_group"]["verdicts"]["equalized_odds_difference"]["verdict"] == "fail"
    assert Finding.objects.filter(model=run.model, source=FindingSource.AUDIT).exists()
