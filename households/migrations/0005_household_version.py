from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0004_user_department"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="version",
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, verbose_name="版本号"),
        ),
    ]
