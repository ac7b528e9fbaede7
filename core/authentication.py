"""API token authentication: ``Authorization: Token mop_<lookup>_<secret>`` (``Bearer`` is accepted too)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.models import TOKEN_PREFIX, ApiToken


def client_address(request: Request) -> str | None:
    """The address of the connection the request came on (``REMOTE_ADDR``), or None when it is not an IP.

    Forwarding headers (``X-Forwarded-For``) are ignored on purpose: any client can write them, and the record
    of who used a token must not be something the token holder chooses. Behind a proxy this is the proxy's
    address unless the server in front rewrites ``REMOTE_ADDR`` itself.
    """
    raw = str(request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Looks the token up by its public part and compares the SHA-256 of the whole token in constant time."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Token <token>'.")
        try:
            clear = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Token contains invalid characters.") from None
        prefix, _, rest = clear.partition("_")
        lookup, _, _secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not lookup:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = ApiToken.objects.select_related("user").filter(lookup=lookup).first()
        if token is None or not hmac.compare_digest(token.digest, ApiToken.hash_secret(clear)):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_usable:
            raise exceptions.AuthenticationFailed("Token has expired or was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        # Every use is recorded with one UPDATE; the count is incremented in the database, so concurrent
        # requests with the same token never lose a use to a read-modify-write race.
        ApiToken.objects.filter(pk=token.pk).update(
            use_count=F("use_count") + 1, last_used_at=timezone.now(), last_used_from=client_address(request)
        )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class PersonModelBackend(ModelBackend):
    """Password sign-in for people only: service accounts authenticate with API tokens, whatever password an
    administrator may have set on them."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)
