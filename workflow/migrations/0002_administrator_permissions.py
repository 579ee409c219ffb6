"""Extend the administrator role's admin permissions to case data (read-only) and reference data."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from households.reference import ensure_role_groups


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0001_initial"),
        ("households", "0003_administrator_permissions"),
        ("monitoring", "0003_historicalmonitoringcase_eliminated_on_and_more"),
        ("assistance", "0002_measure_categories"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
