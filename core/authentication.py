"""API token authentication: ``Authorization: Token mop_<lookup>_<secret>`` (``Bearer`` is accepted too)."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.models import TOKEN_PREFIX, ApiToken

# Recording every use would turn each API read into a write; once a minute per token is enough to answer
# "is this token still used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class PersonModelBackend(ModelBackend):
    """Password sign-in for people only: service accounts authenticate with API tokens, whatever password an
    administrator may have set on them."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)
