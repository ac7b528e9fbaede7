"""Checks shared by the governance services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from core.permissions import has_model_permission

COMMENT_MAX = 10_000


def require_role_permission(actor: Any, model: type[Any], codename: str, doing: str) -> None:
    """Refuse unless the actor's roles hold ``app.codename`` (e.g. a Risk Officer's review permission)."""
    app_label = model._meta.app_label
    if not (actor.is_active and actor.has_perm(f"{app_label}.{codename}")):
        raise PermissionDenied(f"You may not {doing}.")


def require_add(actor: Any, model: type[Any], doing: str) -> None:
    if not has_model_permission(actor, model, "add"):
        raise PermissionDenied(f"You may not {doing}.")


def clean_comment(comment: str, *, field: str = "comment", required: bool = False, minimum: int = 0) -> str:
    """A trimmed comment, refused when too long, or missing/too short where a reason is mandatory."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({field: [f"At most {COMMENT_MAX} characters (got {len(comment)})."]})
    if required and len(comment) < max(minimum, 1):
        message = f"Give a reason of at least {minimum} characters." if minimum > 1 else "This field is required."
        raise ValidationError({field: [message]})
    return comment
