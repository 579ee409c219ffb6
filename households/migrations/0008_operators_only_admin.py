"""The Django admin is for the operators (superusers) only, and API tokens are django-rest-knox's.

- The administrator role keeps only `households.view_sensitive`: its model permissions were the admin's,
  which no longer opens for it (user management has its own rules in households/accounts.py).
- DRF's authtoken tables held every token in plain text: they are dropped (their users create a new,
  expiring token on the 我的API令牌 page), with the app's permissions and content types.
"""

from django.db import migrations


def trim_and_drop(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    keep = Permission.objects.filter(content_type__app_label="households", codename="view_sensitive")
    for group in Group.objects.filter(name="系统管理员"):
        group.permissions.set(keep)
    stale = ContentType.objects.filter(app_label="authtoken")
    Permission.objects.filter(content_type__in=stale).delete()
    stale.delete()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name('authtoken_token')}")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0007_user_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(trim_and_drop, migrations.RunPython.noop)]
