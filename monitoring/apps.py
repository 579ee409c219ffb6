from importlib import import_module

from django.apps import AppConfig

# Monitoring's scheduled jobs: each module registers its jobs with monitoring.jobs.runner on import.
JOB_MODULES = ("monitoring.screening.jobs", "monitoring.jobs.checks")


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
    verbose_name = "监测对象"

    def ready(self):
        for module in JOB_MODULES:
            import_module(module)
