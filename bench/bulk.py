"""Bulk-approval benchmark: a county reviewer approves 10,000 cases at once (县级批量审定), through the
background job the API starts for a bulk over FPR_BULK_INLINE_LIMIT.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpr_bench_bulk .venv/bin/python bench/bulk.py --cases 10000

The database named in DATABASE_URL is dropped and created again (its name must contain "bench"),
migrated, seeded with a county of households (`households.seeding.seed_county`), and given one case
per household already waiting in county approval. Those cases are written with bulk SQL, not walked
through the stages: only the bulk action is measured. It runs `workflow.services.bulk_job_run` in this
process, as the Celery worker would — every case in its own transaction with its row lock, guards,
transition record and history row. Prints lines of the form `BENCH <name> <value> <unit>`.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fpr_bench_bulk"
sys.path.insert(0, str(ROOT))

from bench.seed import bench, peak_rss_mb, recreate_database  # noqa: E402


def create_waiting_cases(*, county_code: str, cadre) -> list[int]:
    """One case per household of the county, in county approval (bulk SQL: the set-up is not measured)."""
    from django.db import transaction
    from django.utils import timezone

    from households.models import Household
    from monitoring.models import MonitoringCase, RiskCategory, Stage

    now = timezone.now()
    households = Household.objects.filter(village__code__startswith=county_code).values_list("pk", "village_id")
    with transaction.atomic():
        cases = MonitoringCase.objects.bulk_create(
            (
                MonitoringCase(
                    household_id=household_id,
                    village_id=village_id,
                    case_type="marginal",
                    channel="cadre_screening",
                    description="基层干部排查发现：家庭成员患病，自付医疗费用较高。",
                    authorization_signed_on=now.date(),
                    authorization_scan="authorizations/bench.pdf",
                    stage=Stage.COUNTY_APPROVAL,
                    stage_entered_at=now,
                    stage_round=6,
                    last_transition="township_approve",
                    created_by=cadre,
                )
                for household_id, village_id in households.iterator(chunk_size=5000)
            ),
            batch_size=2000,
        )
        illness = RiskCategory.objects.get(code="illness")
        through = MonitoringCase.risk_categories.through
        through.objects.bulk_create(
            (through(monitoringcase_id=case.pk, riskcategory_id=illness.pk) for case in cases), batch_size=5000
        )
    return [case.pk for case in cases]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"] or "bench" not in config["NAME"]:
        print("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' (it is dropped).")
        return 2
    os.environ.setdefault("FPR_TESTING", "1")  # local settings: no SECRET_KEY needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fpr.settings")

    recreate_database(config)
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from households.models import User
    from households.seeding import seed_county
    from monitoring.models import MonitoringCase, Stage
    from workflow.models import BulkJob, BulkJobStatus, TransitionEvent
    from workflow.services import bulk_job_run, ensure_bulk_transition

    call_command("migrate", verbosity=0)
    seeded = seed_county(households=args.cases, seed=2026, with_users=True, change_reason="基准测试")
    county_code = seeded.county.code[:6]
    case_ids = create_waiting_cases(county_code=county_code, cadre=User.objects.get(username="cunganbu"))
    reviewer = User.objects.get(username="xianji")  # 县级审定员 of the seeded county
    print(f"# {len(case_ids)} cases in county approval in {seeded.villages} villages", flush=True)

    ensure_bulk_transition("county_approve")
    # What bulk_job_start records; the run is timed here instead of on a worker.
    job = BulkJob.objects.create(
        user=reviewer,
        transition="county_approve",
        inputs={"opinion": "经部门信息比对和会商研判，同意纳入监测。", "comparison": "部门比对无异常"},
        case_ids=case_ids,
        total=len(case_ids),
    )
    started = time.perf_counter()
    job = bulk_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started

    assert job.status == BulkJobStatus.DONE, job.status
    assert job.succeeded == len(case_ids), (job.succeeded, [str(f) for f in job.failure_rows.all()[:3]])
    assert MonitoringCase.objects.filter(stage=Stage.MONITORING).count() == len(case_ids)
    assert TransitionEvent.objects.filter(transition="county_approve").count() == len(case_ids)
    bench("bulk_approve_cases_per_s", len(case_ids) / seconds, "cases/s")
    bench("bulk_approve_seconds_total", seconds, "s")
    bench("bulk_approve_peak_rss_mb", peak_rss_mb(), "MB")

    connection.close()
    if not args.keep:
        recreate_database(config, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
