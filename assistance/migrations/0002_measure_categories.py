from django.db import migrations

from assistance.reference import ensure_measure_categories


def create(apps, schema_editor):
    ensure_measure_categories(apps.get_model("assistance", "MeasureCategory"))


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
