"""Default schedules of the scheduled jobs (monitoring.jobs) as django-celery-beat rows, which the
administrator edits in the admin; and the administrator role's permission to see the job records,
to-do items, alerts, uploads and warnings of 0005 in the admin.

Cadence from the seeds (周调度、月监测): the overdue scan daily, the data-quality checks weekly, the rest
monthly. Times are Beijing time, at night, the comparison first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from households.reference import ensure_role_groups

TZ = "Asia/Shanghai"

# name, task, (minute, hour, day_of_month, day_of_week), description
SCHEDULES = [
    (
        "部门数据比对（待比对批次）",
        "monitoring.jobs.comparison_pending",
        ("0", "1", "1", "*"),
        "每月1日01:00比对仍在等待的部门上传批次（上传后通常已立即比对；改为更频繁也无妨）。",
    ),
    (
        "风险消除月度研判",
        "monitoring.jobs.elimination_review",
        ("0", "3", "25", "*"),
        "每月25日03:00：符合消除标准的列入拟消除名单，超过3个月未消除的列入加大帮扶，已消除又出现新预警的提示研判。",
    ),
    (
        "逾期扫描（每日）",
        "monitoring.jobs.overdue_scan",
        ("0", "6", "*", "*"),
        "每日06:00：超过48小时未核实的预警线索，公示期满未推进的案件。",
    ),
    (
        "数据质量检查（周调度）",
        "monitoring.jobs.data_quality",
        ("0", "4", "*", "1"),
        "每周一04:00：已消除无措施、三保障未达标已消除、缺少收入、身份证号无效、风险类型无措施。",
    ),
    (
        "规模性返贫风险预警（月监测）",
        "monitoring.jobs.regional_alert",
        ("0", "5", "1", "*"),
        "每月1日05:00：乡镇、县新增预警明显高于往期平均水平时发出预警。",
    ),
]


def _touch(apps):
    # The beat scheduler reloads its schedule when this timestamp changes (the model's signals do not
    # run in migrations).
    from django.utils import timezone

    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, day_of_month, day_of_week), description in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year="*", day_of_week=day_of_week, timezone=TZ
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True, "description": description}
        )
    _touch(apps)


def remove_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()
    for _, _, (minute, hour, day_of_month, day_of_week), _ in SCHEDULES:
        CrontabSchedule.objects.filter(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year="*",
            day_of_week=day_of_week,
            timezone=TZ,
            periodictask__isnull=True,
        ).delete()
    _touch(apps)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0005_departmental_comparison"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("workflow", "0002_administrator_permissions"),
    ]

    operations = [
        migrations.RunPython(create_schedules, remove_schedules),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
