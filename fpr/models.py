from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class ScopedQuerySet(models.QuerySet):
    """The one jurisdiction mechanism: every view, API endpoint, export and job reads through it.

    A subclass names `division_field`, the path from its model to a 12-digit division code. Because
    codes are hierarchical, a user's subtree is a prefix match on that code (no recursive query).
    """

    division_field: str = ""
    # Roles that may read these rows at all (None: every role). Department officers, for instance,
    # see their own uploads' results, not the household registry (SPEC §1).
    roles_allowed: frozenset[str] | None = None

    def for_user(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        if self.roles_allowed is not None and not user.has_role(*self.roles_allowed):
            return self.none()
        prefix = user.jurisdiction_prefix
        if not prefix:
            return self.none()
        return self.filter(**{f"{self.division_field}__startswith": prefix})
