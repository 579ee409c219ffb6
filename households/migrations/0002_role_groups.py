"""Create one auth group per role (named by its Chinese label) with its default permissions.

Administrators may change a group's permissions later in the admin; the role itself is the group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_GROUPS = {
    "村级干部": [],
    "镇街审核员": [],
    "县级审定员": ["view_sensitive"],
    "部门数据专员": [],
    "系统管理员": ["view_sensitive"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrate; make sure ours exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="households", codename__in=codenames)
        group.permissions.add(*perms)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
