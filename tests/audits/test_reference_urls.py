"""Evaluation data referenced by URL, fetched from a real HTTP server on 127.0.0.1 serving a temporary folder.

The server also redirects (``/allowed/hop-*``), streams without a length (``/allowed/endless.csv``) and stalls
(``/allowed/slow.csv``), so the size cap, the redirect check and the timeout are exercised over real sockets.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from audits import remote, services
from audits.choices import RunStatus
from audits.models import EvaluationDataset
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from governance.models import Finding
from tests.audits.conftest import GERMAN_MAPPING

pytestmark = pytest.mark.django_db

# Far more than any cap a test sets: a client that did not stop reading would still finish, and fail the test.
ENDLESS_LIMIT = 64 * 1024 * 1024


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the served folder, plus redirects, an unbounded stream and a stalled answer."""

    redirects: dict[str, str] = {}

    def do_GET(self) -> None:
        if self.path in self.redirects:
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path])
            self.end_headers()
        elif self.path == "/allowed/endless.csv":
            self._endless()
        elif self.path == "/allowed/slow.csv":
            time.sleep(3)
            self.send_error(504)
        else:
            super().do_GET()

    def _endless(self) -> None:
        # HTTP/1.0 without Content-Length: the body ends when the connection closes, so only the cap stops it.
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        line = b"1,0,female,>=25\n" * 4096
        sent = 0
        try:
            self.wfile.write(b"y_true,y_pred,sex,age_group\n")
            while sent < ENDLESS_LIMIT:
                self.wfile.write(line)
                sent += len(line)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Server:
    root: Path
    base: str

    def put(self, name: str, content: bytes) -> str:
        """Serve ``content`` at ``/<name>``; its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return f"{self.base}/{name}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()

    class Handler(_Handler):
        redirects: dict[str, str] = {}  # a dict of its own per server

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    Handler.redirects.update(
        {
            "/allowed/hop-inside.csv": f"{base}/allowed/preds.csv",
            "/allowed/hop-outside.csv": f"{base}/other/preds.csv",
            "/allowed/hop-relative.csv": "../other/preds.csv",
        }
    )
    try:
        yield Server(root, base)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def allowed(server: Server, settings: Any) -> str:
    """Only ``/allowed/`` of the test server is allowed; returns that prefix."""
    prefix = f"{server.base}/allowed/"
    settings.EVALUATION_DATA_URL_PREFIXES = [prefix]
    return prefix


def _create(personas: Any, version: Any, url: str) -> EvaluationDataset:
    return evaluation_dataset_create(
        actor=personas.owner_a, version=version, name="logged", mapping=GERMAN_MAPPING, reference_url=url
    )


def _refusal(personas: Any, version: Any, url: str) -> str:
    with pytest.raises(ValidationError) as refused:
        _create(personas, version, url)
    assert not EvaluationDataset.objects.exists()
    assert list(refused.value.message_dict) == ["reference_url"]
    return " ".join(refused.value.message_dict["reference_url"])


def test_a_url_under_an_allowed_prefix_is_stored_with_its_hash_and_audited(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    url = server.put("allowed/preds.csv", german_csv)

    dataset = _create(personas, version_a, url)

    assert (dataset.source, dataset.reference_uri, dataset.row_count) == ("reference", url, 300)
    assert not dataset.file
    run = bias_audit_execute(run_id=bias_audit_request(actor=personas.owner_a, dataset=dataset).pk)
    assert run.status == RunStatus.FAILED
    assert run.dataset_sha256 == dataset.sha256


def test_a_parquet_file_is_recognised_by_its_url(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    pd.read_csv(io.BytesIO(german_csv)).to_parquet(buffer)
    dataset = _create(personas, version_a, server.put("allowed/preds.parquet", buffer.getvalue()))

    assert (dataset.file_format, dataset.row_count) == ("parquet", 300)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("other/preds.csv", "not under an allowed prefix"),
        ("allowedx/preds.csv", "not under an allowed prefix"),
        ("allowed/../other/preds.csv", "'..' segments"),
        ("allowed/%2e%2e/other/preds.csv", "'..' segments"),
    ],
)
def test_urls_outside_the_allowed_prefixes_are_refused(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str, path: str, words: str
) -> None:
    server.put("other/preds.csv", german_csv)
    server.put("allowedx/preds.csv", german_csv)

    assert words in _refusal(personas, version_a, f"{server.base}/{path}")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://127.0.0.1/allowed/preds.csv", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http://user:secret@127.0.0.1/allowed/preds.csv", "without a user name"),
        ("http://127.0.0.1.evil.test/allowed/preds.csv", "not under an allowed prefix"),
    ],
)
def test_other_schemes_hosts_and_credentials_are_refused(
    personas: Any, version_a: Any, allowed: str, url: str, words: str
) -> None:
    assert words in _refusal(personas, version_a, url)


def test_redirects_are_followed_only_to_allowed_prefixes(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    server.put("allowed/preds.csv", german_csv)
    server.put("other/preds.csv", german_csv)

    for hop in ("hop-outside.csv", "hop-relative.csv"):
        message = _refusal(personas, version_a, f"{allowed}{hop}")
        assert f"redirects to {server.base}/other/preds.csv" in message
        assert "not under an allowed prefix" in message

    dataset = _create(personas, version_a, f"{allowed}hop-inside.csv")
    assert dataset.reference_uri == f"{allowed}hop-inside.csv"
    assert dataset.row_count == 300


def test_without_prefixes_urls_are_refused_saying_the_operator_allows_none(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, settings: Any
) -> None:
    settings.EVALUATION_DATA_URL_PREFIXES = []

    message = _refusal(personas, version_a, server.put("allowed/preds.csv", german_csv))

    assert "operator has not allowed any URL" in message


def test_a_file_over_the_size_limit_is_refused(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str, settings: Any
) -> None:
    settings.EVALUATION_UPLOAD_MAX_BYTES = 2048

    message = _refusal(personas, version_a, server.put("allowed/preds.csv", german_csv))

    assert f"has {len(german_csv)} bytes; the limit is 2048" in message


def test_a_stream_without_length_is_cut_off_at_the_limit(
    personas: Any, version_a: Any, allowed: str, settings: Any
) -> None:
    settings.EVALUATION_UPLOAD_MAX_BYTES = 100_000

    message = _refusal(personas, version_a, f"{allowed}endless.csv")

    assert "larger than the limit of 100000 bytes" in message


def test_a_missing_file_is_a_clear_error(personas: Any, version_a: Any, allowed: str) -> None:
    message = _refusal(personas, version_a, f"{allowed}nothing-here.csv")

    assert "The server answered 404" in message
    assert f"{allowed}nothing-here.csv" in message


def test_a_server_that_does_not_answer_in_time_is_refused(
    personas: Any, version_a: Any, allowed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "URL_FETCH_TIMEOUT_SECONDS", 0.5)

    message = _refusal(personas, version_a, f"{allowed}slow.csv")

    assert "within 0.5 s" in message


def test_an_unreachable_server_is_refused(personas: Any, version_a: Any, settings: Any) -> None:
    # A port nothing listens on: bind one, note it, close it.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EVALUATION_DATA_URL_PREFIXES = [f"http://127.0.0.1:{port}/"]

    assert "Cannot fetch" in _refusal(personas, version_a, f"http://127.0.0.1:{port}/preds.csv")


def test_content_that_fails_validation_is_refused_like_an_upload(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    url = server.put("allowed/preds.csv", german_csv.replace(b",", b";"))

    with pytest.raises(ValidationError) as refused:
        _create(personas, version_a, url)

    assert "separated by semicolons" in " ".join(refused.value.message_dict["file"])
    assert not EvaluationDataset.objects.exists()


def test_changed_content_ends_the_audit_in_error_naming_the_hash_mismatch(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    url = server.put("allowed/preds.csv", german_csv)
    dataset = _create(personas, version_a, url)
    run = bias_audit_request(actor=personas.owner_a, dataset=dataset)
    server.put("allowed/preds.csv", german_csv.replace(b"female", b"woman"))

    run = bias_audit_execute(run_id=run.pk)

    assert run.status == RunStatus.ERROR
    assert "changed since it was stored" in run.error
    assert f"stored {dataset.sha256}" in run.error
    assert not Finding.objects.exists()


def test_a_file_gone_or_a_prefix_withdrawn_ends_the_audit_in_error(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str, settings: Any
) -> None:
    url = server.put("allowed/preds.csv", german_csv)
    first = bias_audit_request(actor=personas.owner_a, dataset=_create(personas, version_a, url))
    second = bias_audit_request(actor=personas.owner_a, dataset=EvaluationDataset.objects.get())

    (server.root / "allowed" / "preds.csv").unlink()
    gone = bias_audit_execute(run_id=first.pk)
    settings.EVALUATION_DATA_URL_PREFIXES = []
    withdrawn = bias_audit_execute(run_id=second.pk)

    assert gone.status == withdrawn.status == RunStatus.ERROR
    assert "cannot be read" in gone.error and "404" in gone.error
    assert "operator has not allowed any URL" in withdrawn.error


def test_only_one_source_may_be_given(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str
) -> None:
    from tests.audits.conftest import upload

    with pytest.raises(ValidationError, match="exactly one of"):
        evaluation_dataset_create(
            actor=personas.owner_a,
            version=version_a,
            name="both",
            mapping=GERMAN_MAPPING,
            upload=upload(german_csv),
            reference_url=server.put("allowed/preds.csv", german_csv),
        )


def test_the_api_accepts_a_url_and_refuses_the_others(
    personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str, api_client_for: Any
) -> None:
    url = server.put("allowed/preds.csv", german_csv)
    body = {"model": "RB-0001", "version": "1.0.0", "name": "logged", "mapping": GERMAN_MAPPING}

    refused = api_client_for(personas.owner_a).post(
        "/api/v1/evaluation-datasets/", {**body, "reference_url": f"{server.base}/other/x.csv"}, format="json"
    )
    assert refused.status_code == 400
    assert "not under an allowed prefix" in json.dumps(refused.json())
    for who, code in (("auditor", 403), ("owner_b", 400)):  # owner B cannot see model A: its version "does not exist"
        response = api_client_for(getattr(personas, who)).post(
            "/api/v1/evaluation-datasets/", {**body, "reference_url": url}, format="json"
        )
        assert response.status_code == code
    assert not EvaluationDataset.objects.exists()

    created = api_client_for(personas.owner_a).post(
        "/api/v1/evaluation-datasets/", {**body, "reference_url": url}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["source"], created.json()["reference_uri"]) == ("reference", url)


def test_the_page_accepts_a_url(personas: Any, version_a: Any, german_csv: bytes, server: Server, allowed: str) -> None:
    page = reverse("audits:model", args=[personas.model_a.key])
    form = {"version": version_a.pk, "name": "logged", "label": "y_true", "prediction": "y_pred", "sensitive": "sex"}
    client = Client()
    client.force_login(personas.owner_a)

    neither = client.post(page, form)
    assert neither.status_code == 400 and "Upload a file or give its URL." in neither.content.decode()
    outside = client.post(page, {**form, "reference_url": f"{server.base}/other/x.csv"})
    assert outside.status_code == 400 and "not under an allowed prefix" in outside.content.decode()
    assert not EvaluationDataset.objects.exists()

    stored = client.post(page, {**form, "reference_url": server.put("allowed/preds.csv", german_csv)})
    assert stored.status_code == 302
    assert EvaluationDataset.objects.get().row_count == 300


def test_prefix_matching_is_by_origin_and_path_segment() -> None:
    prefixes = ["https://data.example.com/eval"]

    assert remote.is_allowed("https://data.example.com/eval/q4.csv", prefixes)
    assert remote.is_allowed("https://DATA.example.com:443/eval/q4.csv?sig=1", prefixes)
    assert not remote.is_allowed("https://data.example.com/evaluation.csv", prefixes)
    assert not remote.is_allowed("http://data.example.com/eval/q4.csv", prefixes)
    assert not remote.is_allowed("https://data.example.com:8443/eval/q4.csv", prefixes)
