"""Kernel API: the people directory (read-only) and "who am I"."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import UserOutputSerializer
from core.api.viewsets import PortalReadOnlyViewSet
from core.models import User
from core.selectors import user_queryset


@extend_schema_view(
    list=extend_schema(
        summary="List people and service accounts",
        description="People visible to the caller (roles that work across the inventory see everyone).",
        responses={200: UserOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One person by username",
        responses={200: UserOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class UserViewSet(PortalReadOnlyViewSet):
    """People with their title, business unit and roles, looked up by username."""

    output_serializer_class = UserOutputSerializer
    lookup_field = "username"
    # Usernames may hold dots and @ (``jane.doe``, ``ci@pipelines``), which the router's default pattern refuses.
    lookup_value_regex = r"[\w.@+-]+"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[User]:
        """People the caller may see, with unit and roles loaded for the page."""
        return user_queryset(user=self.request.user)

    @extend_schema(
        summary="The caller",
        description="The authenticated user with their roles; every user may read themselves.",
        responses={200: UserOutputSerializer, **schema.error_responses(401)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def me(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The authenticated caller, whatever their roles (a service account may not list people)."""
        user = User.objects.select_related("business_unit").prefetch_related("groups").get(pk=self.actor.pk)
        return Response(self.output(user))
