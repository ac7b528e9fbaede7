"""Django admin for the shared kernel: people and service accounts with their roles, API tokens (read-only, with
a revoke action), worker heartbeats (read-only), and sign-in attempts and lockouts (read-only, with a release
action)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from core.lockout import LockoutAdminAuthenticationForm, lockout_release
from core.models import ApiToken, Lockout, LoginAttempt, ServiceHeartbeat, User
from core.services import api_token_revoke

admin.site.site_header = f"{settings.PORTAL_NAME} administration"
admin.site.site_title = settings.PORTAL_NAME
admin.site.index_title = "Inventory data, people and access"
# The admin's sign-in honours the same lockouts as the portal's, and says so (core/lockout.py).
admin.site.login_form = LockoutAdminAuthenticationForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages only: no add, change or delete. For records that only a service or a process
    writes (the ledger, decisions, sign-in attempts): a generic admin form would bypass the rules they are written
    by, and deleting one would erase the record."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PortalUserCreationForm(AdminUserCreationForm):
    """Django's admin user creation form, bound to the portal's user model."""

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}


class PortalUserChangeForm(UserChangeForm):
    """Django's user change form, bound to the portal's user model."""

    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}


@admin.register(User)
class PortalUserAdmin(SimpleHistoryAdmin, UserAdmin):
    """People and service accounts: their job title, business unit and roles (groups)."""

    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("In the organisation", {"fields": ("title", "business_unit", "is_service_account")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (
            "In the organisation",
            {"fields": ("first_name", "last_name", "email", "title", "business_unit", "is_service_account", "groups")},
        ),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "title",
        "business_unit",
        "is_service_account",
        "is_active",
        "is_staff",
    )
    list_filter = ("is_service_account", "is_active", "is_staff", "groups", "business_unit")
    list_select_related = ("business_unit",)
    search_fields = ("username", "first_name", "last_name", "email", "title")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens, read-only: the secret is never stored, so tokens are issued by the token service (which shows
    the clear token once) and only revoked here; revoked tokens are kept for the record."""

    list_display = (
        "name",
        "user",
        "lookup",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_from",
        "use_count",
        "usable",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "lookup", "user__username")
    readonly_fields = (
        "user",
        "name",
        "lookup",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_from",
        "use_count",
    )
    fields = readonly_fields
    actions = ["revoke_tokens"]

    @admin.display(boolean=True, description="Usable")
    def usable(self, token: ApiToken) -> bool:
        """Neither revoked nor expired."""
        return token.is_usable

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking needs the change permission on tokens."""
        return request.user.has_perm("core.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Revoke each selected token through the token service."""
        revoked = 0
        for token in queryset.select_related("user"):
            try:
                api_token_revoke(actor=cast(User, request.user), token=token)
            except PermissionDenied as error:
                self.message_user(request, f"{token}: {error}", messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(admin.ModelAdmin):
    """When the worker and beat last proved they were alive; written by the processes themselves."""

    list_display = ("name", "hostname", "last_seen")
    readonly_fields = ("name", "hostname", "last_seen", "details")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Heartbeats are written by the background processes only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdmin):
    """Every sign-in attempt, by password or API token: written by the sign-in path only, never edited or deleted
    here (``core.lockout.login_attempts_prune`` removes old ones)."""

    list_display = ("at", "channel", "username", "address", "succeeded", "refused")
    list_filter = ("channel", "succeeded", "refused", "at")
    search_fields = ("username", "address")
    date_hierarchy = "at"
    readonly_fields = ("at", "channel", "username", "address", "succeeded", "refused")
    fields = readonly_fields


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdmin):
    """Usernames and client addresses refused sign-in after too many failures, set by failed attempts only; an
    Admin may release one early with the action, and released or expired lockouts stay for the record."""

    list_display = ("created_at", "channel", "scope", "key", "failures", "locked_until", "active", "released_by")
    list_filter = ("channel", "scope", ("released_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("released_by",)
    search_fields = ("key",)
    readonly_fields = (
        "created_at",
        "channel",
        "scope",
        "key",
        "failures",
        "locked_until",
        "released_at",
        "released_by",
    )
    fields = readonly_fields
    actions = ["release_lockouts"]

    @admin.display(boolean=True, description="Active")
    def active(self, lockout: Lockout) -> bool:
        """Still refusing sign-in: neither over nor released."""
        return lockout.is_active

    def has_release_permission(self, request: HttpRequest) -> bool:
        """Releasing needs the change permission on lockouts."""
        return request.user.has_perm("core.change_lockout")

    @admin.action(description="Release the selected lockouts now", permissions=["release"])
    def release_lockouts(self, request: HttpRequest, queryset: QuerySet[Lockout]) -> None:
        """End each selected lockout through the lockout service."""
        released = 0
        for lockout in queryset:
            try:
                lockout_release(actor=cast(User, request.user), lockout=lockout)
            except PermissionDenied as error:
                self.message_user(request, f"{lockout}: {error}", messages.ERROR)
            else:
                released += 1
        self.message_user(request, f"{released} lockout(s) released.", messages.SUCCESS)
