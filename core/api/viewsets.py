"""Base viewsets: reads from a selector's queryset, writes through input serializer → service → output serializer.

A viewset built on these holds no business rule. It names its selector (``get_queryset``), its FilterSet, its
input and output serializers, the two service calls (``service_create``, ``service_update``) and, where the
permission does not depend on the body, the service module's permission check (``check_create_permission``,
``check_update_permission``); the rest (the 404 for what the user may not see, the 403 before the body is read,
refusing unknown fields, the reason, the 201 with its Location) is here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.serializers import InputSerializer, detail_url
from core.models import User


class PortalViewSet(viewsets.GenericViewSet):
    """Read side shared by every API viewset: the output serializer, the acting user, input reading."""

    output_serializer_class: type[serializers.BaseSerializer]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        """The output serializer: what reads answer and what the browsable API and schema show."""
        return self.output_serializer_class

    @property
    def actor(self) -> User:
        """The authenticated user making the request (the permission classes turned everyone else away)."""
        user = self.request.user
        assert isinstance(user, User)
        return user

    def read_input(self, serializer_class: type[InputSerializer], *, partial: bool = False) -> dict[str, Any]:
        """The validated body as keyword arguments for a service; a 400 naming each bad field otherwise."""
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if partial and not set(data) - {"change_reason"}:
            raise serializers.ValidationError({"non_field_errors": ["Give at least one field to change."]})
        return data

    def output(self, instance: Model) -> Any:
        """``instance`` as the output serializer renders it."""
        return self.get_serializer(instance).data

    def reload(self, instance: Model) -> Model:
        """``instance`` read back through the selector, so the answer shows it as a read would.

        A write can take the object out of the caller's sight (an owner handing a model to someone else); the
        caller still gets what they just wrote.
        """
        return self.get_queryset().filter(pk=instance.pk).first() or instance


class PortalReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """List and retrieve what the selector lets the caller see, filtered by the viewset's FilterSet."""


class PortalWriteViewSet(PortalReadOnlyViewSet):
    """List, retrieve, create and update (PUT and PATCH) through the app's services.

    PUT needs every field the update serializer requires; both PUT and PATCH change only the fields given. The
    permission is checked before the body: a caller who may not create or change gets 403 whatever the body holds,
    and only a permitted caller gets the 400 naming each bad field.
    """

    create_input_class: type[InputSerializer]
    update_input_class: type[InputSerializer]

    def check_create_permission(self) -> None:
        """Refuse (``PermissionDenied``, a 403) a caller who may not create here, before the body is read.

        Each viewset calls its service module's check, the one the create service makes itself. The default does
        nothing: where the permission depends on an object the body names (a version of the model in ``model``),
        the service decides once the body is valid, and a body naming an object the caller may not see is a 400.
        """

    def check_update_permission(self, instance: Any) -> None:
        """Refuse (``PermissionDenied``, a 403) a caller who sees ``instance`` but may not change it, before the
        body is read; each viewset calls its service module's check. The default does nothing."""

    def service_create(self, *, data: dict[str, Any], reason: str) -> Model:
        """Call the create service with the validated body; each viewset names its service."""
        raise NotImplementedError

    def service_update(self, *, instance: Any, changes: dict[str, Any], reason: str) -> Model:
        """Call the update service with the validated changes; each viewset names its service."""
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create through the service; 201 with the new object and its URL in ``Location``."""
        self.check_create_permission()
        data = self.read_input(self.create_input_class)
        reason = data.pop("change_reason", "")
        instance = self.reload(self.service_create(data=data, reason=reason))
        url = detail_url(self.get_serializer_context(), f"{self.basename}-detail", getattr(instance, self.lookup_field))
        return Response(self.output(instance), status=status.HTTP_201_CREATED, headers={"Location": url})

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change through the service the object the caller can see (404 otherwise; 403 if seen, not changeable)."""
        instance = self.get_object()
        self.check_update_permission(instance)
        changes = self.read_input(self.update_input_class, partial=kwargs.pop("partial", False))
        reason = changes.pop("change_reason", "")
        updated = self.service_update(instance=instance, changes=changes, reason=reason)
        return Response(self.output(self.reload(updated)))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH: the same as PUT without required fields."""
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)
