"""The API's URL patterns grouped by first segment resolve exactly as the router's flat list, trying far fewer."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse
from django.urls import Resolver404, URLPattern, URLResolver, path, re_path, reverse
from django.urls.resolvers import RegexPattern
from django.utils.regex_helper import normalize

from config.api_urls import router
from core.url_index import SegmentDispatch, first_segment, index_by_first_segment


def _resolver(patterns: list[Any]) -> URLResolver:
    return URLResolver(RegexPattern(r"^api/v1/"), patterns)


def _sample_paths() -> list[str]:
    """One path per router pattern, its captured values filled in ("json" for the format suffix)."""
    paths = []
    for pattern in router.urls:
        for template, names in normalize(pattern.pattern.regex.pattern):
            values = {name: "json" if name == "format" else f"x{index}" for index, name in enumerate(names)}
            text = template % values
            paths.append("api/v1/" + (text.replace("json", ".json", 1) if text.startswith("json") else text))
    return paths


def _outcome(resolver: URLResolver, text: str) -> Any:
    try:
        match = resolver.resolve(text)
    except Resolver404:
        return None
    return match.func, match.url_name, match.kwargs, match.args


def test_every_route_of_the_api_resolves_as_the_flat_list_does() -> None:
    flat, grouped = _resolver(list(router.urls)), _resolver(index_by_first_segment(router.urls))
    paths = _sample_paths()
    assert len(paths) >= len(router.urls)
    misses = [text for text in paths if _outcome(grouped, text) is None]
    assert misses == []
    for text in [*paths, "api/v1/gatex/check/", "api/v1/gate", "api/v1/nothing/", "api/v1/models/a/b/c/"]:
        assert _outcome(grouped, text) == _outcome(flat, text), text


def test_a_request_is_tried_against_its_own_group_only() -> None:
    grouped = _resolver(index_by_first_segment(router.urls))
    with pytest.raises(Resolver404) as missed:
        grouped.resolve("api/v1/gate/nothing/")
    # Only the gate's own patterns were matched against the path.
    patterns = [tried[-1] for tried in missed.value.args[0]["tried"]]
    assert 0 < len(patterns) <= 10 < len(router.urls)
    assert all(isinstance(pattern, URLPattern) for pattern in patterns)
    assert all(str(pattern.pattern).startswith("^gate/") for pattern in patterns)


def test_names_reverse_through_the_groups() -> None:
    assert reverse("gatecheck-list") == "/api/v1/gate/check/"
    assert reverse("registeredmodel-detail", kwargs={"key": "CR-0001"}) == "/api/v1/models/CR-0001/"
    assert reverse("api-root") == "/api/v1/"


def test_patterns_without_a_literal_first_segment_are_left_as_they_are() -> None:
    def view(request: Any) -> HttpResponse:
        return HttpResponse()

    literal = [path("models/", view), re_path(r"^models\.(?P<format>[a-z]+)$", view), path("", view)]
    assert [first_segment(pattern) for pattern in literal] == ["models", "models", ""]
    (dispatch,) = index_by_first_segment(literal)
    assert isinstance(dispatch, SegmentDispatch) and list(dispatch.groups) == ["models", ""]
    open_ended = [*literal, re_path(r"^mod(?P<rest>.*)$", view)]
    assert first_segment(open_ended[-1]) is None
    assert index_by_first_segment(open_ended) == open_ended
