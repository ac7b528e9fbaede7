"""The one permission gate: ``restrict(user, action, queryset)``.

Every view, viewset and selector narrows its queryset through this function, so an object a user may not see
is simply absent (a 404), never a 403 that would confirm it exists. The rules, in order:

1. Anonymous or inactive users see nothing.
2. Superusers and users whose roles (groups) hold the model-level permission ``<app>.<action>_<model>`` see
   every row: Risk Officers, Auditors and Admins work across the whole inventory.
3. A model that declares ``permission_parent`` (a version belongs to a registered model) inherits from its
   parent: viewing needs ``view`` on the parent, every other action needs ``change`` on it. Objects it names
   in ``permission_also_visible`` must be visible too.
4. A model that declares ``object_permissions = True`` is filtered by django-guardian object permissions,
   granted only by services, and only to users (owners, assigned validators, scoped service accounts).
5. Otherwise nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from django.db import models
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from core.compiled import CompiledQuery

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser
    from django.db.models.expressions import BaseExpression

ACTIONS = ("view", "add", "change", "delete")

_QS = TypeVar("_QS", bound=models.QuerySet[Any])
_M = TypeVar("_M", bound=models.Model)


def permission_codename(model: type[models.Model], action: str) -> str:
    """``inventory.view_registeredmodel`` for (RegisteredModel, "view")."""
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def has_model_permission(user: AbstractUser | AnonymousUser, model: type[models.Model], action: str) -> bool:
    """Whether the user's roles grant ``action`` on every row of ``model``."""
    return bool(user.is_active and user.has_perm(permission_codename(model, action)))


def _permission_name(model: type[models.Model], action: str) -> str:
    """The permission an action needs: ``app.<action>_<model>``, or ``app.<codename>`` for ``custom:<codename>``."""
    if action.startswith("custom:"):
        return f"{model._meta.app_label}.{action.removeprefix('custom:')}"
    return permission_codename(model, action)


