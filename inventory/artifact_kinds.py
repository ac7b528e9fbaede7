"""What each kind of artifact carries, how its fields are checked, and the canonical identity that makes
ingestion idempotent.

Pure: plain data in, plain data out, no database. The ingestion service, the API's schema and the MLflow import
all read the same table (``KINDS``), so a field is described, checked and documented in exactly one place.

:func:`normalise` takes a kind and the fields a pipeline sent and returns a :class:`NormalisedArtifact` (the
fields in canonical form, the identity, and the name, URI and digest stored on the record), or raises Django's
``ValidationError`` with a message per offending field. Deployments are described here too, so the artifacts
endpoint can check them the same way, but they are stored as ``Deployment`` records, not artifacts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from inventory.choices import ArtifactKind, DeploymentStatus

URI_MAX = 2000
TEXT_MAX = 500
MAP_MAX_ENTRIES = 200
MAP_KEY_MAX = 250
MAP_VALUE_MAX = 5000
IDENTITY_MAX = 600
NAME_MAX = 300

_SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-fA-F]{64}$", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.+)$")
_HOST_PATH_RE = re.compile(
    r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?)/(?P<path>[\w.~-]+(?:/[\w.~-]+)*)$"
)
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
_ENVIRONMENT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
# An OCI image reference: [registry[:port]/]path[:tag][@digest], path components in lower case.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_RE = re.compile(
    rf"^(?P<name>(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-fA-F]{64}))?$"
)
# Schemes that run code when a browser follows them; never stored as a link, whatever the field.
_DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript", "blob", "about"})
_http_url = URLValidator(schemes=["http", "https"])

DOCUMENT_TYPES = ("model_card", "validation_report", "other")


class FieldProblem(Exception):
    """A value a field check refuses; the message says what was expected."""


# --- field checks: each takes the raw JSON value and returns it in canonical form --------------------------------


def text(max_length: int = TEXT_MAX) -> Callable[[Any], str]:
    """Non-empty text of at most ``max_length`` characters (numbers are accepted and kept as text)."""

    def check(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise FieldProblem("Give text.")
        value = str(value).strip()
        if not value:
            raise FieldProblem("May not be blank.")
        if len(value) > max_length:
            raise FieldProblem(f"At most {max_length} characters (got {len(value)}).")
        return value

    return check


def git_sha(value: Any) -> str:
    """A full commit SHA: 40 hex digits, stored in lower case."""
    if not isinstance(value, str) or not _SHA_RE.match(value.strip()):
        raise FieldProblem("A commit SHA is 40 hex digits (the full SHA, not an abbreviation).")
    return value.strip().lower()


def digest(value: Any) -> str:
    """A content digest: ``sha256:`` and 64 hex digits, stored in lower case."""
    if not isinstance(value, str) or not _DIGEST_RE.match(value.strip()):
        raise FieldProblem("A digest is 'sha256:' followed by 64 hex digits.")
    return value.strip().lower()


def sha256_hex(value: Any) -> str:
    """A bare SHA-256 (64 hex digits), turned into a ``sha256:`` digest."""
    if not isinstance(value, str) or not _HEX64_RE.match(value.strip()):
        raise FieldProblem("A SHA-256 is 64 hex digits.")
    return f"sha256:{value.strip().lower()}"


def http_url(value: Any) -> str:
    """An http(s) URL (Django's URLValidator), without user credentials in it."""
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem("Give an http(s) URL.")
    value = value.strip()
    if len(value) > URI_MAX:
        raise FieldProblem(f"At most {URI_MAX} characters.")
    try:
        _http_url(value)
    except ValidationError:
        raise FieldProblem("Give an http(s) URL, e.g. https://ci.example.com/runs/42.") from None
    if urlsplit(value).username is not None:
        raise FieldProblem("Leave credentials out of the URL: it is stored and shown to others.")
    return value


def uri(value: Any) -> str:
    """Any URI with a scheme (``s3://``, ``gs://``, ``dbfs:/``, ``file:///``, ``https://``), no spaces, no
    credentials, and never a scheme a browser would run (``javascript:``, ``data:``)."""
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem("Give a URI with a scheme, e.g. s3://bucket/path.")
    value = value.strip()
    if len(value) > URI_MAX:
        raise FieldProblem(f"At most {URI_MAX} characters.")
    match = _SCHEME_RE.match(value)
    if not match or any(char.isspace() for char in value):
        raise FieldProblem("Give a URI with a scheme and no spaces, e.g. s3://bucket/path.")
    scheme = match.group(1).lower()
    if scheme in _DANGEROUS_SCHEMES:
        raise FieldProblem(f"{scheme}: URIs are not accepted.")
    if scheme in {"http", "https"}:
        return http_url(value)
    if urlsplit(value).password is not None:
        raise FieldProblem("Leave credentials out of the URI: it is stored and shown to others.")
    return value


def repository(value: Any) -> str:
    """A source repository as ``host/path`` (``github.com/org/repo``), from that form or an http(s) URL.

    The scheme, credentials, a trailing ``.git`` and slashes are dropped and the host is lower-cased, so the
    same repository named two ways is one identity, and a CI variable holding a token never reaches the record.
    """
    message = "Give the repository as an http(s) URL or host/path, e.g. github.com/org/repo."
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem(message)
    value = value.strip()
    if len(value) > URI_MAX:
        raise FieldProblem(f"At most {URI_MAX} characters.")
    if "://" in value:
        try:
            _http_url(value)
        except ValidationError:
            raise FieldProblem(message) from None
        parts = urlsplit(value)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        value = f"{host}{parts.path}"
    value = value.rstrip("/")
    value = value.removesuffix(".git").rstrip("/")
    match = _HOST_PATH_RE.match(value)
    if not match:
        raise FieldProblem(message)
    return f"{match.group('host').lower()}/{match.group('path')}"


def positive_int(value: Any) -> int:
    """A whole number above zero (a decimal string such as ``"42"`` is accepted)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 2**63 - 1:
        raise FieldProblem("Give a positive whole number.")
    return value


def slug(value: Any) -> str:
    """A short lower-case name such as ``github-actions`` (upper case is lowered)."""
    if not isinstance(value, str) or not _SLUG_RE.match(value.strip().lower()):
        raise FieldProblem("1-50 lower-case letters, digits, '.', '_' or '-', e.g. github-actions.")
    return value.strip().lower()


def one_of(*choices: str) -> Callable[[Any], str]:
    """One of the given values."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise FieldProblem(f"Give one of: {', '.join(choices)}.")
        return value

    return check


def environment(value: Any) -> str:
    """A deployment environment (``production``, ``eu-west-prod``), lower-cased."""
    if not isinstance(value, str) or not _ENVIRONMENT_RE.match(value.strip().lower()):
        raise FieldProblem("1-50 lower-case letters, digits, '.', '_' or '-', e.g. production or eu-west-prod.")
    return value.strip().lower()


def image_reference(value: Any) -> str:
    """A container image reference, ``registry/repository[:tag]`` (a pinned ``@sha256:...`` is allowed)."""
    if not isinstance(value, str) or len(value.strip()) > URI_MAX or not _IMAGE_RE.match(value.strip()):
        raise FieldProblem("Give an image reference such as registry.example.com/team/app:1.4.2.")
    return value.strip()


def metrics(value: Any) -> dict[str, float | int]:
    """An object of metric name → finite number."""
    if not isinstance(value, Mapping):
        raise FieldProblem("Give an object of metric name: number.")
    if len(value) > MAP_MAX_ENTRIES:
        raise FieldProblem(f"At most {MAP_MAX_ENTRIES} metrics.")
    bad = sorted(
        str(name)
        for name, number in value.items()
        if not isinstance(name, str)
        or not name
        or len(name) > MAP_KEY_MAX
        or isinstance(number, bool)
        or not isinstance(number, int | float)
        or not math.isfinite(number)
    )
    if bad:
        raise FieldProblem(f"Metric values must be finite numbers: {', '.join(bad)}.")
    return dict(value)


def string_map(value: Any) -> dict[str, str]:
    """An object of name → text (tags, parameters)."""
    if not isinstance(value, Mapping):
        raise FieldProblem("Give an object of name: text.")
    if len(value) > MAP_MAX_ENTRIES:
        raise FieldProblem(f"At most {MAP_MAX_ENTRIES} entries.")
    bad = sorted(
        str(name)
        for name, item in value.items()
        if not isinstance(name, str)
        or not name
        or len(name) > MAP_KEY_MAX
        or not isinstance(item, str)
        or len(item) > MAP_VALUE_MAX
    )
    if bad:
        raise FieldProblem(
            f"Names of up to {MAP_KEY_MAX} and text values of up to {MAP_VALUE_MAX} characters: {', '.join(bad)}."
        )
    return dict(value)


def iso_datetime(value: Any) -> str:
    """An ISO 8601 date-time, kept as the text given (the deployment service parses and checks it)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise FieldProblem("Give an ISO 8601 date-time, e.g. 2026-06-30T12:00:00Z.")
    return value.strip()


def json_object(value: Any) -> dict[str, Any]:
    """Any JSON object (free metadata)."""
    if not isinstance(value, Mapping):
        raise FieldProblem("Give a JSON object.")
    return dict(value)


# --- the kinds ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind: whether it is required, how it is checked, and how the schema shows it."""

    name: str
    check: Callable[[Any], Any]
    required: bool = False
    help: str = ""
    json_type: str = "string"  # "string", "integer", "metrics", "string_map", "object"
    example: Any = None


@dataclass(frozen=True)
class KindSpec:
    """A kind of artifact: its fields and how the identity, name, URI and digest follow from them."""

    kind: str
    description: str
    fields: tuple[FieldSpec, ...]
    identity: Callable[[Mapping[str, Any]], str]
    name: Callable[[Mapping[str, Any]], str]
    uri: Callable[[Mapping[str, Any]], str] = lambda data: ""
    digest: Callable[[Mapping[str, Any]], str] = lambda data: str(data.get("digest", ""))
    # Pairs (alias, field): the alias is accepted instead of the field and folded into it.
    aliases: tuple[tuple[str, str], ...] = ()
    # Checks across fields, once each field passed its own: field name -> messages.
    consistency: Callable[[Mapping[str, Any]], dict[str, list[str]]] = lambda fields: {}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    def example(self) -> dict[str, Any]:
        """A valid body of this kind, for the API documentation."""
        return {spec.name: spec.example for spec in self.fields if spec.example is not None}


@dataclass(frozen=True)
class NormalisedArtifact:
    """The fields of a report in canonical form and what the record stores from them."""

    kind: str
    identity: str
    name: str
    uri: str
    digest: str
    fields: dict[str, Any] = field(default_factory=dict)


def _tail(value: str) -> str:
    """The last path segment of a URI or repository, for short labels."""
    return value.rstrip("/").rsplit("/", 1)[-1] or value


def _pinned_digest_matches(fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """An image reference pinned by digest (``app@sha256:...``) must name the digest reported with it."""
    match = _IMAGE_RE.match(fields.get("reference", ""))
    pinned = match.group("digest") if match else None
    if pinned and fields.get("digest") and pinned.lower() != fields["digest"]:
        return {"reference": ["Pinned to a digest other than the one given in digest."]}
    return {}


TAGS = FieldSpec(
    "tags",
    string_map,
    help="Free labels kept with the record (name: text), e.g. MLflow tags.",
    json_type="string_map",
)
SHA_EXAMPLE = "3f786850e387550fdab836ed7e6dc881de23001b"
DIGEST_EXAMPLE = "sha256:" + "a" * 64

KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            ArtifactKind.GIT_COMMIT.value,
            "A commit the version was built from. Identity: `repository@sha`.",
            (
                FieldSpec(
                    "repository", repository, True, "http(s) URL or host/path.", example="github.com/bank/pd-model"
                ),
                FieldSpec("sha", git_sha, True, "The full 40-hex-digit commit SHA.", example=SHA_EXAMPLE),
                FieldSpec("message", text(10_000), help="Commit message."),
                FieldSpec("author", text(200), help="Commit author."),
                FieldSpec("url", http_url, help="Link to the commit."),
                TAGS,
            ),
            identity=lambda d: f"{d['repository']}@{d['sha']}",
            name=lambda d: f"{_tail(d['repository'])}@{d['sha'][:12]}",
            uri=lambda d: d.get("url", ""),
            digest=lambda d: "",
        ),
        KindSpec(
            ArtifactKind.PULL_REQUEST.value,
            "A pull or merge request. Identity: `repository#number`.",
            (
                FieldSpec(
                    "repository", repository, True, "http(s) URL or host/path.", example="github.com/bank/pd-model"
                ),
                FieldSpec("number", positive_int, True, "The request's number.", "integer", example=128),
                FieldSpec(
                    "url", http_url, True, "Link to the request.", example="https://github.com/bank/pd-model/pull/128"
                ),
                FieldSpec("title", text(500), help="Title."),
                FieldSpec("merged_sha", git_sha, help="The merge commit's full SHA."),
                TAGS,
            ),
            identity=lambda d: f"{d['repository']}#{d['number']}",
            name=lambda d: f"#{d['number']} {d.get('title', _tail(d['repository']))}"[:NAME_MAX],
            uri=lambda d: d["url"],
            digest=lambda d: "",
        ),
        KindSpec(
            ArtifactKind.CI_RUN.value,
            "A CI/CD pipeline run. Identity: `system:run_id`.",
            (
                FieldSpec("system", slug, True, "github-actions, gitlab-ci, jenkins...", example="github-actions"),
                FieldSpec(
                    "url", http_url, True, "Link to the run.", example="https://github.com/bank/pd-model/actions/runs/9"
                ),
                FieldSpec("run_id", text(200), True, "The CI system's run id.", example="9"),
                FieldSpec("actor", text(200), True, "Who or what triggered the run.", example="jdoe"),
                FieldSpec("status", text(50), help="How the run ended, in the CI system's words."),
                FieldSpec("commit_sha", git_sha, help="The commit the run built."),
                TAGS,
            ),
            identity=lambda d: f"{d['system']}:{d['run_id']}",
            name=lambda d: f"{d['system']} run {d['run_id']}"[:NAME_MAX],
            uri=lambda d: d["url"],
            digest=lambda d: "",
        ),
        KindSpec(
            ArtifactKind.CONTAINER_IMAGE.value,
            "A container image. Identity: the digest.",
            (
                FieldSpec(
                    "reference",
                    image_reference,
                    True,
                    "registry/repository[:tag].",
                    example="registry.bank.example/risk/pd-model:2.3.0",
                ),
                FieldSpec("digest", digest, True, "sha256:<64 hex> of the image manifest.", example=DIGEST_EXAMPLE),
                TAGS,
            ),
            identity=lambda d: d["digest"],
            name=lambda d: d["reference"][:NAME_MAX],
            uri=lambda d: d["reference"],
            consistency=_pinned_digest_matches,
        ),
        KindSpec(
            ArtifactKind.EXPERIMENT_RUN.value,
            "An experiment-tracking run (MLflow...). Identity: `tracking_uri#run_id`.",
            (
                FieldSpec(
                    "tracking_uri",
                    uri,
                    True,
                    "The tracking server (URI with a scheme).",
                    example="https://mlflow.bank.example",
                ),
                FieldSpec("run_id", text(200), True, "The run's id.", example="5f0c2a9e8d7b4c1a"),
                FieldSpec("experiment", text(500), help="Experiment name or id."),
                FieldSpec(
                    "metrics", metrics, help="Metric name: finite number.", json_type="metrics", example={"auc": 0.81}
                ),
                FieldSpec("params", string_map, help="Parameter name: text.", json_type="string_map"),
                TAGS,
            ),
            identity=lambda d: f"{d['tracking_uri']}#{d['run_id']}",
            name=lambda d: (f"{d['experiment']} / {d['run_id']}" if d.get("experiment") else f"run {d['run_id']}")[
                :NAME_MAX
            ],
            uri=lambda d: d["tracking_uri"],
            digest=lambda d: "",
        ),
        KindSpec(
            ArtifactKind.DATASET_VERSION.value,
            "A version of a dataset (training, evaluation). Identity: `uri@digest`.",
            (
                FieldSpec(
                    "uri", uri, True, "Where the data lives (URI with a scheme).", example="s3://risk-data/pd/2026-06/"
                ),
                FieldSpec("digest", digest, True, "sha256:<64 hex> of the data.", example=DIGEST_EXAMPLE),
                TAGS,
            ),
            identity=lambda d: f"{d['uri']}@{d['digest']}",
            name=lambda d: _tail(d["uri"])[:NAME_MAX],
            uri=lambda d: d["uri"],
        ),
        KindSpec(
            ArtifactKind.MODEL_FILE.value,
            "A serialised model. Identity: `uri@digest`. `sha256` (64 hex) is accepted instead of `digest`.",
            (
                FieldSpec(
                    "uri",
                    uri,
                    True,
                    "Where the file lives (URI with a scheme).",
                    example="s3://models/pd/2.3.0/model.pkl",
                ),
                FieldSpec("digest", digest, True, "sha256:<64 hex> of the file.", example=DIGEST_EXAMPLE),
                TAGS,
            ),
            identity=lambda d: f"{d['uri']}@{d['digest']}",
            name=lambda d: _tail(d["uri"])[:NAME_MAX],
            uri=lambda d: d["uri"],
            aliases=(("sha256", "digest"),),
        ),
        KindSpec(
            ArtifactKind.DOCUMENT.value,
            "A model card, validation report or other document. Identity: the URL.",
            (
                FieldSpec(
                    "document_type", one_of(*DOCUMENT_TYPES), True, ", ".join(DOCUMENT_TYPES), example="model_card"
                ),
                FieldSpec(
                    "uri", http_url, True, "http(s) URL of the document.", example="https://docs.bank.example/pd/card"
                ),
                FieldSpec("title", text(300), True, "Title.", example="PD scorecard model card"),
                FieldSpec("digest", digest, help="sha256:<64 hex> of the document."),
                TAGS,
            ),
            identity=lambda d: d["uri"],
            name=lambda d: d["title"][:NAME_MAX],
            uri=lambda d: d["uri"],
        ),
        KindSpec(
            ArtifactKind.DEPLOYMENT.value,
            "A deployment, stored as a deployment record (see /api/v1/deployments/), not as an artifact. "
            "Identity: `environment#external_id`, or `environment@digest` without an external id.",
            (
                FieldSpec(
                    "environment", environment, True, "production, staging, eu-west-prod...", example="production"
                ),
                FieldSpec("digest", digest, True, "sha256:<64 hex> of what was deployed.", example=DIGEST_EXAMPLE),
                FieldSpec("target", text(300), help="Cluster, namespace, endpoint or host."),
                FieldSpec("status", one_of(*DeploymentStatus.values), help=", ".join(DeploymentStatus.values)),
                FieldSpec("deployed_at", iso_datetime, help="When; now when left out."),
                FieldSpec("external_id", text(200), help="The pipeline's deployment id: re-reports update it."),
                FieldSpec("decision_id", text(64), help="Id of the gate decision the pipeline cited."),
                FieldSpec("metadata", json_object, help="Anything else worth keeping.", json_type="object"),
            ),
            identity=lambda d: (
                f"{d['environment']}#{d['external_id']}"
                if d.get("external_id")
                else f"{d['environment']}@{d['digest']}"
            ),
            name=lambda d: f"{d['environment']} {d.get('target', '')}".strip()[:NAME_MAX],
            digest=lambda d: d["digest"],
        ),
    )
}

