"""Enumerations of the inventory. Values are stable identifiers used by the API, exports and filters."""

from django.db import models


class ModelType(models.TextChoices):
    MACHINE_LEARNING = "ml", "Machine learning"
    STATISTICAL = "statistical", "Statistical / scorecard"
    RULES = "rules", "Rules engine / expert system"
    LLM = "llm", "LLM application"
    VENDOR = "vendor", "Vendor model"


class LifecycleStage(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"


class RiskTier(models.IntegerChoices):
    """Tier 1 is the highest model risk (SR 11-7 materiality tiering)."""

    TIER_1 = 1, "Tier 1 (high)"
    TIER_2 = 2, "Tier 2 (medium)"
    TIER_3 = 3, "Tier 3 (low)"


class EUAIActCategory(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited practice (Art. 5)"
    HIGH_RISK = "high_risk", "High-risk (Annex III)"
    LIMITED = "limited", "Limited risk (transparency, Art. 50)"
    MINIMAL = "minimal", "Minimal risk"


class RegulatoryUse(models.TextChoices):
    """Regulated decisions and reports a model feeds; several can apply to one model."""

    CREDIT_DECISION = "credit_decision", "Credit decisioning (Annex III 5b)"
    REGULATORY_CAPITAL = "regulatory_capital", "Regulatory capital (IRB / Basel)"
    PROVISIONING = "provisioning", "Expected credit loss (IFRS 9 / CECL)"
    STRESS_TESTING = "stress_testing", "Stress testing (CCAR / ICAAP)"
    AML_SANCTIONS = "aml_sanctions", "AML / sanctions screening"
    FRAUD = "fraud", "Fraud detection"
    INSURANCE_PRICING = "insurance_pricing", "Life and health insurance pricing (Annex III 5c)"
    EMPLOYMENT = "employment", "Recruitment and employment (Annex III 4)"
    MARKET_RISK = "market_risk", "Market risk (VaR / FRTB)"
    VALUATION = "valuation", "Pricing and valuation"
    FINANCIAL_REPORTING = "financial_reporting", "Financial reporting"
    CONSUMER_PROTECTION = "consumer_protection", "Consumer protection / fair lending"
    NONE = "none", "No regulated use"


class DataSensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    PERSONAL = "personal", "Personal data (GDPR)"
    SPECIAL_CATEGORY = "special_category", "Special-category personal data (GDPR Art. 9)"


class VersionState(models.TextChoices):
    """Workflow states of a model version; transitions are governed by the approval workflow."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_VALIDATION = "in_validation", "In validation"
    RISK_REVIEW = "risk_review", "Risk review"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    REJECTED = "rejected", "Rejected"
    DEPLOYED = "deployed", "Deployed"
    RETIRED = "retired", "Retired"
    WITHDRAWN = "withdrawn", "Withdrawn"


# States in which a version holds a valid approval (deployed versions were approved before they went out).
APPROVAL_HOLDING_STATES = frozenset(
    {VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS, VersionState.DEPLOYED}
)


class DependencyKind(models.TextChoices):
    INPUT = "input", "Output used as an input"
    COMPONENT = "component", "Component (ensemble, challenger, sub-model)"
    FALLBACK = "fallback", "Fallback when unavailable"
    BENCHMARK = "benchmark", "Benchmark / challenger"


class ArtifactKind(models.TextChoices):
    """DevOps and MLOps evidence attached to a model version. Each kind has its own identity and format rules."""

    GIT_COMMIT = "git_commit", "Git commit"
    PULL_REQUEST = "pull_request", "Pull request"
    CI_RUN = "ci_run", "CI pipeline run"
    CONTAINER_IMAGE = "container_image", "Container image"
    DEPLOYMENT = "deployment", "Deployment"
    EXPERIMENT_RUN = "experiment_run", "Experiment run"
    DATASET_VERSION = "dataset_version", "Dataset version"
    MODEL_FILE = "model_file", "Model file"
    DOCUMENT = "document", "Document"


class DeploymentStatus(models.TextChoices):
    """What a pipeline reports happened when it deployed a version to an environment."""

    SUCCEEDED = "succeeded", "Running"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class ExternalModelStatus(models.TextChoices):
    """Triage state of a model found in an external registry (MLflow)."""

    UNREGISTERED = "unregistered", "Not in the inventory"
    LINKED = "linked", "Linked to an inventory model"
    IGNORED = "ignored", "Ignored (not a governed model)"
