"""The portal's roles, as data: each role is a Django group holding model-level permissions.

Model-level permissions apply to every row (a Risk Officer may change any model). What a Model Owner,
Validator or CI Service may do on one particular model comes from object permissions, which only the
services grant (see ``inventory.services``). The groups are created by a data migration and kept in line with
this table after every ``migrate``, so permissions of models added later reach the roles too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MODEL_OWNER = "Model Owner"
VALIDATOR = "Validator"
RISK_OFFICER = "Risk Officer"
AUDITOR = "Auditor"
CI_SERVICE = "CI Service"
ADMIN = "Admin"

ALL_ROLES = (MODEL_OWNER, VALIDATOR, RISK_OFFICER, AUDITOR, CI_SERVICE, ADMIN)

# Apps whose permissions the roles are made of.
PORTAL_APPS = ("core", "inventory", "governance", "audits", "monitoring", "gate", "reports")

# "app.codename" entries; "app.view_*" means every view permission of the app, "app.*" every permission.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MODEL_OWNER: (
        "inventory.add_registeredmodel",
        "inventory.view_businessunit",
        "core.view_user",
    ),
    # Validators act on the models they are assigned to (object permissions); roles give them no extra rows.
    VALIDATOR: (
        "inventory.view_businessunit",
        "core.view_user",
    ),
    RISK_OFFICER: (
        "inventory.view_*",
        "inventory.add_registeredmodel",
        "inventory.change_registeredmodel",
        "inventory.add_modelversion",
        "inventory.change_modelversion",
        "inventory.add_modeldependency",
        "inventory.change_modeldependency",
        "inventory.delete_modeldependency",
        "inventory.add_businessunit",
        "inventory.change_businessunit",
        "inventory.add_tag",
        "core.view_user",
        "governance.view_*",
        "governance.review_riskassessment",
        "governance.decide_approval",
        "governance.add_finding",
        "governance.change_finding",
        "governance.accept_risk_finding",
        "governance.add_questionnaire",
        "governance.change_questionnaire",
        "governance.change_tierpolicy",
        "governance.change_policypack",
        "gate.view_*",
        # Every model's targets, observations and drift runs; agreeing a target is a Risk Officer's right,
        # checked by the service (nobody agrees their own proposal).
        "monitoring.view_*",
        "monitoring.change_monitoringtarget",
        # Every export, including other people's and the scheduled ones. Anyone signed in may export what they
        # can see and sees their own exports through an object permission (reports.services).
        "reports.view_*",
    ),
    AUDITOR: tuple(f"{app}.view_*" for app in PORTAL_APPS),
    # Service accounts report for, and ask the gate about, the models they are scoped to (object permissions);
    # they see the gate decisions of those models through them, so no role-wide permission is needed.
    CI_SERVICE: ("inventory.view_businessunit",),
    ADMIN: (*(f"{app}.*" for app in PORTAL_APPS), "auth.*"),
}

# Roles whose members may sign in to Django's admin site.
STAFF_ROLES = frozenset({ADMIN})


def expand_permissions(patterns: Iterable[str], permissions: Iterable[Any]) -> list[Any]:
    """The Permission rows matched by ``app.codename`` patterns (``*`` and ``view_*`` wildcards)."""
    wanted = list(patterns)
    matched = []
    for permission in permissions:
        label = f"{permission.content_type.app_label}.{permission.codename}"
        for pattern in wanted:
            app, _, codename = pattern.partition(".")
            if permission.content_type.app_label != app:
                continue
            if (
                codename == "*"
                or label == pattern
                or (codename.endswith("*") and permission.codename.startswith(codename[:-1]))
            ):
                matched.append(permission)
                break
    return matched


def sync_roles(group_model: Any, permission_model: Any, using: str = "default") -> None:
    """Create the role groups and set their permissions to what ``ROLE_PERMISSIONS`` says."""
    permissions = list(permission_model.objects.using(using).select_related("content_type"))
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.set(expand_permissions(patterns, permissions))


def sync_roles_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate hook: runs after Django created the permissions of every app, keeps roles complete."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    if sender.name != "core":
        return
    # post_migrate reaches core before the apps listed after it; make every app's permissions exist first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_roles(Group, Permission, using)
