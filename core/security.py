"""Browser-facing security controls that Django does not ship: a Content-Security-Policy on every response, idle
and absolute session expiry, and a logging filter that keeps secrets out of log lines.

The policy allows scripts and styles from the portal's own origin only (no ``'unsafe-inline'``), so an injected
``<script>`` or ``style=`` attribute does nothing even if an escaping bug lets it into a page. Templates therefore
keep their CSS and JavaScript in ``static/`` (docs/security.md, "Controls").
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

CSP_HEADER = "Content-Security-Policy"

# Directives sent when settings.CONTENT_SECURITY_POLICY does not override them. img-src allows data: because
# Swagger UI draws its icons as data: URIs; nothing else may load from anywhere but the portal itself.
DEFAULT_CSP: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(overrides: Mapping[str, str] | None = None, report_uri: str = "") -> str:
    """The header value: the default directives, with ``overrides`` replacing (or, empty, removing) some."""
    directives = {**DEFAULT_CSP, **(overrides or {})}
    if report_uri:
        directives["report-uri"] = report_uri
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items() if value)


class ContentSecurityPolicyMiddleware:
    """Sets ``Content-Security-Policy`` on every response that does not already carry one.

    A view may set its own header (a stricter one, say); the portal's policy is the floor for everything else,
    error pages and static files served by WhiteNoise included, because the middleware sits above WhiteNoise.
    ``CSP_PATH_OVERRIDES`` changes directives under a path prefix (Redoc's page needs two style hashes).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        overrides = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        report_uri = getattr(settings, "CSP_REPORT_URI", "")
        self.policy = content_security_policy(overrides, report_uri)
        self.path_policies = [
            (prefix, content_security_policy({**overrides, **path_overrides}, report_uri))
            for prefix, path_overrides in getattr(settings, "CSP_PATH_OVERRIDES", {}).items()
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if CSP_HEADER not in response:
            response[CSP_HEADER] = next(
                (policy for prefix, policy in self.path_policies if request.path.startswith(prefix)), self.policy
            )
        return response


# Session keys the expiry middleware keeps: when the user signed in, and when they were last seen (epoch seconds).
SESSION_AUTH_AT = "_portal_auth_at"
SESSION_SEEN_AT = "_portal_seen_at"
# Writing the session on every request would cost a database write per page; a minute's precision is plenty for
# an idle timeout measured in tens of minutes.
SEEN_AT_RESOLUTION_SECONDS = 60


def session_clock_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: start both clocks as the session is created, which saves it anyway, so the
    first page after signing in does not write the session again."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_SEEN_AT] = now


def session_expiry_reason(session: Mapping[str, Any], now: float) -> str | None:
    """Why a signed-in session must end now (idle too long, or older than its absolute lifetime), or None."""
    idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
    absolute = settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS
    auth_at = session.get(SESSION_AUTH_AT)
    seen_at = session.get(SESSION_SEEN_AT)
    if absolute and isinstance(auth_at, int | float) and now - auth_at > absolute:
        return f"Your session ended because it is older than {_duration(absolute)}. Please sign in again."
    if idle and isinstance(seen_at, int | float) and now - seen_at > idle:
        return f"Your session ended after {_duration(idle)} without activity. Please sign in again."
    return None


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


class SessionExpiryMiddleware:
    """Signs a user out after ``SESSION_IDLE_TIMEOUT_SECONDS`` without a request, and in any case
    ``SESSION_ABSOLUTE_TIMEOUT_SECONDS`` after they signed in.

    Django alone only has a cookie age that restarts whenever the session is saved, which is neither. The
    request continues as anonymous, so the view's own permission gate sends the user to the sign-in page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            reason = session_expiry_reason(session, now)
            if reason is not None:
                logger.info("Session of %s ended: %s", user.get_username(), reason)
                logout(request)
                messages.warning(request, reason)
            else:
                session.setdefault(SESSION_AUTH_AT, now)
                seen_at = session.get(SESSION_SEEN_AT)
                if not isinstance(seen_at, int | float) or now - seen_at >= SEEN_AT_RESOLUTION_SECONDS:
                    session[SESSION_SEEN_AT] = now
        return self.get_response(request)


logger = logging.getLogger(__name__)

REDACTED = "[REDACTED]"
# A portal API token keeps its public lookup part (it names the token in the admin) and loses its secret.
_PORTAL_TOKEN = re.compile(r"\b(mop_[0-9a-f]{16}_)[A-Za-z0-9_-]+")
# name=value, name: value, 'name': 'value' and "name": "value" where the name says it holds a secret. An
# Authorization value may start with its scheme ("Token", "Bearer", "Basic"); the credential after it goes too.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (?P<key>["']?[\w.-]*?(?:password|passwd|secret|token|api[_-]?key|authorization|cookie|sessionid|csrftoken|
        csrfmiddlewaretoken|signature)[\w.-]*["']?\s*[:=]\s*)
    (?P<value>
        (?P<quote>["'])(?:(?:token|bearer|basic)\s+)?[^"']*(?P=quote)
      | (?:(?:token|bearer|basic)\s+)?[^\s,;&}"']+
    )
    """
)
# user:password@ in URLs (database, broker, MLflow).
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.IGNORECASE)


def redact_secrets(text: str) -> str:
    """The text with every credential it contains replaced by ``[REDACTED]``."""
    text = _PORTAL_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{REDACTED}@", text)
    return _SECRET_PAIR.sub(_redact_pair, text)


def _redact_pair(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('key')}{quote}{REDACTED}{quote}"


class SecretRedactingFilter(logging.Filter):
    """Rewrites a log record so its message and traceback carry no secret: Authorization headers, API tokens,
    passwords, cookies and passwords in URLs are replaced by ``[REDACTED]``.

    Installed on the handlers, so it also covers records that propagate up from libraries (Django's request
    logging, Celery, urllib3). The message is formatted once here and the arguments dropped, because a secret
    may hide in an argument (a headers dict) as well as in the format string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged; logging itself reports the format error
            return True
        record.msg = redact_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True
