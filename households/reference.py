"""Reference data every database needs: one auth group per role with its default permissions.

Used by the migration (with historical models) and by tests after a flush (with the real ones).
"""

ROLE_GROUPS = {
    "村级干部": {},
    "镇街审核员": {},
    "县级审定员": {"households": ["view_sensitive"]},
    "部门数据专员": {},
    # The administrator manages the users of their subtree on the accounts pages (households/accounts.py,
    # whose rules decide, not model permissions); the Django admin is for the operators (superusers) only.
    "系统管理员": {"households": ["view_sensitive"]},
}


def ensure_role_groups(Group, Permission) -> None:
    for name, grants in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in grants.items():
            perms = Permission.objects.filter(content_type__app_label=app_label)
            if "*" not in codenames:
                exact = [c for c in codenames if not c.endswith("*")]
                prefixes = [c[:-1] for c in codenames if c.endswith("*")]
                perms = [p for p in perms if p.codename in exact or p.codename.startswith(tuple(prefixes) or ("\0",))]
            group.permissions.add(*perms)
