"""Serializer building blocks shared by every app's API, and the output of the people (users) API.

Write bodies follow one pattern: an input serializer checks the shape of the body and resolves references by
their natural keys (a unit's code, a person's username), then the view hands the result to a service, which
holds the business rules. What the API answers is rendered by separate output serializers.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from core.models import User

# Sent by HTML forms (the browsable API) alongside the fields; it is the CSRF check's, not a field of the body.
FORM_CONTROL_FIELDS = frozenset({"csrfmiddlewaretoken"})
_LOOKUP_PLACEHOLDER = "__lookup__"
# Characters quote() and urlencode() leave as they are: a lookup made of them alone (model keys, usernames,
# numbers) goes into a URL unchanged, without the quoting call a page of links would otherwise make per link.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]+")


class StrictCharField(serializers.CharField):
    """A text field that refuses numbers and booleans instead of silently turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        """Refuse anything but a string, then apply CharField's own checks."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class VisibleSlugRelatedField(serializers.SlugRelatedField):
    """A reference by natural key, resolved only among the objects the requesting user may see.

    ``selector`` is the read selector of the referenced model (``business_unit_queryset``); an object the user
    may not see answers exactly like one that does not exist, so a write body can never probe for it.
    """

    default_error_messages = {
        "does_not_exist": "{noun} {value} does not exist.",
        "invalid": "Give the {noun_lower}'s {slug_name} as text.",
    }

    def __init__(
        self, model: type[Model], *, selector: Callable[..., QuerySet[Any]], slug_field: str, **kwargs: Any
    ) -> None:
        self.selector = selector
        self.model = model
        # The schema generator reads the model and the slug field's type from this empty queryset; requests
        # resolve against the selector instead (see get_queryset).
        kwargs.setdefault("queryset", model._default_manager.none())
        super().__init__(slug_field=slug_field, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        """The referenced model's rows the requesting user may see."""
        request = self.context.get("request")
        user = getattr(request, "user", None) or AnonymousUser()
        return self.selector(user=user)

    def to_internal_value(self, data: Any) -> Any:
        """The visible object with this natural key, or a 'does not exist' error."""
        noun = str(self.model._meta.verbose_name).capitalize()
        if not isinstance(data, str) or not data:
            self.fail("invalid", noun_lower=noun.lower(), slug_name=self.slug_field)
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except (ObjectDoesNotExist, ValueError, TypeError):
            self.fail("does_not_exist", noun=noun, value=data)


