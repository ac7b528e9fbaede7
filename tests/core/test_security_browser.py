"""The Content-Security-Policy in a real browser: Chromium reports no violation on the main pages, Swagger UI and
Redoc included, and an injected inline script is refused."""

from __future__ import annotations

from typing import Any

import pytest

# A browser test: CI runs it in the SQLite pass only, like tests/browser/ (tests/markers.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "plum harbour kettle 42"
# Redoc's "API docs by Redocly" footer loads its logo from the vendor's CDN: refused, as every outside host is.
REDOC_LOGO = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"

# Collects every CSP violation the page sees, whatever the console says.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def main_pages(key: str) -> list[str]:
    return [
        "/dashboard/",
        "/inventory/models/",
        f"/inventory/models/{key}/",
        f"/inventory/models/{key}/lineage/",
        "/inventory/units/",
        "/inventory/runs-where/",
        "/governance/queue/",
        "/governance/findings/",
        "/governance/ledger/",
        "/governance/policies/",
        f"/governance/models/{key}/",
        "/audits/runs/",
        f"/audits/models/{key}/",
        "/monitoring/",
        "/reports/",
        "/admin/",
        "/admin/core/lockout/",
        "/api/docs/",
        "/api/redoc/",
    ]


def test_chromium_reports_no_csp_violation_on_the_main_pages(live_server: Any, personas: Any, page: Any) -> None:
    admin = personas.admin
    admin.is_staff = True  # as user_create sets it for the Admin role
    admin.set_password(PASSWORD)
    admin.save()
    console_violations: list[str] = []
    page_violations: dict[str, list[str]] = {}
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    page.on(
        "console",
        lambda message: console_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inventory/models/")
    for path in main_pages(personas.model_a.key):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        if path == "/api/docs/":
            page.wait_for_selector(".swagger-ui .info", timeout=15_000)
        if path == "/api/redoc/":
            rendered = page.get_by_text("Download OpenAPI specification")
            for _ in range(40):  # Redoc renders after it fetched and parsed the schema
                if rendered.count():
                    break
                page.wait_for_timeout(500)
            assert rendered.count() == 1, "Redoc did not render"
        seen = [v for v in page.evaluate("window.__cspViolations") if v != REDOC_LOGO]
        if seen:
            page_violations[path] = seen
    # The policy works: an inline script injected into a page is refused and reported.
    page.goto(f"{live_server.url}/dashboard/")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__injected = true"; document.body.appendChild(s); }"""
    )
    assert page.evaluate("window.__injected === undefined")
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    assert page_violations == {}
    # The injected script above is the only violation Chromium logged.
    assert len([text for text in console_violations if "cdn.redoc.ly" not in text]) == 1, console_violations
