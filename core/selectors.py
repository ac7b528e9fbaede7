"""Reads of the shared kernel."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.models import User
from core.permissions import restrict


def user_queryset(*, user: Any) -> QuerySet[User]:
    """People the user may see, with their unit and roles loaded for a page."""
    return restrict(user, "view", User.objects.all()).select_related("business_unit").prefetch_related("groups")
