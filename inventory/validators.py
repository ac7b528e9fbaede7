"""Format rules for inventory identifiers, shared by models, forms and serializers."""

from django.core.validators import RegexValidator

MODEL_KEY_PATTERN = r"^[A-Z][A-Z0-9]{0,7}-[0-9]{4,6}$"
validate_model_key = RegexValidator(
    MODEL_KEY_PATTERN,
    "A model key is an upper-case prefix of 1-8 letters or digits, a hyphen and 4-6 digits, e.g. CR-0042.",
)

KEY_PREFIX_PATTERN = r"^[A-Z][A-Z0-9]{0,7}$"
validate_key_prefix = RegexValidator(
    KEY_PREFIX_PATTERN, "A key prefix is 1-8 upper-case letters or digits, starting with a letter, e.g. CR."
)

UNIT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,29}$"
validate_unit_code = RegexValidator(
    UNIT_CODE_PATTERN, "A unit code is 1-30 upper-case letters, digits, '-' or '_', e.g. RETAIL-CARDS."
)

TAG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,49}$"
validate_tag = RegexValidator(
    TAG_PATTERN, "A tag is 1-50 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."
)

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,49}$"
validate_version_label = RegexValidator(
    VERSION_PATTERN, "A version label is 1-50 letters, digits, '.', '_', '+' or '-', e.g. 2.3.0."
)

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
validate_digest = RegexValidator(DIGEST_PATTERN, "A digest is 'sha256:' followed by 64 lower-case hex digits.")

# Long enough for any honest description, short enough that a paste of a data file is refused.
LONG_TEXT_MAX = 10_000

GIT_SHA_PATTERN = r"^[0-9a-f]{40}$"
validate_git_sha = RegexValidator(GIT_SHA_PATTERN, "A commit SHA is 40 lower-case hex digits.")

ENVIRONMENT_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,49}$"
validate_environment = RegexValidator(
    ENVIRONMENT_PATTERN,
    "An environment is 1-50 lower-case letters, digits, '.', '_' or '-', e.g. production or eu-west-prod.",
)
