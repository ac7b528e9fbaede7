"""A read-only client of the MLflow tracking server's REST API (``/api/2.0/mlflow/...``), on the standard library.

It reads registered models, their versions and the runs behind them, follows ``page_token`` pagination and
returns plain frozen dataclasses. Every failure (server unreachable, timeout, HTTP error, an answer that is
not the JSON MLflow sends) becomes one :class:`MlflowError` whose message names the URL and the problem, so a
command or a task can report it as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

API_PREFIX = "/api/2.0/mlflow"
DEFAULT_TIMEOUT = 10.0
# MLflow caps a registered-model page at 1000 rows and a model-version page lower; 100 is accepted by both.
PAGE_SIZE = 100
# A server that keeps answering with a next page token would otherwise keep the sync going forever.
MAX_PAGES = 10_000
# An answer larger than this is not a page of model metadata.
MAX_RESPONSE_BYTES = 20 * 1024 * 1024


class MlflowError(Exception):
    """The tracking server could not be read: unreachable, refused the request, or answered something unexpected."""


class MlflowNotFound(MlflowError):
    """The server answered that the object asked for (a run) does not exist."""


@dataclass(frozen=True)
class MlflowModelVersion:
    """One version of a registered model as MLflow reports it."""

    name: str
    version: str
    source: str = ""
    run_id: str = ""
    status: str = ""
    current_stage: str = ""
    description: str = ""
    creation_timestamp: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MlflowRegisteredModel:
    """A registered model with its tags and the latest version of each stage (as the search answer gives it)."""

    name: str
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    latest_versions: tuple[MlflowModelVersion, ...] = ()


@dataclass(frozen=True)
class MlflowRun:
    """A tracking run: where it was logged, who ran it, when (milliseconds since the epoch), the latest value of
    each metric, its tags."""

    run_id: str
    experiment_id: str = ""
    experiment_name: str = ""
    run_name: str = ""
    user_id: str = ""
    status: str = ""
    artifact_uri: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    start_time: int | None = None
    end_time: int | None = None


def check_tracking_uri(tracking_uri: str) -> str:
    """The tracking URI without a trailing slash; an :class:`MlflowError` unless it is an http(s) URL with a host.

    Only a tracking *server* can be read over REST: ``databricks``, ``file:`` or ``sqlite:`` URIs name stores
    the portal cannot reach, so they are refused by name rather than failing later with a confusing error.
    """
    uri = (tracking_uri or "").strip().rstrip("/")
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise MlflowError(
            f"Tracking URI {tracking_uri!r} is not an http(s) URL of an MLflow tracking server "
            "(e.g. http://mlflow.internal:5000)."
        )
    if parts.query or parts.fragment:
        raise MlflowError(f"Tracking URI {tracking_uri!r} must not carry a query string or a fragment.")
    return uri


def _tags(raw: Any) -> dict[str, str]:
    """MLflow's ``[{"key": k, "value": v}, ...]`` as a dict; anything else is an error."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise MlflowError("tags is not a list")
    tags: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise MlflowError("a tag has no key")
        value = item.get("value", "")
        tags[item["key"]] = "" if value is None else str(value)
    return tags


