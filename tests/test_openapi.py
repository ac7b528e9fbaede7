"""The OpenAPI schema and its interactive docs: complete, valid, and served without any outside host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EXTERNAL_URL = re.compile(r"""(?:https?:)?//(?!testserver[/:"'])[\w.-]+\.[a-z]{2,}""", re.IGNORECASE)


def test_schema_generates_with_no_warning_and_validates(tmp_path: Path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/v1/models/",
        "/api/v1/models/{key}/",
        "/api/v1/models/{key}/history/",
        "/api/v1/models/{key}/lineage/",
        "/api/v1/business-units/{code}/",
        "/api/v1/versions/{id}/",
        "/api/v1/dependencies/{id}/",
        "/api/v1/users/{username}/",
        "/api/v1/users/me/",
    ):
        assert path in paths, path
    list_parameters = {parameter["name"] for parameter in paths["/api/v1/models/"]["get"]["parameters"]}
    assert {"as_of", "unit", "owner", "model_type", "stage", "tier", "tag", "q", "ordering"} <= list_parameters
    assert {"page", "page_size"} <= list_parameters
    patch = paths["/api/v1/models/{key}/"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(patch)
    assert "apiToken" in schema["components"]["securitySchemes"]


def test_schema_endpoint_serves_openapi_3():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_page_loads_its_assets_locally():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset
    assert not EXTERNAL_URL.search(page), EXTERNAL_URL.search(page)
    # Swagger UI would otherwise fetch a validity badge from validator.swagger.io. Its settings are in the start-up
    # script, which the page loads from ?script (no inline script under the CSP: docs/security.md).
    assert '"validatorUrl": null' in APIClient().get("/api/docs/?script=").content.decode()