class InputSerializer(serializers.Serializer):
    """Base of every write body: validates shape only, refuses fields it does not know, carries the reason.

    A field a client may read but not write (a model's key after creation) is answered with the message in
    ``read_only_messages`` rather than the generic "unknown field", so the client learns why.
    """

    read_only_messages: ClassVar[Mapping[str, str]] = {}

    change_reason = StrictCharField(
        required=False,
        allow_blank=True,
        help_text="Why the change is made; kept with the change in the object's field history.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        """This body's own copies of the declared fields.

        DRF deep-copies each declared field for every serializer, which builds the field anew from its arguments
        (0.13 ms of the gate's 0.2 ms body check). A field without nested fields keeps no state of its own
        but what ``bind`` sets on the copy (name, parent, label, source), so it is copied shallowly, with its own
        list of validators; fields with nested fields (lists, dicts, related many, nested bodies) or a mutable default
        are deep-copied as before.
        """
        fields: dict[str, serializers.Field] = {}
        for name, declared in self._declared_fields.items():
            if (
                isinstance(declared, serializers.BaseSerializer)
                or hasattr(declared, "child")
                or hasattr(declared, "child_relation")
                # A list or dict given as the default lands in validated data: each body needs its own.
                or isinstance(getattr(declared, "default", None), list | dict | set)
            ):
                fields[name] = copy.deepcopy(declared)
                continue
            field: Any = copy.copy(declared)
            if "_validators" in field.__dict__:
                field._validators = list(field._validators)
            fields[name] = field
        return fields

    def to_internal_value(self, data: Any) -> Any:
        """The validated body; unknown fields are reported together with the other fields' errors."""
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            accepted = ", ".join(sorted(name for name, field in self.fields.items() if not field.read_only))
            for name in data:
                if name in self.fields or name in FORM_CONTROL_FIELDS:
                    continue
                message = self.read_only_messages.get(name, f"Unknown field. This body accepts: {accepted}.")
                unknown[str(name)] = [message]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class ReasonOnlyInputSerializer(InputSerializer):
    """The body of a removal: nothing but an optional reason for the record."""


def detail_url(context: Mapping[str, Any], view_name: str, lookup: Any) -> str:
    """The absolute URL of one object's API endpoint.

    The URL is reversed once per request and view name, then filled in per object: reversing costs tens of
    microseconds, which a page of 200 rows with several links each would otherwise pay hundreds of times.
    """
    return _detail_template(context, view_name).replace(_LOOKUP_PLACEHOLDER, _quoted(lookup))


def detail_urls(context: Mapping[str, Any], lookup: Any, *view_names: str) -> list[str]:
    """The absolute URLs of one object under several views (its record, history, ...), quoting its lookup once."""
    quoted = _quoted(lookup)
    return [_detail_template(context, name).replace(_LOOKUP_PLACEHOLDER, quoted) for name in view_names]


def iso_datetime(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """What DRF's ``DateTimeField`` writes: the value in ``zone`` (:func:`answer_time_zone`), ISO 8601, UTC as Z.

    For records built without a serializer field per value; DRF looks the zone up for every value, so the
    caller looks it up once per answer.
    """
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def answer_time_zone(context: dict[str, Any]) -> dt.tzinfo:
    """The current time zone, looked up once per answer and kept in its serializer context."""
    zone: dt.tzinfo = context.get("time_zone") or context.setdefault("time_zone", timezone.get_current_timezone())
    return zone


def _quoted(lookup: Any) -> str:
    text = str(lookup)
    return text if _UNQUOTED.fullmatch(text) else quote(text, safe="@+")


def _detail_template(context: Mapping[str, Any], view_name: str) -> str:
    cache: dict[str, str] = context.get("url_templates", {}) if isinstance(context, dict) else {}
    template = cache.get(view_name)
    if template is None:
        template = reverse(view_name, args=[_LOOKUP_PLACEHOLDER], request=context.get("request"))
        if isinstance(context, dict):
            context.setdefault("url_templates", cache)[view_name] = template
    return template


def list_url(context: Mapping[str, Any], view_name: str, **filters: str) -> str:
    """The absolute URL of a list endpoint with the given filters, e.g. a model's versions."""
    cache: dict[str, str] = context.get("url_templates", {}) if isinstance(context, dict) else {}
    base = cache.get(view_name)
    if base is None:
        base = reverse(view_name, request=context.get("request"))
        if isinstance(context, dict):
            context.setdefault("url_templates", cache)[view_name] = base
    if all(_UNQUOTED.fullmatch(str(value)) for value in filters.values()):
        return base + "?" + "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{base}?{urlencode(filters)}"


class PersonSerializer(serializers.Serializer):
    """A person as other records show them: the username that identifies them and the name people read."""

    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class UnitSummarySerializer(serializers.Serializer):
    """A business unit as a person's record shows it."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class UserLinksSerializer(serializers.Serializer):
    """Where to find a person in the API."""

    self = serializers.URLField(read_only=True)


class UserOutputSerializer(serializers.Serializer):
    """A person or service account: who they are, where they sit in the organisation and which roles they hold."""

    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    # Not EmailField: people created without an address have "" here, which is not an e-mail address.
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty when none is recorded.")
    title = serializers.CharField(read_only=True)
    business_unit = UnitSummarySerializer(read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()
    is_service_account = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    links = serializers.SerializerMethodField()

    def get_roles(self, user: User) -> list[str]:
        """Role names, read from the prefetched groups so a page of people costs no query per person."""
        return sorted(group.name for group in user.groups.all())

    @extend_schema_field(UserLinksSerializer)
    def get_links(self, user: User) -> dict[str, str]:
        """API links of the person."""
        return {"self": detail_url(self.context, "user-detail", user.username)}