def _text(raw: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = raw.get(name)
    if value is None:
        if required:
            raise MlflowError(f"{name} is missing")
        return ""
    if not isinstance(value, str | int):
        raise MlflowError(f"{name} is not text")
    return str(value)


def _timestamp(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MlflowError(f"{name} is not a timestamp") from None


def parse_model_version(raw: Any) -> MlflowModelVersion:
    """A model version from its JSON object."""
    if not isinstance(raw, dict):
        raise MlflowError("a model version is not an object")
    return MlflowModelVersion(
        name=_text(raw, "name", required=True),
        version=_text(raw, "version", required=True),
        source=_text(raw, "source"),
        run_id=_text(raw, "run_id"),
        status=_text(raw, "status"),
        current_stage=_text(raw, "current_stage"),
        description=_text(raw, "description"),
        creation_timestamp=_timestamp(raw, "creation_timestamp"),
        tags=_tags(raw.get("tags")),
    )


def parse_registered_model(raw: Any) -> MlflowRegisteredModel:
    """A registered model from its JSON object."""
    if not isinstance(raw, dict):
        raise MlflowError("a registered model is not an object")
    latest = raw.get("latest_versions") or []
    if not isinstance(latest, list):
        raise MlflowError("latest_versions is not a list")
    return MlflowRegisteredModel(
        name=_text(raw, "name", required=True),
        description=_text(raw, "description"),
        tags=_tags(raw.get("tags")),
        latest_versions=tuple(parse_model_version(item) for item in latest),
    )


def parse_run(raw: Any, *, experiment_name: str = "") -> MlflowRun:
    """A run from the ``run`` object of ``runs/get``; of each metric only the latest value is kept."""
    if not isinstance(raw, dict) or not isinstance(raw.get("info"), dict):
        raise MlflowError("a run has no info object")
    info = raw["info"]
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise MlflowError("a run's data is not an object")
    metrics: dict[str, float] = {}
    for item in data.get("metrics") or []:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise MlflowError("a metric has no key")
        value = item.get("value")
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise TypeError(value)
            metrics[item["key"]] = float(value)
        except (TypeError, ValueError):
            raise MlflowError(f"metric {item['key']!r} is not a number") from None
    return MlflowRun(
        run_id=_text(info, "run_id") or _text(info, "run_uuid", required=True),
        experiment_id=_text(info, "experiment_id"),
        experiment_name=experiment_name,
        run_name=_text(info, "run_name"),
        user_id=_text(info, "user_id"),
        status=_text(info, "status"),
        artifact_uri=_text(info, "artifact_uri"),
        metrics=metrics,
        params=_tags(data.get("params")),
        tags=_tags(data.get("tags")),
        start_time=_timestamp(info, "start_time"),
        end_time=_timestamp(info, "end_time"),
    )


class MlflowRestClient:
    """Reads one tracking server. ``timeout`` bounds every request (connect and read), in seconds."""

    def __init__(self, tracking_uri: str, *, timeout: float = DEFAULT_TIMEOUT, token: str = "") -> None:
        self.tracking_uri = check_tracking_uri(tracking_uri)
        self.timeout = timeout
        self.token = token
        self._experiment_names: dict[str, str] = {}

    def _get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """GET ``endpoint`` with ``params``; the decoded JSON object, or an :class:`MlflowError`."""
        query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
        url = f"{self.tracking_uri}{API_PREFIX}/{endpoint}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json", "User-Agent": "modelops-portal-mlflow-sync"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = Request(url, headers=headers, method="GET")  # noqa: S310 - the scheme is checked to be http(s)
        where = f"MLflow at {self.tracking_uri} ({endpoint})"
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only, see above  # nosec B310
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except HTTPError as exc:
            detail = self._error_message(exc)
            if exc.code == 404 and "RESOURCE_DOES_NOT_EXIST" in detail:
                raise MlflowNotFound(f"{where}: {detail}") from None
            raise MlflowError(f"{where} answered HTTP {exc.code}: {detail}") from None
        except TimeoutError:
            raise MlflowError(f"{where} did not answer within {self.timeout:g} s.") from None
        except URLError as exc:
            raise MlflowError(f"{where} is unreachable: {exc.reason}.") from None
        except (OSError, ValueError) as exc:
            raise MlflowError(f"{where} could not be read: {exc}.") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise MlflowError(f"{where} answered more than {MAX_RESPONSE_BYTES} bytes; is this an MLflow server?")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MlflowError(f"{where} did not answer with JSON; is this an MLflow tracking server?") from None
        if not isinstance(payload, dict):
            raise MlflowError(f"{where} answered JSON that is not an object; is this an MLflow tracking server?")
        return payload

    @staticmethod
    def _error_message(exc: HTTPError) -> str:
        """MLflow's own ``error_code: message`` when the error body carries one, else the HTTP reason."""
        try:
            payload = json.loads(exc.read(64 * 1024).decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return str(exc.reason)
        if isinstance(payload, dict) and payload.get("message"):
            return f"{payload.get('error_code', 'ERROR')}: {payload['message']}"
        return str(exc.reason)

    def _pages(self, endpoint: str, items_key: str, params: Mapping[str, Any]) -> Iterator[Any]:
        """Every item of a paginated search, following ``next_page_token``."""
        token = ""  # a pagination cursor, not a password  # nosec B105
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            payload = self._get(endpoint, {**params, "max_results": PAGE_SIZE, "page_token": token})
            items = payload.get(items_key, [])
            if not isinstance(items, list):
                raise MlflowError(f"MLflow at {self.tracking_uri} ({endpoint}): {items_key} is not a list.")
            yield from items
            token = payload.get("next_page_token") or ""
            if not token:
                return
            if not isinstance(token, str) or token in seen_tokens:
                raise MlflowError(f"MLflow at {self.tracking_uri} ({endpoint}) repeated a page token.")
            seen_tokens.add(token)
        raise MlflowError(f"MLflow at {self.tracking_uri} ({endpoint}) answered more than {MAX_PAGES} pages.")

    def _parsed(self, endpoint: str, parse: Any, raw: Any) -> Any:
        try:
            return parse(raw)
        except MlflowError as exc:
            raise MlflowError(
                f"MLflow at {self.tracking_uri} ({endpoint}) answered an unexpected record: {exc}."
            ) from None

    def registered_models(self) -> list[MlflowRegisteredModel]:
        """Every registered model on the server, in name order."""
        endpoint = "registered-models/search"
        models = [
            self._parsed(endpoint, parse_registered_model, raw)
            for raw in self._pages(endpoint, "registered_models", {"order_by": "name ASC"})
        ]
        return sorted(models, key=lambda model: model.name)

    def model_versions(self, name: str) -> list[MlflowModelVersion]:
        """Every version of the registered model ``name``, oldest first (by version number)."""
        endpoint = "model-versions/search"
        versions = [
            self._parsed(endpoint, parse_model_version, raw)
            for raw in self._pages(endpoint, "model_versions", {"filter": name_filter(name)})
        ]
        # The filter is matched by the server; keep only exact names in case it matched more loosely.
        versions = [version for version in versions if version.name == name]
        return sorted(versions, key=lambda version: (_version_number(version.version), version.version))

    def run(self, run_id: str) -> MlflowRun | None:
        """The run ``run_id`` with its experiment's name, or None when the server no longer has it."""
        endpoint = "runs/get"
        try:
            payload = self._get(endpoint, {"run_id": run_id})
        except MlflowNotFound:
            return None
        raw = payload.get("run")
        run: MlflowRun = self._parsed(endpoint, parse_run, raw)
        if not run.experiment_id:
            return run
        return replace(run, experiment_name=self.experiment_name(run.experiment_id))

    def experiment_name(self, experiment_id: str) -> str:
        """The name of an experiment (cached per client); empty when the server does not know it."""
        if experiment_id not in self._experiment_names:
            try:
                payload = self._get("experiments/get", {"experiment_id": experiment_id})
            except MlflowNotFound:
                payload = {}
            experiment = payload.get("experiment")
            name = experiment.get("name") if isinstance(experiment, dict) else ""
            self._experiment_names[experiment_id] = name if isinstance(name, str) else ""
        return self._experiment_names[experiment_id]


def name_filter(name: str) -> str:
    """An MLflow search filter matching exactly the registered model ``name``.

    MLflow's filter grammar quotes strings with single or double quotes and has no escape inside them, so the
    quote that does not occur in the name is used; a name holding both is matched with backticks.
    """
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    return f"name=`{name}`"


def _version_number(version: str) -> int:
    try:
        return int(version)
    except ValueError:
        return 0