def _whole_table(user: AbstractUser | AnonymousUser, perm: str) -> bool | None:
    """Rules 1 and 2: False when the user may act on no row (anonymous, inactive), True when on every row
    (superusers, roles holding ``perm``), None when the rows decide (rules 3 and 4)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False) or user.has_perm(perm):
        return True
    return None


def sees_every_row(user: AbstractUser | AnonymousUser, model: type[models.Model], action: str = "view") -> bool:
    """Whether :func:`restrict` gives ``user`` every row of ``model`` for ``action`` (superusers, and roles that
    hold the model-level permission): a reader of portfolio-wide figures may then skip the visibility filter."""
    return _whole_table(user, _permission_name(model, action)) is True


def restrict(user: AbstractUser | AnonymousUser, action: str, queryset: _QS) -> _QS:
    """The rows of ``queryset`` on which ``user`` may perform ``action``."""

    if action not in ACTIONS and not action.startswith("custom:"):
        raise ValueError(f"unknown action {action!r}")
    model = queryset.model
    perm = _permission_name(model, action)
    whole = _whole_table(user, perm)
    if whole is not None:
        return queryset if whole else queryset.none()
    parent_name: str | None = getattr(model, "permission_parent", None)
    if parent_name:
        parent_model = cast("type[models.Model]", model._meta.get_field(parent_name).related_model)
        parent_action = "view" if action == "view" else "change"
        allowed_parents = restrict(user, parent_action, parent_model._default_manager.all())
        queryset = queryset.filter(**{f"{parent_name}__in": allowed_parents.values("pk")})
        # A row that names other objects (a dependency names its upstream model) is shown only to users who
        # may see those too, so a link never reveals a model the user may not see.
        for other_name in getattr(model, "permission_also_visible", ()):
            other_model = cast("type[models.Model]", model._meta.get_field(other_name).related_model)
            visible = restrict(user, "view", other_model._default_manager.all())
            queryset = queryset.filter(**{f"{other_name}__in": visible.values("pk")})
        return queryset
    if getattr(model, "object_permissions", False):
        # Signed in: _whole_table answered for anonymous users.
        return queryset.filter(pk__in=_object_permission_pks(cast("AbstractUser", user), model, perm))
    return queryset.none()


def may_row(user: AbstractUser | AnonymousUser, action: str, model: type[models.Model]) -> BaseExpression:
    """Whether ``user`` may perform ``action`` on each row of ``model``, as a boolean expression for
    ``annotate``; the same rules as :func:`restrict`, which it follows branch by branch.

    ``restrict`` narrows a queryset; a read that needs a row and, beside it, what the user may do with it (the
    gate's "may this caller ask?") would otherwise annotate ``Exists(restrict(...).filter(pk=OuterRef("pk")))``,
    which joins the model's table again and lets PostgreSQL read every row the user holds the permission on (a
    CI account scoped to 1,000 models: 1,000 index probes per decision). For rows with their own object
    permission table the answer is a probe of that table's (user, permission, object) index.
    """
    perm = _permission_name(model, action)
    whole = _whole_table(user, perm)
    if whole is not None:
        return models.Value(whole)
    table = _own_permission_table(model)
    if (
        table is not None
        and getattr(model, "object_permissions", False)
        and not getattr(model, "permission_parent", None)
    ):
        grants = table._default_manager.filter(user=user, permission_id__in=_permission_ids(perm))
        return models.Exists(grants.filter(content_object_id=models.OuterRef("pk")))
    return models.Exists(restrict(user, action, model._default_manager.filter(pk=models.OuterRef("pk"))))


def _own_permission_table(model: type[models.Model]) -> type[models.Model] | None:
    """The model's own django-guardian user permission table, or None when it uses guardian's generic one."""
    from guardian.utils import get_user_obj_perms_model

    table = get_user_obj_perms_model(model)  # type: ignore[arg-type]  # a class is accepted too
    return None if table.objects.is_generic() else table  # type: ignore[attr-defined]


def _object_permission_pks(user: AbstractUser, model: type[models.Model], perm: str) -> models.QuerySet[Any]:
    """The primary keys of ``model`` rows on which ``user`` holds the object permission ``perm``.

    The services grant object permissions to users only (owners, validators, service accounts, requesters),
    never to groups. For a model with its own user permission table, reading that table alone lets the database
    start from the user's few permission rows; guardian's generic query also ORs in group permissions, which
    turns an owner's inventory page into two scans of every model. Models without a table of their own keep
    guardian's generic lookup.
    """
    from guardian.shortcuts import get_objects_for_user

    table = _own_permission_table(model)
    if table is None:
        allowed = get_objects_for_user(
            user, perm, model._default_manager.all(), accept_global_perms=False, with_superuser=False
        )
        return allowed.values("pk")
    return table._default_manager.filter(user=user, permission_id__in=_permission_ids(perm)).values("content_object_id")


_PERMISSION_IDS: dict[str, tuple[int, ...]] = {}


def _permission_ids(perm: str) -> tuple[int, ...]:
    """The ids of the permission rows named ``app_label.codename``; every permission is read once per process.

    Naming the ids spares every permission subquery two joins (permissions and content types) and the ORM the
    work of building them, on every restricted read. Permission rows are created by migrations and never
    change; ``post_migrate`` forgets the ids (a flushed test database recreates the rows). A row deleted in
    another process takes its object permissions with it, so a stale id matches nothing: it fails closed.
    """
    if not _PERMISSION_IDS:
        from django.contrib.auth.models import Permission

        ids: dict[str, list[int]] = {}
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename"):
            ids.setdefault(f"{app_label}.{codename}", []).append(pk)
        _PERMISSION_IDS.update((name, tuple(found)) for name, found in ids.items())
    return _PERMISSION_IDS.get(perm, ())


@receiver(post_migrate)
def _forget_permission_ids(**kwargs: Any) -> None:
    _PERMISSION_IDS.clear()


def user_can(user: AbstractUser | AnonymousUser, action: str, obj: models.Model) -> bool:
    """Whether ``user`` may perform ``action`` on this one object (same rules as :func:`restrict`)."""
    manager = type(obj)._default_manager
    return restrict(user, action, manager.filter(pk=obj.pk)).exists()


class RestrictedQuerySet(models.QuerySet[Any]):
    """QuerySet with ``.restrict(user, action)``, so selectors can chain the gate like any filter."""

    def restrict(self, user: AbstractUser | AnonymousUser, action: str = "view") -> RestrictedQuerySet:
        return restrict(user, action, self)


class RestrictedCompiledQuery(Generic[_M]):
    """A :class:`core.compiled.CompiledQuery` of a queryset that goes through this gate for a user: ``build(user,
    **slots)`` narrows with :func:`restrict` or annotates with :func:`may_row`, and is compiled once per set of
    roles instead of on every request.

    What the gate's SQL holds of a user is what rules 1 and 2 answer, which depends on the user being a
    superuser and on the permissions their roles and direct grants give them, and the user's id, which rules 3
    and 4 take as a parameter. So the query is compiled for a stand-in user with the same permissions and a
    stand-in id, once per such set, and run with the real user's id. Anonymous and inactive users get no rows
    (rule 1) without a query. ``build`` must therefore read nothing else of the user (not its groups or unit):
    what it reads of the stand-in would be compiled into the SQL of everyone with the same permissions.
    """

    MAX_ROLE_SETS = 64

    def __init__(self, build: Callable[..., models.QuerySet[_M]], **slots: type) -> None:
        self.build = build
        self.slots = slots
        self._per_roles: dict[tuple[bool, frozenset[str]], CompiledQuery[_M]] = {}

    def all(self, user: AbstractUser | AnonymousUser, **values: Any) -> list[_M]:
        """The query's objects for ``user`` and these slot values."""
        if not user.is_authenticated or not user.is_active:
            return []
        superuser = bool(getattr(user, "is_superuser", False))
        roles = (superuser, frozenset() if superuser else frozenset(user.get_all_permissions()))
        compiled = self._per_roles.get(roles)
        if compiled is None:
            if len(self._per_roles) >= self.MAX_ROLE_SETS:
                self._per_roles.clear()
            compiled = CompiledQuery(
                lambda user_id, **stand_ins: self.build(_stand_in_user(user_id, *roles), **stand_ins),
                may_be_unused=("user_id",),
                user_id=int,
                **self.slots,
            )
            self._per_roles[roles] = compiled
        return compiled.all(user_id=user.pk, **values)

    def first(self, user: AbstractUser | AnonymousUser, **values: Any) -> _M | None:
        """The first object for ``user`` and these values, or None."""
        found = self.all(user, **values)
        return found[0] if found else None


def _stand_in_user(user_id: int, superuser: bool, permissions: frozenset[str]) -> AbstractUser:
    """An active user with this id and these permissions, never saved: what a query is compiled for."""
    from django.contrib.auth import get_user_model

    user = get_user_model()(pk=user_id, is_active=True, is_superuser=superuser)
    user._perm_cache = set(permissions)  # type: ignore[attr-defined]  # ModelBackend's own cache, read by has_perm
    return cast("AbstractUser", user)
