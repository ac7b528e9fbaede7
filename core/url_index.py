"""URL patterns grouped by their first path segment, so a request is matched against its own group only.

Django resolves a path by trying every pattern in order. The API's router makes about 200 patterns (each route
with its ``.json`` twin), so a request for a route registered late (the gate's, the reports') was tried against
some 180 regular expressions first: 0.2 ms of every gate decision. :func:`index_by_first_segment` puts the
patterns that share a literal first segment (``gate``, ``models``) in one group, and a :class:`SegmentDispatch`
looks the path's first segment up among the groups; a group consumes nothing of the path, so its patterns see
it as before: names, reversing, captured values and the order within a group are unchanged. Patterns whose first
segment is not a literal word are left as they are, and then nothing is grouped (grouping around them could
change which pattern wins).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.urls import Resolver404, URLPattern, URLResolver
from django.urls.resolvers import RegexPattern, RoutePattern

# ^word followed by "/", an escaped "." (the format suffix), or the end of the pattern.
_LITERAL_HEAD = re.compile(r"\^([A-Za-z0-9_-]+)(?=/|\\\.|\$|\\Z)")
# The router's root: "^$" / "^\Z", or the format suffix alone ("^\.(?P<format>..." or "^(?P<format>\....").
_EMPTY_HEAD = re.compile(r"\^(\$|\\Z|\\\.|\(\?P<format>\\\.)")


def first_segment(pattern: URLPattern | URLResolver) -> str | None:
    """The literal first segment every path the pattern matches starts with ("" for the root), or None when the
    pattern's regular expression does not say."""
    regex = getattr(pattern.pattern, "_regex", None)
    if not isinstance(pattern.pattern, RegexPattern | RoutePattern) or not isinstance(regex, str):
        return None
    if _EMPTY_HEAD.match(regex):
        return ""
    head = _LITERAL_HEAD.match(regex)
    return head.group(1) if head else None


# A group's own pattern: matches any path and consumes none of it, so it adds nothing to a reversed URL either. Which
# group a path belongs to is SegmentDispatch's lookup.
_WHOLE_PATH = RegexPattern("", name=None, is_endpoint=False)


class SegmentDispatch(URLResolver):
    """The groups of :func:`index_by_first_segment`: a path goes to the group of its first segment, or is not
    found, without trying the other groups (each try Django makes costs an exception)."""

    def __init__(self, groups: dict[str, URLResolver]) -> None:
        # Reversing and Django's checks walk the groups as the patterns of this resolver.
        super().__init__(_WHOLE_PATH, list(groups.values()))
        self.groups = groups

    def resolve(self, path: str) -> Any:
        """The match in the path's group (that group's own patterns were tried), or Resolver404."""
        text = str(path)
        group = self.groups.get(_FIRST_SEGMENT.match(text).group())  # type: ignore[union-attr]
        if group is None:
            raise Resolver404({"tried": [[each] for each in self.groups.values()], "path": text})
        return group.resolve(text)


_FIRST_SEGMENT = re.compile(r"[^/.]*")


def index_by_first_segment(patterns: Sequence[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """``patterns`` as one :class:`SegmentDispatch` over one group per first segment; ``patterns`` unchanged if
    any of them has no literal first segment."""
    groups: dict[str, list[URLPattern | URLResolver]] = {}
    for pattern in patterns:
        segment = first_segment(pattern)
        if segment is None:
            return list(patterns)
        groups.setdefault(segment, []).append(pattern)
    return [SegmentDispatch({segment: URLResolver(_WHOLE_PATH, members) for segment, members in groups.items()})]
