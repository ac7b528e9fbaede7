"""Northwind Bank as data: its business units, its people and who owns and validates models where.

Units and people are identified by their natural keys (unit codes, usernames), so the seed command can tell
what already exists. Owners come only from the Model Owner role and validators only from the Validator role,
which keeps validation independent of ownership by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import roles

BANK_NAME = "Northwind Bank"
EMAIL_DOMAIN = "northwind-bank.example"


@dataclass(frozen=True)
class UnitSpec:
    """A business unit; ``parent`` is the parent's code, ``head`` the head's username."""

    code: str
    name: str
    parent: str | None
    key_prefix: str
    description: str
    head: str | None = None


@dataclass(frozen=True)
class PersonSpec:
    """A person or service account; ``login`` marks the demo logins that get the printed demo password."""

    username: str
    first_name: str
    last_name: str
    title: str
    unit: str
    role: str
    login: bool = False
    service_account: bool = False
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("NWB", "Northwind Bank Group", None, "GRP", "The group: retail and commercial bank and insurer."),
    UnitSpec("RETAIL", "Retail Banking", "NWB", "RB", "Current accounts, cards, loans, mortgages and savings."),
    UnitSpec(
        "RETAIL-CREDIT",
        "Retail Credit Risk",
        "RETAIL",
        "CR",
        "Application and behavioural scoring, IRB models and credit policy for personal lending.",
        head="victoria.hale",
    ),
    UnitSpec(
        "RETAIL-CARDS",
        "Cards & Payments",
        "RETAIL",
        "CC",
        "Credit cards: acquisition, limits, pricing.",
        "sofia.marchetti",
    ),
    UnitSpec(
        "RETAIL-MORTGAGES", "Mortgages", "RETAIL", "MTG", "Residential and buy-to-let mortgages.", "james.oconnor"
    ),
    UnitSpec(
        "RETAIL-DEPOSITS", "Savings & Deposits", "RETAIL", "DEP", "Savings products and deposit pricing.", "priya.nair"
    ),
    UnitSpec(
        "RETAIL-OPS",
        "Customer Operations",
        "RETAIL",
        "CS",
        "Contact centres, complaints handling and customer onboarding.",
        head="aisha.rahman",
    ),
    UnitSpec("COMMERCIAL", "Commercial Banking", "NWB", "CB", "Lending and transaction banking for businesses."),
    UnitSpec(
        "COMMERCIAL-SME",
        "Business Banking & SME Lending",
        "COMMERCIAL",
        "SME",
        "Sole traders, partnerships and small companies.",
        head="lukas.becker",
    ),
    UnitSpec(
        "COMMERCIAL-CORP",
        "Corporate & Institutional Banking",
        "COMMERCIAL",
        "CIB",
        "Large corporates, real estate, project finance and financial institutions.",
        head="meilin.tan",
    ),
    UnitSpec("TREASURY", "Treasury & Markets", "NWB", "TM", "Balance-sheet management and trading."),
    UnitSpec(
        "TREASURY-ALM",
        "Asset & Liability Management",
        "TREASURY",
        "ALM",
        "Interest-rate risk in the banking book, liquidity and funds transfer pricing.",
        head="daniel.mensah",
    ),
    UnitSpec("MARKETS", "Markets & Trading", "TREASURY", "MKT", "Rates, FX and credit trading.", "elena.petrova"),
    UnitSpec("RISK", "Group Risk Management", "NWB", "RSK", "Second line of defence: risk oversight and policy."),
    UnitSpec(
        "RISK-MRM",
        "Model Risk Management & Validation",
        "RISK",
        "MRM",
        "Model risk policy, inventory, tiering and independent validation (SR 11-7, EU AI Act).",
        head="risk.officer",
    ),
    UnitSpec(
        "RISK-CREDIT-PORTFOLIO",
        "Credit Portfolio Risk & IFRS 9",
        "RISK",
        "ECL",
        "Expected credit loss, economic capital and portfolio concentration.",
        head="rahul.iyer",
    ),
    UnitSpec(
        "RISK-ENTERPRISE",
        "Enterprise Risk & Stress Testing",
        "RISK",
        "ST",
        "ICAAP, regulatory stress tests, operational and climate risk.",
        head="claire.dubois",
    ),
    UnitSpec("FINCRIME", "Financial Crime Compliance", "NWB", "FC", "Anti-money laundering, sanctions and fraud."),
    UnitSpec(
        "FINCRIME-AML",
        "AML Transaction Monitoring",
        "FINCRIME",
        "AML",
        "Transaction monitoring, customer risk rating and investigations.",
        head="samuel.adeyemi",
    ),
    UnitSpec(
        "FINCRIME-SANCTIONS",
        "Sanctions & Screening",
        "FINCRIME",
        "SAN",
        "Name, payment, PEP and adverse-media screening.",
        head="ingrid.larsen",
    ),
    UnitSpec(
        "FINCRIME-FRAUD",
        "Fraud Prevention",
        "FINCRIME",
        "FR",
        "Card, payments, application and scam fraud.",
        head="carlos.mendes",
    ),
    UnitSpec("INSURANCE", "Northwind Insurance", "NWB", "INS", "General, life and health insurance."),
    UnitSpec(
        "INSURANCE-PRICING",
        "Pricing & Underwriting",
        "INSURANCE",
        "PRC",
        "Technical pricing and underwriting for motor, home, pet, life and health.",
        head="fiona.macleod",
    ),
    UnitSpec(
        "INSURANCE-CLAIMS", "Claims", "INSURANCE", "CLM", "Claims handling, reserving and claims fraud.", "yusuf.demir"
    ),
    UnitSpec(
        "MARKETING",
        "Marketing & Customer Analytics",
        "NWB",
        "MK",
        "Campaigns, customer analytics and next-best-action.",
        head="laura.schmidt",
    ),
    UnitSpec("HR", "Human Resources", "NWB", "HR", "Recruitment, workforce planning and reward.", "grace.nakamura"),
    UnitSpec("TECH", "Technology & Data", "NWB", "IT", "Engineering, data platforms and MLOps."),
    UnitSpec(
        "TECH-AI", "AI Platform", "TECH", "AI", "Shared AI services: LLM gateway, embeddings, OCR.", "arjun.patel"
    ),
    UnitSpec("AUDIT", "Internal Audit", "NWB", "IA", "Third line of defence.", head="helen.achterberg"),
)

MO, VA, RO, AU, CI, AD = (
    roles.MODEL_OWNER,
    roles.VALIDATOR,
    roles.RISK_OFFICER,
    roles.AUDITOR,
    roles.CI_SERVICE,
    roles.ADMIN,
)

PEOPLE: tuple[PersonSpec, ...] = (
    # The administrator is the actor that creates the units everyone else belongs to.
    PersonSpec("admin", "Oliver", "Grant", "Portal Administrator", "TECH", AD, login=True, superuser=True),
    PersonSpec("maria.santos", "Maria", "Santos", "MLOps Platform Engineer", "TECH", AD),
    # Second line: model risk management and validation.
    PersonSpec("risk.officer", "Margaret", "Whitfield", "Head of Model Risk Management", "RISK-MRM", RO, login=True),
    PersonSpec("ravi.shankar", "Ravi", "Shankar", "Model Risk Officer", "RISK-MRM", RO),
    PersonSpec("sarah.goldberg", "Sarah", "Goldberg", "AI Governance Officer", "RISK", RO),
    PersonSpec("validator", "Nadia", "Haddad", "Senior Model Validator", "RISK-MRM", VA, login=True),
    PersonSpec("peter.lindqvist", "Peter", "Lindqvist", "Head of Model Validation", "RISK-MRM", VA),
    PersonSpec("olga.ivanova", "Olga", "Ivanova", "Quantitative Model Validator", "RISK-MRM", VA),
    PersonSpec("kwame.boateng", "Kwame", "Boateng", "AI and Machine Learning Validator", "RISK-MRM", VA),
    PersonSpec("emily.chen", "Emily", "Chen", "Market Risk Model Validator", "RISK-MRM", VA),
    # Third line.
    PersonSpec("auditor", "Robert", "Kowalski", "Senior Auditor, Models and Data", "AUDIT", AU, login=True),
    PersonSpec("helen.achterberg", "Helen", "Achterberg", "Audit Manager, Technology and Models", "AUDIT", AU),
    # First line: model owners.
    PersonSpec("victoria.hale", "Victoria", "Hale", "Head of Retail Credit Risk", "RETAIL-CREDIT", MO),
    PersonSpec("model.owner", "Hannah", "Okafor", "Lead Credit Risk Modeller", "RETAIL-CREDIT", MO, login=True),
    PersonSpec("tomasz.wisniewski", "Tomasz", "Wiśniewski", "Senior Credit Risk Modeller", "RETAIL-CREDIT", MO),
    PersonSpec("sofia.marchetti", "Sofia", "Marchetti", "Head of Cards Decision Science", "RETAIL-CARDS", MO),
    PersonSpec("james.oconnor", "James", "O'Connor", "Mortgage Risk Modelling Manager", "RETAIL-MORTGAGES", MO),
    PersonSpec("priya.nair", "Priya", "Nair", "Head of Savings Pricing", "RETAIL-DEPOSITS", MO),
    PersonSpec("aisha.rahman", "Aisha", "Rahman", "Head of Contact Centre Innovation", "RETAIL-OPS", MO),
    PersonSpec("lukas.becker", "Lukas", "Becker", "SME Credit Modelling Lead", "COMMERCIAL-SME", MO),
    PersonSpec("meilin.tan", "Mei Lin", "Tan", "Head of Wholesale Credit Ratings", "COMMERCIAL-CORP", MO),
    PersonSpec("daniel.mensah", "Daniel", "Mensah", "Head of ALM Modelling", "TREASURY-ALM", MO),
    PersonSpec("elena.petrova", "Elena", "Petrova", "Head of Front-Office Quantitative Analytics", "MARKETS", MO),
    PersonSpec("rahul.iyer", "Rahul", "Iyer", "IFRS 9 Modelling Lead", "RISK-CREDIT-PORTFOLIO", MO),
    PersonSpec("claire.dubois", "Claire", "Dubois", "Stress Testing Lead", "RISK-ENTERPRISE", MO),
    PersonSpec("samuel.adeyemi", "Samuel", "Adeyemi", "Head of AML Analytics", "FINCRIME-AML", MO),
    PersonSpec("ingrid.larsen", "Ingrid", "Larsen", "Sanctions Screening Manager", "FINCRIME-SANCTIONS", MO),
    PersonSpec("carlos.mendes", "Carlos", "Mendes", "Head of Fraud Analytics", "FINCRIME-FRAUD", MO),
    PersonSpec("fiona.macleod", "Fiona", "MacLeod", "Chief Pricing Actuary", "INSURANCE-PRICING", MO),
    PersonSpec("yusuf.demir", "Yusuf", "Demir", "Claims Analytics Manager", "INSURANCE-CLAIMS", MO),
    PersonSpec("laura.schmidt", "Laura", "Schmidt", "Head of Customer Analytics", "MARKETING", MO),
    PersonSpec("grace.nakamura", "Grace", "Nakamura", "HR Analytics Lead", "HR", MO),
    PersonSpec("arjun.patel", "Arjun", "Patel", "Head of AI Platform", "TECH-AI", MO),
    # Service accounts: pipelines and tools, API tokens only.
    PersonSpec(
        "ci-jenkins", "Jenkins", "pipelines", "Service account: model build pipelines", "TECH", CI, service_account=True
    ),
    PersonSpec(
        "ci-gitlab", "GitLab", "CI", "Service account: GitLab CI for LLM applications", "TECH", CI, service_account=True
    ),
    PersonSpec(
        "mlflow-sync",
        "MLflow",
        "sync",
        "Service account: MLflow registry synchronisation",
        "TECH",
        CI,
        service_account=True,
    ),
)

# The logins printed by the seed command, one per role, in the order they are listed.
DEMO_LOGINS: tuple[str, ...] = ("risk.officer", "model.owner", "validator", "auditor", "admin", "ci-jenkins")
PIPELINE_ACCOUNT = "ci-jenkins"
PIPELINE_ACCESS_NAME = "Jenkins model build pipelines (demo)"
# Registers the legacy inventory in the portal: the bank's head of model risk.
REGISTRAR = "risk.officer"

# unit code -> (business owner, technical owners). Technical ownership rotates through the list in catalogue
# order, so the model.owner login owns about half of Retail Credit Risk's models and nothing else.
OWNERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "RETAIL-CREDIT": ("victoria.hale", ("model.owner", "tomasz.wisniewski")),
    "RETAIL-CARDS": ("sofia.marchetti", ("sofia.marchetti",)),
    "RETAIL-MORTGAGES": ("james.oconnor", ("james.oconnor", "tomasz.wisniewski")),
    "RETAIL-DEPOSITS": ("priya.nair", ("daniel.mensah", "priya.nair")),
    "RETAIL-OPS": ("aisha.rahman", ("arjun.patel", "aisha.rahman")),
    "COMMERCIAL-SME": ("lukas.becker", ("lukas.becker",)),
    "COMMERCIAL-CORP": ("meilin.tan", ("meilin.tan", "lukas.becker")),
    "TREASURY-ALM": ("daniel.mensah", ("daniel.mensah",)),
    "MARKETS": ("elena.petrova", ("elena.petrova",)),
    "RISK-CREDIT-PORTFOLIO": ("rahul.iyer", ("rahul.iyer",)),
    "RISK-ENTERPRISE": ("claire.dubois", ("claire.dubois", "rahul.iyer")),
    "FINCRIME-AML": ("samuel.adeyemi", ("samuel.adeyemi",)),
    "FINCRIME-SANCTIONS": ("ingrid.larsen", ("ingrid.larsen", "samuel.adeyemi")),
    "FINCRIME-FRAUD": ("carlos.mendes", ("carlos.mendes",)),
    "INSURANCE-PRICING": ("fiona.macleod", ("fiona.macleod",)),
    "INSURANCE-CLAIMS": ("yusuf.demir", ("yusuf.demir", "fiona.macleod")),
    "MARKETING": ("laura.schmidt", ("laura.schmidt",)),
    "HR": ("grace.nakamura", ("grace.nakamura", "arjun.patel")),
    "TECH-AI": ("arjun.patel", ("arjun.patel",)),
}

# Validation teams by domain; LLM applications always go to the AI validators, whatever their unit.
VALIDATOR_POOLS: dict[str, tuple[str, ...]] = {
    "credit": ("validator", "olga.ivanova", "peter.lindqvist"),
    "market": ("emily.chen", "peter.lindqvist"),
    "fincrime": ("olga.ivanova", "kwame.boateng", "validator"),
    "insurance": ("emily.chen", "olga.ivanova"),
    "ai": ("kwame.boateng", "validator"),
}
UNIT_VALIDATOR_POOL: dict[str, str] = {
    "RETAIL-CREDIT": "credit",
    "RETAIL-CARDS": "credit",
    "RETAIL-MORTGAGES": "credit",
    "RETAIL-DEPOSITS": "market",
    "RETAIL-OPS": "ai",
    "COMMERCIAL-SME": "credit",
    "COMMERCIAL-CORP": "credit",
    "TREASURY-ALM": "market",
    "MARKETS": "market",
    "RISK-CREDIT-PORTFOLIO": "credit",
    "RISK-ENTERPRISE": "credit",
    "FINCRIME-AML": "fincrime",
    "FINCRIME-SANCTIONS": "fincrime",
    "FINCRIME-FRAUD": "fincrime",
    "INSURANCE-PRICING": "insurance",
    "INSURANCE-CLAIMS": "insurance",
    "MARKETING": "ai",
    "HR": "ai",
    "TECH-AI": "ai",
}
