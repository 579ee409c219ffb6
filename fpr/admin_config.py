"""The admin app with fpr's operators-only site (fpr/admin_site.py). A module of its own: INSTALLED_APPS
imports it before the models are ready."""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "fpr.admin_site.OperatorAdminSite"