KIND_NAMES = tuple(KINDS)


def kind_spec(kind: Any) -> KindSpec:
    """The spec of ``kind``, or a ``ValidationError`` on ``kind`` naming the kinds there are."""
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise ValidationError({"kind": [f"Unknown kind {kind!r}. Give one of: {', '.join(KIND_NAMES)}."]})
    return spec


def check_fields(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a report of ``kind`` in canonical form; every refused field is named in one error."""
    spec = kind_spec(kind)
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": ["Give the artifact's fields as an object."]})
    data = dict(data)
    errors: dict[str, list[str]] = {}
    for alias, target in spec.aliases:
        if alias in data:
            value = data.pop(alias)
            try:
                converted = sha256_hex(value)
            except FieldProblem as problem:
                errors[alias] = [str(problem)]
                continue
            if target in data and isinstance(data[target], str) and data[target].strip().lower() != converted:
                errors[alias] = [f"Differs from {target}; give one of the two."]
            data.setdefault(target, converted)
    allowed = spec.field_names + tuple(alias for alias, _ in spec.aliases)
    for name in sorted(set(data) - set(spec.field_names), key=str):
        errors[str(name)] = [f"Unknown field for kind {spec.kind}. Its fields are: {', '.join(allowed)}."]
    cleaned: dict[str, Any] = {}
    for field_spec in spec.fields:
        value = data.get(field_spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field_spec.required:
                errors.setdefault(field_spec.name, []).append("This field is required.")
            continue
        try:
            cleaned[field_spec.name] = field_spec.check(value)
        except FieldProblem as problem:
            errors.setdefault(field_spec.name, []).append(str(problem))
    if not errors:
        errors = spec.consistency(cleaned)
    if errors:
        raise ValidationError(errors)
    return cleaned


def describe(kind: str, fields: Mapping[str, Any]) -> NormalisedArtifact:
    """Identity, name, URI and digest of checked, canonical ``fields`` (as :func:`check_fields` returns them)."""
    spec = kind_spec(kind)
    identity = spec.identity(fields)
    if len(identity) > IDENTITY_MAX:
        raise ValidationError(
            {"non_field_errors": [f"The identity ({identity[:60]}...) is over {IDENTITY_MAX} characters."]}
        )
    return NormalisedArtifact(
        kind=spec.kind,
        identity=identity,
        name=spec.name(fields),
        uri=spec.uri(fields),
        digest=spec.digest(fields),
        fields=dict(fields),
    )


def normalise(kind: str, data: Mapping[str, Any]) -> NormalisedArtifact:
    """Check a report of ``kind`` and give it in canonical form with its identity."""
    return describe(kind, check_fields(kind, data))
