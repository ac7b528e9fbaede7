"""The API's JSON renderer: DRF's, with the encoding done by orjson."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_DRF_ENCODER = JSONEncoder()

# Dates, times and dataclasses go to DRF's encoder, so they are written exactly as DRF writes them (a UTC
# datetime ends in Z, a timedelta is its seconds); integer dictionary keys become text, as json.dumps makes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def _drf_default(value: Any) -> Any:
    return _DRF_ENCODER.default(value)


class PortalJSONRenderer(JSONRenderer):
    """Renders what DRF's :class:`JSONRenderer` renders, about five times faster.

    DRF encodes with the standard library's ``json``; a page of 50 inventory records (57 KB) took 0.3 ms of the
    request, which orjson writes in a twentieth of that. The output is compact UTF-8 JSON like DRF's, with U+2028
    and U+2029 escaped as DRF escapes them; values orjson does not know natively (dates and times, decimals,
    lazy translations, IP addresses, NumPy scalars) are converted by DRF's own encoder. Two differences remain, both
    outside what the portal's serializers produce: a float is written in its shortest form (``1e-07`` as ``1e-7``,
    the same number), and a non-finite float (which every figure the portal computes turns into null first)
    becomes ``null`` instead of a server error. A request for indented JSON (``Accept: application/json;
    indent=2``), and anything orjson refuses (an integer beyond 64 bits), is rendered by DRF itself.
    """

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
            # DRF escapes the two line separators JSON allows and JavaScript did not.
            rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return rendered
