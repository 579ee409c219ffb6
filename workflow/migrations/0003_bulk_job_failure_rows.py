"""Bulk job failures as rows (BulkJobFailure) and a `failed` counter, instead of one JSON list rewritten
whole at every progress write. The failures of existing jobs are carried over."""

import django.db.models.deletion
from django.db import migrations, models


def carry_over(apps, schema_editor):
    BulkJob = apps.get_model("workflow", "BulkJob")
    BulkJobFailure = apps.get_model("workflow", "BulkJobFailure")
    for job in BulkJob.objects.exclude(failures=[]).iterator():
        rows = [
            BulkJobFailure(
                job=job,
                position=position,
                case=failure.get("case") or 0,
                household=(failure.get("household") or "")[:20],
                reasons=failure.get("reasons") or [],
            )
            for position, failure in enumerate(job.failures, start=1)
        ]
        BulkJobFailure.objects.bulk_create(rows, batch_size=1000)
        BulkJob.objects.filter(pk=job.pk).update(failed=len(rows))


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0002_administrator_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkjob",
            name="failed",
            field=models.PositiveIntegerField(default=0, verbose_name="未办理"),
        ),
        migrations.CreateModel(
            name="BulkJobFailure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveIntegerField(verbose_name="序号")),
                ("case", models.BigIntegerField(verbose_name="案件")),
                ("household", models.CharField(blank=True, max_length=20, verbose_name="户编号")),
                ("reasons", models.JSONField(default=list, verbose_name="原因")),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="failure_rows",
                        to="workflow.bulkjob",
                        verbose_name="批量操作",
                    ),
                ),
            ],
            options={
                "verbose_name": "批量操作未办理明细",
                "verbose_name_plural": "批量操作未办理明细",
                "ordering": ["job", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("job", "position"), name="bulk_failure_once_per_position")
                ],
            },
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveField(model_name="bulkjob", name="failures"),
    ]
