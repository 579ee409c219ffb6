from django.db import migrations

from monitoring.reference import ensure_risk_categories


def create(apps, schema_editor):
    ensure_risk_categories(apps.get_model("monitoring", "RiskCategory"))


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
