"""Browser-facing controls: the Content-Security-Policy (no 'unsafe-inline') and the other security headers on
every page, no inline script or style in any template a browser gets, and a CSRF token in every POST form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.views import APIView

from core.security import CSP_HEADER, content_security_policy

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Rendered by WeasyPrint into PDF files, never by a browser, so no CSP applies; WeasyPrint reads styles inline.
PDF_TEMPLATES = TEMPLATES / "reports" / "pdf"

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def main_pages(personas: Any) -> list[str]:
    key = personas.model_a.key
    return [
        reverse("dashboard:home"),
        reverse("inventory:model-list"),
        reverse("inventory:model-detail", args=[key]),
        reverse("inventory:lineage", args=[key]),
        reverse("inventory:unit-list"),
        reverse("inventory:runs-where"),
        reverse("governance:queue"),
        reverse("governance:finding-list"),
        reverse("governance:ledger"),
        reverse("governance:policies"),
        reverse("governance:notifications"),
        reverse("governance:model", args=[key]),
        reverse("audits:run-list"),
        reverse("audits:model", args=[key]),
        reverse("monitoring:portfolio"),
        reverse("reports:downloads"),
        reverse("api-docs"),
        reverse("api-redoc"),
        "/api/v1/models/",
        reverse("admin:index"),
        "/admin/core/lockout/",
    ]


@pytest.fixture
def admin_client(personas: Any) -> Client:
    personas.admin.is_staff = True  # as user_create sets it for the Admin role
    personas.admin.save()
    client = Client()
    client.force_login(personas.admin)
    return client


def assert_policy(response: Any, path: str = "") -> None:
    policy = response[CSP_HEADER]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    if path == "/api/redoc/":  # two style hashes for Redoc, on its page only (docs/security.md, "Exceptions")
        assert directives["style-src"].startswith("'self' 'sha256-")
    else:
        assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_every_main_page_carries_the_policy_and_no_inline_code(personas: Any, admin_client: Client) -> None:
    for url in main_pages(personas):
        response = admin_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert_policy(response, url)
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        body = response.content.decode()
        # The portal's own pages have no inline code at all; the admin's and DRF's may keep inline style
        # attributes (cosmetic, refused by the browser: docs/security.md, "Exceptions") but no inline script.
        assert not INLINE_SCRIPT.search(body), f"{url}: {INLINE_SCRIPT.search(body)}"
        assert not EVENT_HANDLER.search(body), url
        if not url.startswith(("/admin/", "/api/v1/")):
            assert not INLINE_STYLE.search(body), f"{url}: {INLINE_STYLE.search(body)}"


def test_anonymous_pages_errors_and_static_files_carry_the_policy(client: Client) -> None:
    login = client.get(reverse("login"))
    assert login.status_code == 200
    assert_policy(login)
    assert not INLINE_SCRIPT.search(login.content.decode())
    assert not INLINE_STYLE.search(login.content.decode())
    assert_policy(client.get("/no-such-page/"))
    assert_policy(client.get(reverse("health")))
    assert_policy(client.get("/static/css/portal.css"))


def test_swagger_ui_loads_its_start_up_script_from_a_url(admin_client: Client) -> None:
    page = admin_client.get(reverse("api-docs")).content.decode()
    script_urls = re.findall(r'<script src="([^"]+)"', page)
    assert any("script" in url.split("?", 1)[-1] for url in script_urls)
    start_up = admin_client.get(reverse("api-docs") + "?script=")
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in start_up.content.decode()


def test_the_policy_can_report_and_be_extended(settings: Any) -> None:
    policy = content_security_policy({"img-src": "'self' data: https://img.example.com"}, "/csp-report/")
    assert "img-src 'self' data: https://img.example.com" in policy
    assert policy.endswith("report-uri /csp-report/")
    assert "object-src" not in content_security_policy({"object-src": ""})


def test_hsts_and_secure_cookies_follow_the_settings(settings: Any, personas: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response.cookies["csrftoken"]["secure"]
    assert response.cookies["csrftoken"]["httponly"]
    personas.owner_a.set_password("correct horse battery")
    personas.owner_a.save()
    signed_in = client.post(reverse("login"), {"username": "owner_a", "password": "correct horse battery"}, secure=True)
    assert signed_in.status_code == 302
    session_cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    # HSTS only ever goes out over HTTPS (browsers ignore it on plain HTTP anyway).
    assert "Strict-Transport-Security" not in Client().get(reverse("login"))


def browser_templates() -> list[Path]:
    return [path for path in TEMPLATES.rglob("*.html") if PDF_TEMPLATES not in path.parents]


def test_no_template_served_to_browsers_holds_inline_script_or_style() -> None:
    templates = browser_templates()
    assert len(templates) > 20
    offenders = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, EVENT_HANDLER, JAVASCRIPT_URL):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(TEMPLATES)}:{line}: {match.group(0)!r}")
    assert offenders == []


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.IGNORECASE | re.DOTALL)
POST_FORM = re.compile(r"<form\b[^>]*\bmethod\s*=\s*[\"']?post", re.IGNORECASE)


def test_every_post_form_carries_a_csrf_token() -> None:
    checked = 0
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for form in FORM.finditer(text):
            if not POST_FORM.match(form.group(0)):
                continue
            checked += 1
            if "{% csrf_token %}" not in form.group(0):
                line = text.count("\n", 0, form.start()) + 1
                missing.append(f"{path.relative_to(TEMPLATES)}:{line}")
    assert checked > 10
    assert missing == []


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            found.extend(url_patterns(entry, prefix + str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def test_no_view_skips_csrf_protection() -> None:
    """Django's CSRF check applies to every view but DRF's, and DRF enforces it itself for session-authenticated
    requests (SessionAuthentication); token-authenticated requests carry no cookie, so need none."""
    exempt = []
    for route, callback in url_patterns():
        if not getattr(callback, "csrf_exempt", False):
            continue
        view_class = getattr(callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            continue
        exempt.append(route)
    assert exempt == []


def test_drf_enforces_csrf_for_session_users(personas: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner_a)
    response = client.post("/api/v1/models/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
