"""Template context of the governance pages shared by every page: the unread notifications count in the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from governance.selectors import notification_queryset


def notifications(request: HttpRequest) -> dict[str, Any]:
    """How many of the signed-in user's notifications are unread, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = notification_queryset(user=user).filter(read_at__isnull=True)
    return {"unread_notification_count": SimpleLazyObject(unread.count)}
