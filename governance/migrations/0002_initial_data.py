"""Install the ledger's genesis head, the default questionnaire (v1, published) and the two rule packs
(SR 11-7 active by default; Risk Officers switch packs in the portal, which the ledger records)."""

from django.db import migrations


def install(apps, schema_editor):
    from governance.defaults import install_defaults

    class HistoricalModels:
        def __getattr__(self, name):
            return apps.get_model("governance", name)

    install_defaults(HistoricalModels(), schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
