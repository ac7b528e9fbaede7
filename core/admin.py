"""Django admin for the shared kernel: people and service accounts with their roles, API tokens (read-only, with
a revoke action) and worker heartbeats (read-only)."""

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

from core.models import ApiToken, ServiceHeartbeat, User
from core.services import api_token_revoke

admin.site.site_header = f"{settings.PORTAL_NAME} administration"
admin.site.site_title = settings.PORTAL_NAME
admin.site.index_title = "Inventory data, people and access"


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
class ApiTokenAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are issued by the service that shows the clear token once, not typed in here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only: the only change allowed is revoking, through the action."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Revoked tokens stay, so the record shows which token did what."""
        return False

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
