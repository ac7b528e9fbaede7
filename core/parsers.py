"""Request body parsers: DRF's JSON parser with a nesting limit, so a hostile body is a 400, never a 500.

Python's JSON decoder recurses once per level of nesting: ten thousand ``[`` exhaust the interpreter's stack
and raise ``RecursionError``, which DRF's parser does not catch (it answers ``ValueError`` only), so the request
ended in a 500. Bodies the portal accepts are a few levels deep (an artifact's metadata, a questionnaire's
options); anything deeper than ``MAX_JSON_DEPTH`` is refused with a message before a serializer sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Levels of arrays and objects one body may nest; the bodies the API documents stay within a handful.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep (iterative: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class DepthLimitedJSONParser(JSONParser):
    """JSON bodies nested at most ``MAX_JSON_DEPTH`` levels; deeper ones are a 400 that says so."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        """The parsed body, or a ``ParseError`` naming the nesting limit."""
        refusal = f"JSON parse error - the body nests arrays or objects more than {self.max_depth} levels deep."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(refusal) from None
        if json_depth_exceeds(data, self.max_depth):
            raise ParseError(refusal)
        return data
