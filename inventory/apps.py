from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """The model inventory: business units, registered models, versions and dependencies."""

    name = "inventory"
    verbose_name = "Inventory"
