"""The permission matrix: what every persona gets from every URL pattern, one row per pattern name.

``tests/test_permission_matrix.py`` walks ``get_resolver()`` and fails when a pattern has no row here, when a row
lists other methods than the view answers, or when a persona gets anything but what the row says. How to read and
extend it: docs/permission-matrix.md.

Every object URL is filled with an object of model A (or a global object, for policies and schedules). An outcome
names, for each persona, one of:

- ``OK``: allowed (a page or a read answers 2xx/3xx; a write sent with an empty body may answer 400 or 409, but
  never 401, 403, 404 or 405);
- ``FORBIDDEN`` (403): the persona may see the object (or the page) but not do this;
- ``HIDDEN`` (404): the persona may not see the object, so the portal does not admit that it exists;
- ``LOGIN``: not signed in: a page redirects to the sign-in page, the API answers 401;
- ``NO_SUCH_REFERENCE`` (400 "does not exist"): a write body names an object the persona may not see, and is
  answered as if the object did not exist;
- ``NOT_ALLOWED`` (405), ``ADMIN_LOGIN`` (the admin site's own sign-in page): as named.

Anonymous visitors always get ``LOGIN`` unless an outcome lets everyone in. Service accounts cannot sign in to
the web pages (their token is ignored there), so on a page they get ``LOGIN`` too. A row marked ``# KNOWN:``
records the answer the portal gives today where it should give another; the comment says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

OK = "ok"
FORBIDDEN = "403"
HIDDEN = "404"
LOGIN = "login"
NOT_ALLOWED = "405"
# A write body naming an object the persona may not see: 400 "... does not exist", word for word what a key that
# names nothing gets, so a body cannot probe for objects either (core.api.serializers.VisibleSlugRelatedField).
NO_SUCH_REFERENCE = "400-does-not-exist"
ADMIN_LOGIN = "admin-login"

PERSONAS = (
    "anonymous",
    "owner_a",  # Model Owner of model A
    "owner_b",  # Model Owner of model B
    "validator_a",  # Validator assigned to model A
    "validator_other",  # Validator assigned to nothing
    "risk_officer",
    "auditor",
    "ci_a",  # CI Service token scoped to model A (may see it and report for it)
    "ci_other",  # CI Service token scoped to nothing
    "admin",
    "no_role",  # signed in, no role at all
)
SERVICE_ACCOUNTS = frozenset({"ci_a", "ci_other"})
SIGNED_IN = frozenset(PERSONAS) - {"anonymous"}
PEOPLE = SIGNED_IN - SERVICE_ACCOUNTS

# Who sees and who changes model A (and so every object of model A), by the grants in tests/conftest.py.
SEES_A = frozenset({"owner_a", "validator_a", "risk_officer", "auditor", "admin", "ci_a"})
CHANGES_A = frozenset({"owner_a", "risk_officer", "admin"})
SEES_B = frozenset({"owner_b", "risk_officer", "auditor", "admin"})
READ_EVERYTHING = frozenset({"risk_officer", "auditor", "admin"})
RISK_OFFICERS = frozenset({"risk_officer", "admin"})

# What gives a model away in a response: a persona who may not see the model must never find these in a 200.
TELLTALES = {
    SEES_A: ("RB-0001", "Retail PD scorecard", "Calibration drift on thin files"),
    SEES_B: ("RB-0002", "Card fraud detector"),
}

# Paths that are not the application's: none are routed today (WhiteNoise serves /static/ before URL routing, and
# uploads are only ever streamed through the permission-checked download views, never served from MEDIA_URL).
EXCLUDED_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "static/": "static files are served by WhiteNoise middleware, same for everyone, no data",
        "media/": "uploaded files are never served directly; they go through the download views",
    }
)


@dataclass(frozen=True)
class Outcome:
    """A named rule: who is allowed, who is refused with 403, and what everyone else signed in gets."""

    name: str
    ok: frozenset[str]
    forbidden: frozenset[str] = frozenset()
    rest: str = HIDDEN
    overrides: Mapping[str, str] = field(default_factory=dict)

    def expect(self, persona: str) -> str:
        """What ``persona`` must get."""
        if persona in self.overrides:
            return self.overrides[persona]
        if persona in self.ok:
            return OK
        if persona == "anonymous":
            return LOGIN
        return FORBIDDEN if persona in self.forbidden else self.rest

    def but(self, **overrides: str) -> Outcome:
        """The same rule with some personas answered otherwise (each exception documented at the row)."""
        return Outcome(self.name, self.ok, self.forbidden, self.rest, {**self.overrides, **overrides})


PUBLIC = Outcome("PUBLIC", frozenset(PERSONAS))
SIGNED_IN_ANY = Outcome("SIGNED_IN", SIGNED_IN)
# A create endpoint whose permission depends on the object the body names: with an empty body every signed-in
# persona gets the 400 naming the missing fields (the permission check comes once the body names an object).
BODY_DECIDES = Outcome("BODY_DECIDES", SIGNED_IN)
OBJECT_READ = Outcome("OBJECT_READ", SEES_A)
OBJECT_CHANGE = Outcome("OBJECT_CHANGE", CHANGES_A, forbidden=SEES_A - CHANGES_A)
# Decisions on model A's objects taken by the second line (tier reviews, approvals, risk acceptance).
OBJECT_REVIEW = Outcome("OBJECT_REVIEW", RISK_OFFICERS, forbidden=SEES_A - RISK_OFFICERS)
# Creating an object of model A through a body that names model A.
OBJECT_CHANGE_BY_BODY = Outcome(
    "OBJECT_CHANGE_BY_BODY", CHANGES_A, forbidden=SEES_A - CHANGES_A, rest=NO_SUCH_REFERENCE
)
READ_ALL = Outcome("READ_ALL", READ_EVERYTHING, rest=FORBIDDEN)
RISK_OFFICER_ONLY = Outcome("RISK_OFFICER_ONLY", RISK_OFFICERS, rest=FORBIDDEN)
MODEL_CREATORS = Outcome("MODEL_CREATORS", frozenset({"owner_a", "owner_b", "risk_officer", "admin"}), rest=FORBIDDEN)
# Objects that belong to a person rather than to a model: the saved view and the export of owner_a.
OWN_ONLY = Outcome("OWN_ONLY", frozenset({"owner_a"}))
OWN_OR_READ_ALL = Outcome("OWN_OR_READ_ALL", frozenset({"owner_a"}) | READ_EVERYTHING)
# Django's admin site: staff only; everyone else is sent to the admin's own sign-in page.
ADMIN_SITE = Outcome("ADMIN_SITE", frozenset({"admin"}), rest=ADMIN_LOGIN, overrides={"anonymous": ADMIN_LOGIN})
# A method the router maps but the viewset refuses for everyone (405 once signed in).
METHOD_REFUSED = Outcome("METHOD_REFUSED", frozenset(), rest=NOT_ALLOWED)
# Roles that read a kind of record across the portal see it; to everyone else it does not exist.
READ_ALL_HIDDEN = Outcome("READ_ALL_HIDDEN", READ_EVERYTHING)
RISK_OFFICER_OBJECT = Outcome("RISK_OFFICER_OBJECT", RISK_OFFICERS, forbidden=READ_EVERYTHING - RISK_OFFICERS)
# Business units: every role holds view on them; a user without a role sees none.
UNIT_READ = Outcome("UNIT_READ", SIGNED_IN - {"no_role"})
UNIT_CHANGE = Outcome("UNIT_CHANGE", RISK_OFFICERS, forbidden=SIGNED_IN - {"no_role"} - RISK_OFFICERS)
# People: every role but the CI Service reads the directory.
PEOPLE_READ = Outcome("PEOPLE_READ", PEOPLE - {"no_role"})
# Published questionnaires: anyone who sees some model (owners answer them, assessments name them).
QUESTIONNAIRE_READ = Outcome("QUESTIONNAIRE_READ", SEES_A | SEES_B)
QUESTIONNAIRE_CHANGE = Outcome("QUESTIONNAIRE_CHANGE", RISK_OFFICERS, forbidden=(SEES_A | SEES_B) - RISK_OFFICERS)
# Audits of model A: its owners, Risk Officers and its assigned validators (audits.services.may_audit).
AUDITORS_OF_A = CHANGES_A | {"validator_a"}
OBJECT_AUDIT = Outcome("OBJECT_AUDIT", AUDITORS_OF_A, forbidden=SEES_A - AUDITORS_OF_A)
# Independent validation of model A: its assigned validator (owners and Risk Officers are refused by SOD rules).
VALIDATORS_OF_A = frozenset({"validator_a", "admin"})
OBJECT_VALIDATE = Outcome("OBJECT_VALIDATE", VALIDATORS_OF_A, forbidden=SEES_A - VALIDATORS_OF_A)
# Closing and reopening a finding of model A: a Risk Officer or its validator, never its owner (SOD-2).
FINDING_CLOSERS = frozenset({"validator_a", "risk_officer", "admin"})
FINDING_CLOSE = Outcome("FINDING_CLOSE", FINDING_CLOSERS, forbidden=SEES_A - FINDING_CLOSERS)
# Raising a finding on model A by hand: Risk Officers and its validators; the body names the model.
FINDING_RAISERS = frozenset({"validator_a", "risk_officer", "admin"})
FINDING_RAISE = Outcome("FINDING_RAISE", FINDING_RAISERS, forbidden=SEES_A - FINDING_RAISERS, rest=NO_SUCH_REFERENCE)
# Reporting for model A (deployments, metrics): its owners, Risk Officers and the pipeline scoped to it.
REPORTERS_OF_A = CHANGES_A | {"ci_a"}
OBJECT_REPORT = Outcome("OBJECT_REPORT", REPORTERS_OF_A, forbidden=SEES_A - REPORTERS_OF_A)


@dataclass(frozen=True)
class Row:
    """The outcome per HTTP method of one URL pattern, and what fills its keywords.

    ``obj`` names the object of the test's world whose key, code, pk... fill the pattern; ``step`` fills a
    ``<slug:step>``. ``methods`` must be exactly the methods the view answers (HEAD and OPTIONS aside).
    """

    methods: Mapping[str, Outcome]
    obj: str | None = None
    step: str | None = None
    body: Mapping[str, Any] | None = None
    documentation: bool = False


def row(
    obj: str | None = None,
    *,
    step: str | None = None,
    body: Mapping[str, Any] | None = None,
    documentation: bool = False,
    **methods: Outcome,
) -> Row:
    """A row. ``body`` is sent with every state-changing method (empty when not given). Every view checks the
    permission before the body, so a refused persona gets 403 whatever the body; a body that passes validation lets
    an allowed persona's answer show the write itself rather than a 400. ``documentation`` marks pages of static
    text, whose examples may name model keys."""
    return Row(
        methods=MappingProxyType(methods),
        obj=obj,
        step=step,
        body=body,
        documentation=documentation,
    )


DIGEST = "sha256:" + "c" * 64  # model A's version 1.0.0 carries it
COMMENT = {"comment": "Permission matrix check."}
# A request about model A's version 1.0.0, for the endpoints that name the model in the body.
ABOUT_A = {"model": "RB-0001", "version": "1.0.0", "environment": "staging", "digest": DIGEST}
TABLE: Mapping[str, Row] = {
    # --- core -------------------------------------------------------------------------------------------------
    "home": row(GET=SIGNED_IN_ANY),
    "login": row(GET=PUBLIC, POST=PUBLIC, PUT=PUBLIC),  # Django's LoginView treats PUT as POST
    "logout": row(POST=PUBLIC),
    "health": row(GET=PUBLIC),
    "admin": row(GET=ADMIN_SITE),  # the index and every registered model's changelist
    # --- inventory pages --------------------------------------------------------------------------------------
    "inventory:model-list": row(GET=SIGNED_IN_ANY),
    "inventory:model-create": row(GET=MODEL_CREATORS, POST=MODEL_CREATORS),
    "inventory:model-columns": row(POST=SIGNED_IN_ANY),
    "inventory:saved-views": row(GET=SIGNED_IN_ANY),
    "inventory:saved-view-create": row(POST=SIGNED_IN_ANY),
    "inventory:saved-view-rename": row("saved_view", POST=OWN_ONLY),
    "inventory:saved-view-delete": row("saved_view", POST=OWN_ONLY),
    "inventory:model-detail": row("model_a", GET=OBJECT_READ),
    "inventory:model-edit": row("model_a", GET=OBJECT_CHANGE, POST=OBJECT_CHANGE),
    "inventory:version-create": row("model_a", GET=OBJECT_CHANGE, POST=OBJECT_CHANGE),
    "inventory:lineage": row("model_a", GET=OBJECT_READ),
    "inventory:model-history": row("model_a", GET=OBJECT_READ),
    "inventory:runs-where": row(GET=SIGNED_IN_ANY),
    "inventory:unit-list": row(GET=SIGNED_IN_ANY),
    "inventory:external-model-list": row(GET=READ_ALL),
    "inventory:external-model-link": row("external", POST=RISK_OFFICER_ONLY),
    "inventory:external-model-ignore": row("external", POST=RISK_OFFICER_ONLY),
    "inventory:external-model-register": row("external", GET=RISK_OFFICER_ONLY, POST=RISK_OFFICER_ONLY),
    # --- governance pages -------------------------------------------------------------------------------------
    "governance:model": row("model_a", GET=OBJECT_READ),
    "governance:assess": row("model_a", GET=OBJECT_CHANGE, POST=OBJECT_CHANGE),
    "governance:model-findings": row("model_a", GET=OBJECT_READ),
    "governance:model-ledger": row("model_a", GET=OBJECT_READ),
    # The three assessment forms ask the service's permission check before they read the form.
    "governance:assessment-review": row("assessment", POST=OBJECT_REVIEW),
    "governance:override-request": row("assessment", POST=OBJECT_CHANGE),
    "governance:override-decide": row("override", POST=OBJECT_REVIEW),
    "governance:version-step": row("version", step="submit", POST=OBJECT_CHANGE),
    "governance:queue": row(GET=SIGNED_IN_ANY),
    "governance:finding-list": row(GET=SIGNED_IN_ANY),
    "governance:finding-detail": row("finding", GET=OBJECT_READ),
    "governance:finding-step": row("finding", step="start_remediation", POST=OBJECT_CHANGE),
    "governance:ledger": row(GET=SIGNED_IN_ANY),
    "governance:policies": row(GET=SIGNED_IN_ANY),
    "governance:pack-activate": row(POST=RISK_OFFICER_ONLY),
    "governance:tier-policy-edit": row("tier_policy", GET=RISK_OFFICER_OBJECT, POST=RISK_OFFICER_OBJECT),
    "governance:questionnaire": row("questionnaire", GET=QUESTIONNAIRE_READ),
    "governance:questionnaire-publish": row("questionnaire", POST=QUESTIONNAIRE_CHANGE),
    "governance:notifications": row(GET=SIGNED_IN_ANY),
    "governance:bulk-action": row(POST=RISK_OFFICER_ONLY),
    "governance:notifications-read": row(POST=SIGNED_IN_ANY),
    # --- audits pages -----------------------------------------------------------------------------------------
    "audits:model": row("model_a", GET=OBJECT_READ, POST=OBJECT_AUDIT),
    "audits:dataset-audit": row("dataset", POST=OBJECT_AUDIT),
    "audits:run-list": row(GET=SIGNED_IN_ANY),
    "audits:run": row("audit_run", GET=OBJECT_READ),
    "audits:compare": row(GET=SIGNED_IN_ANY),
    "audits:schedules": row(GET=RISK_OFFICER_ONLY),
    "audits:schedule-edit": row("schedule", GET=RISK_OFFICER_ONLY, POST=RISK_OFFICER_ONLY),
    "audits:schedule-step": row("schedule", step="pause", POST=RISK_OFFICER_ONLY),
    # --- monitoring, dashboard, reports pages -----------------------------------------------------------------
    "monitoring:portfolio": row(GET=SIGNED_IN_ANY),
    "monitoring:model": row("model_a", GET=OBJECT_READ),
    "monitoring:mlflow-import": row("model_a", POST=OBJECT_REPORT),
    "dashboard:home": row(GET=SIGNED_IN_ANY),
    "reports:downloads": row(GET=SIGNED_IN_ANY),
    "reports:export-start": row(POST=SIGNED_IN_ANY),
    "reports:export-download": row("export", GET=OWN_OR_READ_ALL),
    "reports:register-csv": row(GET=SIGNED_IN_ANY),
    # --- API: schema, docs, keys ------------------------------------------------------------------------------
    "api-root": row(GET=SIGNED_IN_ANY),
    "api-schema": row(GET=PUBLIC, documentation=True),
    "api-docs": row(GET=PUBLIC, documentation=True),
    "api-redoc": row(GET=PUBLIC, documentation=True),
    "well-known-jwks": row(GET=PUBLIC),
    # --- API: inventory ---------------------------------------------------------------------------------------
    # Creates and updates check the permission before the body (PortalWriteViewSet.check_create_permission and
    # check_update_permission): a refused persona gets 403 to an empty or partial body.
    "businessunit-list": row(GET=SIGNED_IN_ANY, POST=UNIT_CHANGE.but(no_role=FORBIDDEN)),
    "businessunit-detail": row("unit", GET=UNIT_READ, PUT=UNIT_CHANGE, PATCH=UNIT_CHANGE),
    "businessunit-history": row("unit", GET=UNIT_READ),
    "registeredmodel-list": row(GET=SIGNED_IN_ANY, POST=MODEL_CREATORS),
    "registeredmodel-detail": row(
        "model_a",
        GET=OBJECT_READ,
        PUT=OBJECT_CHANGE,
        PATCH=OBJECT_CHANGE,
        body={"purpose": "Checked by the permission matrix.", "change_reason": "Permission matrix check."},
        # PUT needs every field: the partial body above is a 400 for who may change the model, a 403 for the rest.
    ),
    "registeredmodel-history": row("model_a", GET=OBJECT_READ),
    "registeredmodel-lineage": row("model_a", GET=OBJECT_READ),
    "modelversion-list": row(
        GET=SIGNED_IN_ANY, POST=OBJECT_CHANGE_BY_BODY, body={"model": "RB-0001", "version": "9.9.9"}
    ),
    "modelversion-detail": row(
        "version",
        GET=OBJECT_READ,
        PUT=OBJECT_CHANGE,
        PATCH=OBJECT_CHANGE,
        body={"training_data_ref": "s3://data/matrix", "change_reason": "Permission matrix check."},
    ),
    "modelversion-history": row("version", GET=OBJECT_READ),
    "modeldependency-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    # Model A uses model B: the dependency is seen only by who sees both, changed by who changes A and sees B.
    "modeldependency-detail": row(
        "dependency",
        GET=READ_ALL_HIDDEN,
        PUT=RISK_OFFICER_OBJECT,
        PATCH=RISK_OFFICER_OBJECT,
        DELETE=RISK_OFFICER_OBJECT,
        body={"description": "Checked by the permission matrix.", "change_reason": "Permission matrix check."},
    ),
    "modeldependency-history": row("dependency", GET=READ_ALL_HIDDEN),
    "artifact-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "artifact-batch": row(POST=BODY_DECIDES),
    "artifact-detail": row("artifact", GET=OBJECT_READ),
    "artifact-history": row("artifact", GET=OBJECT_READ),
    "deployment-list": row(GET=SIGNED_IN_ANY, POST=OBJECT_REPORT, body=ABOUT_A),
    "deployment-detail": row("deployment", GET=OBJECT_READ),
    "deployment-history": row("deployment", GET=OBJECT_READ),
    # MLflow records: the API lists none and hides each record from roles that do not read the whole inventory.
    "externalmodel-list": row(GET=SIGNED_IN_ANY),
    "externalmodel-detail": row("external", GET=READ_ALL_HIDDEN),
    "externalmodel-ignore": row("external", POST=RISK_OFFICER_OBJECT),
    "externalmodel-link": row("external", POST=RISK_OFFICER_OBJECT, body={"model": "RB-0001"}),
    "externalmodel-register": row("external", POST=RISK_OFFICER_OBJECT, body={"business_unit": "RETAIL"}),
    "lineage-detail": row("model_a", GET=OBJECT_READ),
    "runs-where-list": row(GET=SIGNED_IN_ANY),
    # --- API: people ------------------------------------------------------------------------------------------
    "user-list": row(GET=SIGNED_IN_ANY),
    "user-me": row(GET=SIGNED_IN_ANY),
    "user-detail": row("person", GET=PEOPLE_READ),
    # --- API: governance --------------------------------------------------------------------------------------
    "questionnaire-list": row(GET=SIGNED_IN_ANY, POST=RISK_OFFICER_ONLY),
    "questionnaire-detail": row("questionnaire", GET=QUESTIONNAIRE_READ),
    # The preview re-scores only the models the caller sees, so whoever reads the questionnaire may ask for it.
    "questionnaire-impact-preview": row("questionnaire", GET=QUESTIONNAIRE_READ),
    "questionnaire-publish": row("questionnaire", POST=QUESTIONNAIRE_CHANGE),
    "riskassessment-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "riskassessment-detail": row("assessment", GET=OBJECT_READ),
    "riskassessment-approve": row("assessment", POST=OBJECT_REVIEW, body=COMMENT),
    "riskassessment-reject": row("assessment", POST=OBJECT_REVIEW, body=COMMENT),
    "tieroverride-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "tieroverride-detail": row("override", GET=OBJECT_READ),
    "tieroverride-approve": row("override", POST=OBJECT_REVIEW, body=COMMENT),
    "tieroverride-reject": row("override", POST=OBJECT_REVIEW, body=COMMENT),
    "policypack-list": row(GET=SIGNED_IN_ANY),
    "policypack-detail": row("policy_pack", GET=READ_ALL_HIDDEN),
    "policypack-activate": row("policy_pack", POST=RISK_OFFICER_OBJECT, body={"reason": "Permission matrix check."}),
    "tierpolicy-list": row(GET=SIGNED_IN_ANY),
    "tierpolicy-detail": row(
        "tier_policy",
        GET=READ_ALL_HIDDEN,
        PATCH=RISK_OFFICER_OBJECT,
        body={"required_approvers": 1, "reason": "Permission matrix check."},
    ),
    "tierpolicy-history": row("tier_policy", GET=READ_ALL_HIDDEN),
    "versionworkflow-detail": row("version", GET=OBJECT_READ),
    "versionworkflow-submit": row("version", POST=OBJECT_CHANGE, body=COMMENT),
    "versionworkflow-withdraw": row("version", POST=OBJECT_CHANGE, body=COMMENT),
    "versionworkflow-start-validation": row("version", POST=OBJECT_VALIDATE, body=COMMENT),
    "versionworkflow-validate": row("version", POST=OBJECT_VALIDATE, body={**COMMENT, "passed": False}),
    "versionworkflow-decide": row("version", POST=OBJECT_REVIEW, body={**COMMENT, "approve": False}),
    "versionworkflow-deploy": row("version", POST=OBJECT_REPORT, body=COMMENT),
    "versionworkflow-retire": row("version", POST=OBJECT_CHANGE, body=COMMENT),
    "reviewqueue-list": row(GET=SIGNED_IN_ANY),
    "finding-list": row(
        GET=SIGNED_IN_ANY,
        POST=FINDING_RAISE,
        body={"model": "RB-0001", "title": "Matrix check", "severity": "low", "due_date": "2099-01-01"},
    ),
    "finding-detail": row("finding", GET=OBJECT_READ),
    "finding-history": row("finding", GET=OBJECT_READ),
    "finding-start-remediation": row("finding", POST=OBJECT_CHANGE, body=COMMENT),
    "finding-close": row("finding", POST=FINDING_CLOSE, body={"resolution": "Permission matrix check."}),
    "finding-reopen": row("finding", POST=FINDING_CLOSE, body={"reason": "Permission matrix check."}),
    "finding-accept-risk": row(
        "finding", POST=OBJECT_REVIEW, body={"justification": "Permission matrix check, twenty characters."}
    ),
    "ledger-list": row(GET=SIGNED_IN_ANY),
    "ledger-verify": row(GET=READ_ALL),
    "ledger-detail": row("ledger_event", GET=OBJECT_READ),
    "notification-list": row(GET=SIGNED_IN_ANY),
    "notification-mark-read": row(POST=SIGNED_IN_ANY),
    # --- API: audits ------------------------------------------------------------------------------------------
    "evaluationdataset-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "evaluationdataset-detail": row("dataset", GET=OBJECT_READ),
    "auditrun-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "auditrun-compare": row(GET=SIGNED_IN_ANY),
    "auditrun-detail": row("audit_run", GET=OBJECT_READ),
    # Sweeps and statuses: the list is empty to who may not read the portfolio, each sweep hidden from them.
    "compliancesweep-list": row(GET=SIGNED_IN_ANY, POST=RISK_OFFICER_ONLY),
    "compliancesweep-detail": row("sweep", GET=READ_ALL_HIDDEN),
    "compliancesweep-models": row("sweep", GET=READ_ALL_HIDDEN),
    "compliancestatus-list": row(GET=SIGNED_IN_ANY),
    "schedule-list": row(GET=RISK_OFFICER_ONLY),
    "schedule-detail": row(
        "schedule", GET=RISK_OFFICER_ONLY, PUT=METHOD_REFUSED, PATCH=RISK_OFFICER_ONLY, body={"enabled": True}
    ),
    "schedule-run": row("schedule", POST=RISK_OFFICER_ONLY),
    # --- API: monitoring --------------------------------------------------------------------------------------
    "monitoringtarget-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "monitoringtarget-detail": row("target", GET=OBJECT_READ),
    "monitoringtarget-agree": row("target", POST=OBJECT_REVIEW, body=COMMENT),
    "metricobservation-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "metricobservation-detail": row("metric", GET=OBJECT_READ),
    "metricobservation-mlflow-import": row(POST=BODY_DECIDES),
    "driftdataset-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "driftdataset-detail": row("drift_dataset", GET=OBJECT_READ),
    "driftrun-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "driftrun-detail": row("drift_run", GET=OBJECT_READ),
    "driftschedule-list": row(GET=SIGNED_IN_ANY, POST=BODY_DECIDES),
    "driftschedule-detail": row("drift_schedule", GET=OBJECT_READ),
    # --- API: gate --------------------------------------------------------------------------------------------
    "gatecheck-list": row(POST=OBJECT_REPORT, body=ABOUT_A),
    "gatedecision-list": row(GET=SIGNED_IN_ANY),
    "gatedecision-detail": row("decision", GET=OBJECT_READ),
    "gatejwks-list": row(GET=PUBLIC),
    # --- API: reports -----------------------------------------------------------------------------------------
    "export-list": row(GET=SIGNED_IN_ANY, POST=SIGNED_IN_ANY),
    "export-detail": row("export", GET=OWN_OR_READ_ALL),
    "export-download": row("export", GET=OWN_OR_READ_ALL),
}
