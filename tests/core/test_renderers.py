"""The API's JSON renderer writes the bytes DRF's JSONRenderer writes."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import json
import uuid
from typing import Any

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from core.api.renderers import PortalJSONRenderer

UTC = dt.UTC
SAMPLES: list[Any] = [
    {"key": "CR-0001", "tier": 1, "tags": ["pd", "lgd"], "owner": None, "active": True},
    [0.1, 1.5, 2.0, 123456789.123, -0.0, 0.8333333333333334, 0.05, 12.5],
    {"text": 'é ü 中文 \u2028 line \u2029 paragraph "quoted" \\ back \n\t'},
    {
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        "whole_second": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "elsewhere": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "day": dt.date(2026, 1, 2),
        "time": dt.time(12, 30),
        "took": dt.timedelta(seconds=90),
    },
    {
        "amount": decimal.Decimal("1.25"),
        "id": uuid.UUID("4168a6a3-1a58-4a91-90a9-6485c2557afa"),
        "label": gettext_lazy("Model"),
        "address": ipaddress.ip_address("10.0.0.1"),
        "pair": (1, 2),
        "numpy": [np.float64(0.25), np.int64(7), np.array([1, 2])],
        3: "an integer key",
    },
    {"beyond_64_bits": 2**70},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_bytes_equal_drf_for_every_kind_of_value(data: Any) -> None:
    assert PortalJSONRenderer().render(data) == JSONRenderer().render(data)


def test_a_float_in_exponent_form_is_the_same_number_in_its_shortest_form() -> None:
    figures = [1e-07, 1e16, 2.5e-12]

    rendered = PortalJSONRenderer().render(figures)

    assert rendered == b"[1e-7,1e+16,2.5e-12]"
    assert json.loads(rendered) == json.loads(JSONRenderer().render(figures)) == figures


def test_indented_json_asked_for_is_rendered_by_drf() -> None:
    data = {"key": "CR-0001", "tags": ["pd"]}
    media_type = "application/json; indent=2"

    rendered = PortalJSONRenderer().render(data, media_type, {})

    assert rendered == JSONRenderer().render(data, media_type, {})
    assert rendered.startswith(b"{\n  ")


def test_nothing_renders_as_an_empty_body() -> None:
    assert PortalJSONRenderer().render(None) == b""


def test_a_non_finite_float_is_written_as_null() -> None:
    assert json.loads(PortalJSONRenderer().render({"ratio": float("nan")})) == {"ratio": None}


@pytest.mark.django_db
def test_the_api_answers_with_it(personas: Any) -> None:
    client = APIClient()
    client.force_authenticate(personas.risk_officer)

    response = client.get("/api/v1/models/")

    assert isinstance(response.accepted_renderer, PortalJSONRenderer)
    assert response.content == JSONRenderer().render(response.data)
    assert {row["key"] for row in response.json()["results"]} == {"RB-0001", "RB-0002"}
