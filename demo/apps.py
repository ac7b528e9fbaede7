from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The Northwind Bank demo: an inventory with its governance story, built through the real services.

    It sits above every other app (it calls inventory and governance services alike) and holds no models.
    """

    name = "demo"
    verbose_name = "Demo data"
