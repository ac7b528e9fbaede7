"""Pagination shared by every list endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class PortalPageNumberPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (at most 200 rows a page, 50 by default).

    A page size that is not a whole number from 1 to 200 is refused with a 400 naming ``page_size``, rather
    than quietly replaced by the default: a pipeline that asked for 500 rows should learn it got fewer.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """The requested page size, or a 400 naming ``page_size``."""
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if not raw:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise serializers.ValidationError({self.page_size_query_param: ["Give a whole number."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {self.page_size_query_param: [f"Give a number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """Paging parameters as the schema documents them, with their bounds."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size, "default": self.page_size})
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update({"minimum": 1})
        return parameters
