"""Paging of the model inventory API: page numbers as everywhere else, with the total counted only up to a cap,
and keyset paging (``?after=<key>``) for clients that walk the whole inventory.

Counting every model a Risk Officer may see (100,000 in a large group) cost more than the rest of a list request
together, so ``count`` is exact up to :data:`inventory.selectors.INVENTORY_COUNT_CAP` rows and ``count_exact``
says whether it is; past the cap, clients follow ``next`` until it is null, as the portal's other lists allow too.
A page number far into the list still makes the database skip every row before it; ``after`` starts the page at
a key instead, so page 2,000 costs what page 1 does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api.pagination import PortalPageNumberPagination
from inventory.selectors import INVENTORY_COUNT_CAP, CappedPage, capped_count, capped_page


class CappedCountPagination(PortalPageNumberPagination):
    """``?page=N&page_size=M`` with ``count`` exact up to the cap and ``count_exact`` telling whether it is, or
    ``?after=<key>&page_size=M``: the rows whose key sorts after that key.

    :meth:`paginate_rows` takes the filtered queryset and a ``fetch(queryset, offset, limit, count_up_to)`` that
    loads rows (and, when it can, the capped total in the same query; see ``inventory.selectors.capped_page``), so
    the view decides how a page is read (plain dicts, no model instances) while this class decides which page.
    With ``after``, ``count`` counts the rows from there on (capped the same way) and ``next`` carries the last
    key of the page; ``previous`` is null (keyset paging walks forward).
    """

    count_cap = INVENTORY_COUNT_CAP
    after_query_param = "after"
    keyset_field = "key"
    capped: CappedPage | None = None
    page_request: Request
    after_key: str | None = None

    def keyset_queryset(self, queryset: QuerySet[Any], request: Request) -> QuerySet[Any]:
        """``queryset`` narrowed to the rows after ``?after=`` (400 when combined with a page or another order)."""
        raw = request.query_params.get(self.after_query_param)
        self.after_key = None
        if raw is None:
            return queryset
        problems: dict[str, list[str]] = {}
        if self.page_query_param in request.query_params:
            problems[self.after_query_param] = [
                f"Give either {self.after_query_param} or {self.page_query_param}, not both."
            ]
        elif request.query_params.get("ordering", self.keyset_field).strip() not in ("", self.keyset_field):
            problems[self.after_query_param] = [
                f"Keyset paging follows the {self.keyset_field} order; leave out ordering or give "
                f"ordering={self.keyset_field}."
            ]
        elif len(raw) > 200:
            problems[self.after_query_param] = [
                f"Give the {self.keyset_field} of the last row of the previous page (empty for the first page)."
            ]
        if problems:
            raise serializers.ValidationError(problems)
        # An empty ``after`` starts keyset paging at the first row.
        self.after_key = raw.strip()
        if self.after_key:
            queryset = queryset.filter(**{f"{self.keyset_field}__gt": self.after_key})
        return queryset.order_by(self.keyset_field)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        """DRF's exact paging, for the short lists that reuse this class (a model's field history)."""
        self.capped = None
        return super().paginate_queryset(queryset, request, view)

    def paginate_rows(
        self,
        queryset: QuerySet[Any],
        request: Request,
        fetch: Callable[[QuerySet[Any], int, int, int | None], tuple[list[Any], int | None]],
        *,
        keyset: bool = False,
    ) -> list[Any]:
        """The rows of the requested page; 404 "Invalid page." for a page that is not a number or lies past the end.

        With ``keyset``, ``?after=<key>`` is honoured (the rows are then dicts or objects carrying the key).
        """
        self.request = self.page_request = request
        size = self.get_page_size(request)
        self.after_key = None
        if keyset:
            queryset = self.keyset_queryset(queryset, request)
        raw = request.query_params.get(self.page_query_param, "1").strip() or "1"
        if self.after_key is not None:
            number = 1
        elif raw in self.last_page_strings:
            count, _ = capped_count(queryset, cap=2**62)
            number = max(1, -(-count // size))
        else:
            try:
                number = int(raw)
            except ValueError:
                raise NotFound(
                    self.invalid_page_message.format(page_number=raw, message="That page number is not an integer")
                ) from None
        if number < 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page number is less than 1"))
        self.capped = capped_page(
            queryset,
            number=number,
            size=size,
            fetch=lambda offset, limit, count_up_to: fetch(queryset, offset, limit, count_up_to),
            cap=self.count_cap,
        )
        if not self.capped.rows and number > 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page contains no results"))
        return self.capped.rows

    def get_next_link(self) -> str | None:
        """The next page's URL, or None on the last page."""
        page = self.capped
        if page is None:
            return super().get_next_link()
        if not page.has_next:
            return None
        url = self.page_request.build_absolute_uri()
        if self.after_key is not None:
            last = page.rows[-1]
            last_key = last[self.keyset_field] if isinstance(last, dict) else getattr(last, self.keyset_field)
            return replace_query_param(url, self.after_query_param, last_key)
        return replace_query_param(url, self.page_query_param, page.number + 1)

    def get_previous_link(self) -> str | None:
        """The previous page's URL (without ``page`` for the first), or None on the first page."""
        page = self.capped
        if page is None:
            return super().get_previous_link()
        if not page.has_previous or self.after_key is not None:
            return None
        url = self.page_request.build_absolute_uri()
        if page.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        """``count``, ``count_exact``, ``next``, ``previous`` and ``results``."""
        if self.capped is None:
            assert self.page is not None
            count, exact = self.page.paginator.count, True
        else:
            count, exact = self.capped.count, self.capped.count_exact
        return Response(
            {
                "count": count,
                "count_exact": exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The page envelope as the OpenAPI schema documents it."""
        envelope = super().get_paginated_response_schema(schema)
        properties = envelope["properties"]
        properties["count"] = {
            "type": "integer",
            "example": 123,
            "description": f"The number of matching rows when `count_exact` is true. Past {self.count_cap:,} rows "
            f"the list is not counted: `count` is then {self.count_cap} and means at least that many; follow "
            "`next` until it is null to reach the end.",
        }
        properties["count_exact"] = {
            "type": "boolean",
            "description": f"Whether `count` is the exact total (true up to {self.count_cap:,} matching rows).",
        }
        envelope["required"] = ["count", "count_exact", "results"]
        # Keep the documented order: count, count_exact, next, previous, results.
        envelope["properties"] = {
            name: properties[name] for name in ("count", "count_exact", "next", "previous", "results")
        }
        return envelope
