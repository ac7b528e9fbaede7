"""Writes to the inventory, one module per concern: ``registry`` (units, models, versions, dependencies,
reporting scopes), ``artifacts`` (artifacts and deployments reported by pipelines), ``mlflow`` (the import
from an MLflow tracking server).

The registry's services are re-exported here because most callers want them: ``services.registered_model_create``.
"""

from inventory.services.registry import (
    REASON_MAX,
    business_unit_create,
    business_unit_update,
    model_dependency_create,
    model_dependency_delete,
    model_dependency_update,
    model_version_create,
    model_version_update,
    registered_model_create,
    registered_model_grant_reporting,
    registered_model_revoke_reporting,
    registered_model_sync_permissions,
    registered_model_update,
    require_business_unit_create,
    require_business_unit_update,
    require_model_dependency_delete,
    require_model_dependency_update,
    require_model_version_update,
    require_registered_model_create,
    require_registered_model_update,
    tags_from_names,
)

__all__ = [
    "REASON_MAX",
    "business_unit_create",
    "business_unit_update",
    "model_dependency_create",
    "model_dependency_delete",
    "model_dependency_update",
    "model_version_create",
    "model_version_update",
    "registered_model_create",
    "registered_model_grant_reporting",
    "registered_model_revoke_reporting",
    "registered_model_sync_permissions",
    "registered_model_update",
    "require_business_unit_create",
    "require_business_unit_update",
    "require_model_dependency_delete",
    "require_model_dependency_update",
    "require_model_version_update",
    "require_registered_model_create",
    "require_registered_model_update",
    "tags_from_names",
]
