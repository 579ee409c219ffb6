from importlib import import_module

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "统计报表"

    def ready(self):
        from reports.exports.runner import WRITER_MODULES

        for module in WRITER_MODULES:
            import_module(module)
