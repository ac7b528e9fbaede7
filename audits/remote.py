"""Evaluation data fetched by URL, from the prefixes the operator allows (``EVALUATION_DATA_URL_PREFIXES``).

No database here. :func:`fetch` reads an http(s) URL with a deadline and a size cap, streaming so that a file
past the cap is never read in full; every redirect is followed by hand and must land under an allowed prefix
too, so an allowed server cannot bounce the portal to an internal address. A prefix allows a URL when scheme and
host (with port) are equal and the URL's path continues the prefix's path at a ``/``: the prefix
``https://data.example.com/eval`` allows ``.../eval/q4.csv`` but neither ``.../evaluation.csv`` nor
``https://data.example.com.evil.test/eval/...``. Paths with ``.`` or ``..`` segments are refused, since the
server, not this check, would resolve them. Every refusal is an :class:`evaluation.EvaluationDataError` on the
``reference_url`` field, with a message that says what to fix.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit

from audits.evaluation import EvaluationDataError

FIELD = "reference_url"
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
URL_MAX_LENGTH = 1000
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetched:
    """The bytes read, the URL they finally came from (after redirects) and its last path segment."""

    content: bytes
    url: str
    file_name: str


def _refuse(message: str) -> EvaluationDataError:
    return EvaluationDataError(FIELD, message)


def _origin_and_path(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) with the default port filled in; refused if it is not an http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _refuse(f"Only http and https URLs can be fetched, not {scheme or 'a URL without scheme'}.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise _refuse("The URL's port is not a number between 0 and 65535.") from None
    if not parts.hostname:
        raise _refuse("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise _refuse("Give the URL without a user name or password.")
    return scheme, parts.hostname.lower(), port, parts.path or "/"


def is_allowed(url: str, prefixes: Sequence[str]) -> bool:
    """Whether ``url`` lies under one of ``prefixes`` (see the module docstring for what "under" means)."""
    scheme, host, port, path = _origin_and_path(url)
    for prefix in prefixes:
        p_scheme, p_host, p_port, p_path = _origin_and_path(prefix)
        if (scheme, host, port) != (p_scheme, p_host, p_port):
            continue
        if path == p_path or path.startswith(p_path if p_path.endswith("/") else f"{p_path}/"):
            return True
    return False


def check_url(url: str, prefixes: Sequence[str]) -> str:
    """The URL, if it may be fetched; otherwise a message saying why not."""
    url = (url or "").strip()
    if not prefixes:
        raise _refuse(
            "The operator has not allowed any URL for evaluation data (EVALUATION_DATA_URL_PREFIXES is empty); "
            "upload the file instead."
        )
    if len(url) > URL_MAX_LENGTH:
        raise _refuse(f"The URL has {len(url)} characters; at most {URL_MAX_LENGTH}.")
    _scheme, _host, _port, path = _origin_and_path(url)
    if any(segment in {".", ".."} for segment in unquote(path).split("/")):
        raise _refuse("The URL's path holds '.' or '..' segments; give the file's plain address.")
    if not is_allowed(url, prefixes):
        raise _refuse(f"The URL is not under an allowed prefix ({', '.join(prefixes)}).")
    return url.split("#", 1)[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand every redirect back as an error, so :func:`fetch` checks its target before following it."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _open(url: str, wait: float, timeout: float) -> Any:
    """The response to a GET of ``url`` (a redirect is returned, not followed), waiting at most ``wait`` seconds
    per socket operation; HTTP and network errors as messages."""
    request = urllib.request.Request(url, headers={"Accept": "*/*", "User-Agent": "modelops-portal"})  # noqa: S310
    try:
        # The scheme is http(s): checked by check_url for the URL and each redirect before we get here.
        return _opener.open(request, timeout=wait)
    except urllib.error.HTTPError as error:
        if error.code in REDIRECT_CODES:
            return error
        raise _refuse(f"The server answered {error.code} {error.reason} for {url}.") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _refuse(f"Cannot fetch {url}: no answer within {timeout:g} s.") from None
        raise _refuse(f"Cannot fetch {url}: {error.reason}.") from None
    except TimeoutError:
        raise _refuse(f"Cannot fetch {url}: no answer within {timeout:g} s.") from None
    except OSError as error:
        raise _refuse(f"Cannot fetch {url}: {error}.") from None


def _read_capped(response: Any, url: str, *, max_bytes: int, deadline: float, timeout: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _refuse(f"The file at {url} has {declared} bytes; the limit is {max_bytes}.")
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read(CHUNK_BYTES):
            size += len(chunk)
            # Stop at the first byte past the cap: a server that lies about (or omits) its length costs no more.
            if size > max_bytes:
                raise _refuse(f"The file at {url} is larger than the limit of {max_bytes} bytes.")
            # The socket timeout bounds each read; the deadline bounds a server that trickles bytes forever.
            if time.monotonic() > deadline:
                raise _refuse(f"Cannot fetch {url}: not complete within {timeout:g} s.")
            chunks.append(chunk)
    except (TimeoutError, OSError) as error:
        raise _refuse(f"Cannot fetch {url}: the transfer broke off ({error}).") from None
    return b"".join(chunks)


def fetch(url: str, *, prefixes: Sequence[str], max_bytes: int, timeout: float) -> Fetched:
    """GET an allowed URL and return its bytes: at most ``max_bytes``, within ``timeout`` seconds overall."""
    url = check_url(url, prefixes)
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        if time.monotonic() > deadline:
            raise _refuse(f"Cannot fetch {url}: not complete within {timeout:g} s.")
        # Each socket operation may wait at most what is left of the overall time.
        response = _open(url, max(deadline - time.monotonic(), 0.1), timeout)
        with response:
            if response.status in REDIRECT_CODES:
                target = response.headers.get("Location")
                if not target:
                    raise _refuse(f"The server redirected {url} without saying where to.")
                target = urljoin(url, target)
                try:
                    url = check_url(target, prefixes)
                except EvaluationDataError as error:
                    raise _refuse(f"{url} redirects to {target}, which is refused: {error.message}") from None
                continue
            content = _read_capped(response, url, max_bytes=max_bytes, deadline=deadline, timeout=timeout)
        file_name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        return Fetched(content=content, url=url, file_name=file_name)
    raise _refuse(f"More than {MAX_REDIRECTS} redirects; give the file's final address.")
