"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.roles import ALL_ROLES


def portal(request: HttpRequest) -> dict[str, Any]:
    """Portal name and the signed-in user's roles, for the page header."""
    roles: list[str] = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        roles = [name for name in user.groups.values_list("name", flat=True) if name in ALL_ROLES]
    return {"portal_name": settings.PORTAL_NAME, "user_roles": roles}
