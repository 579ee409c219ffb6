"""Export files are deleted after FPR_EXPORT_KEEP_DAYS while their log rows stay (`file_removed_at`), by
a daily django-celery-beat schedule (03:30 Beijing time) created here and editable like the others."""

from django.db import migrations, models

TZ = "Asia/Shanghai"
NAME = "删除过期导出文件（每日）"
TASK = "reports.tasks.prune_export_files"
CRONTAB = {"minute": "30", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*", "timezone": TZ}


def _touch(apps):
    # The beat scheduler reloads its schedule when this timestamp changes (signals do not run here).
    from django.utils import timezone

    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(**CRONTAB)
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "enabled": True,
            "description": "每日03:30删除超过保留天数（FPR_EXPORT_KEEP_DAYS，默认7天）的导出文件，导出记录保留。",
        },
    )
    _touch(apps)


def remove_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME).delete()
    CrontabSchedule.objects.filter(**CRONTAB, periodictask__isnull=True).delete()
    _touch(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="export",
            name="file_removed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="文件删除时间"),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
