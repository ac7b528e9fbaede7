"""Links in API answers: a lookup goes into the URL exactly as reverse() and urlencode() would put it."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.test import RequestFactory
from rest_framework.reverse import reverse

from core.api.serializers import detail_url, detail_urls, list_url

LOOKUPS = ["CR-0042", "owner_a", "42", "v1.2.3~rc", "with space", "a/b", "R&D+1", "näme", "x@y", "50%", "?q=1#f"]


@pytest.mark.parametrize("lookup", LOOKUPS)
def test_a_detail_link_quotes_the_lookup_as_quote_does(lookup: str) -> None:
    context = {"request": RequestFactory().get("/")}
    base = reverse("registeredmodel-detail", args=["__lookup__"], request=context["request"])
    expected = base.replace("__lookup__", quote(lookup, safe="@+"))

    assert detail_url(context, "registeredmodel-detail", lookup) == expected
    assert detail_urls(context, lookup, "registeredmodel-detail") == [expected]


@pytest.mark.parametrize("lookup", LOOKUPS)
def test_a_list_link_encodes_its_filters_as_urlencode_does(lookup: str) -> None:
    context = {"request": RequestFactory().get("/")}
    base = reverse("modelversion-list", request=context["request"])

    assert list_url(context, "modelversion-list", model=lookup) == f"{base}?{urlencode({'model': lookup})}"
    assert list_url(context, "modelversion-list", model=lookup, state="approved") == (
        f"{base}?{urlencode({'model': lookup, 'state': 'approved'})}"
    )
