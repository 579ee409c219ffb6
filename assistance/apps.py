from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assistance"
    verbose_name = "帮扶措施"

    def ready(self):
        from assistance import jobs  # noqa: F401 - registers the elimination review and data-quality checks
