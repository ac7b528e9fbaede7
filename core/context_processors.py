"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.navigation import main_navigation
from core.roles import ALL_ROLES


def portal(request: HttpRequest) -> dict[str, Any]:
    """Portal name, the signed-in user's roles and their main navigation, for the page header."""
    context: dict[str, Any] = {"portal_name": settings.PORTAL_NAME, "user_roles": []}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        roles = [name for name in user.groups.values_list("name", flat=True) if name in ALL_ROLES]
        match = request.resolver_match
        context["user_roles"] = roles
        context["main_navigation"] = main_navigation(
            roles,
            is_staff=user.is_staff,
            namespace=(match.namespace if match else "") or "",
            url_name=(match.url_name if match else "") or "",
        )
    return context
