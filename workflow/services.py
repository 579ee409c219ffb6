"""The one service that moves a case between stages, and what builds on it (objections, bulk)."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fpr import clock, queueing
from fpr.errors import ApplicationError, ConflictError, ForbiddenError
from fpr.roles import Level
from fpr.uploads import validate_attachment
from households.models import User
from monitoring.cases.services import ensure_village_actor
from monitoring.models import NOTICE_STAGES, MonitoringCase, Objection, ObjectionStatus, Stage
from workflow.elimination import ELIMINATION
from workflow.engine import Availability, GuardContext, Transition, Workflow, available, evaluate, missing_inputs
from workflow.identification import IDENTIFICATION
from workflow.models import BulkJob, BulkJobFailure, BulkJobStatus, EventAttachment, TransitionEvent

logger = logging.getLogger(__name__)


class TransitionRefused(ApplicationError):
    """Guards or permissions refused the transition; `reasons` lists every one of them."""

    def __init__(self, reasons: list[str]):
        super().__init__("；".join(reasons), extra={"reasons": reasons})
        self.reasons = reasons


class TransitionForbidden(TransitionRefused, ForbiddenError):
    """The user's role, level or jurisdiction may not fire the transition (the API's 403)."""


class TransitionConflict(ConflictError):
    """Someone else moved the case first (已被他人处理)."""


WORKFLOWS = (IDENTIFICATION, ELIMINATION)


def workflow_for(case: MonitoringCase) -> Workflow:
    """The table that governs the case's current stage (the two tables share no source stage)."""
    for workflow in WORKFLOWS:
        if workflow.from_state(case.stage):
            return workflow
    return IDENTIFICATION


def find_transition(name: str) -> tuple[Workflow, Transition]:
    for workflow in WORKFLOWS:
        try:
            return workflow, workflow.get(name)
        except KeyError:
            continue
    raise TransitionRefused([f"未知的操作：{name}"])


def authorise(transition: Transition, case: MonitoringCase, user: User) -> str | None:
    """Role, division level and jurisdiction: the same check for every door (page, API, bulk)."""
    if not getattr(user, "is_authenticated", False):
        return "请先登录。"
    if not user.has_role(*transition.roles):
        return f"您的角色不能办理“{transition.label}”。"
    if transition.level is not None and (user.division is None or user.division.level != transition.level):
        return f"“{transition.label}”须由{_level_name(transition.level)}级用户办理。"
    if not user.jurisdiction_prefix or not case.village_id.startswith(user.jurisdiction_prefix):
        return "该案件不在您的管辖范围内。"
    return None


def _level_name(level: int) -> str:
    return Level(level).label


def case_available_transitions(
    *, user: User, case: MonitoringCase, context: GuardContext | None = None
) -> list[Availability]:
    """What the user could do on the case now, with the reasons for what is not possible yet.
    Transitions the user's role can never fire are left out. Pass `context` to read afterwards what the
    guards computed (`context.memo`)."""
    context = context or GuardContext(user=user, today=clock.today())
    options = available(workflow_for(case), case, context, authorise=authorise)
    return [a for a in options if user.has_role(*a.transition.roles)]


def case_transition(
    *,
    user: User,
    case_id: int,
    transition: str,
    inputs: dict | None = None,
    expected_stage: str | None = None,
    attachments=(),
) -> TransitionEvent:
    """Fire one transition: lock the case, evaluate every guard, record the event, move the stage.

    The row lock serialises reviewers acting on the same case at once: the second one waits, then sees
    the stage already moved and gets "已被他人处理" instead of a second transition.
    """
    inputs = dict(inputs or {})
    with transaction.atomic():
        case = MonitoringCase.objects.select_for_update().select_related("village").get(pk=case_id)
        workflow, spec = find_transition(transition)
        if expected_stage is not None and case.stage != expected_stage:
            raise TransitionConflict(f"已被他人处理：该案件已进入“{case.get_stage_display()}”环节，请刷新后查看。")
        # A role refusal is told first (403), whatever the stage: the case's checks are not the caller's.
        if denied := authorise(spec, case, user):
            raise TransitionForbidden([denied])
        if case.stage not in spec.sources:
            _refuse_out_of_stage(case, spec, user)
        context = GuardContext(user=user, inputs=inputs, today=clock.today())
        reasons = evaluate(spec, case, context, authorise=authorise)
        reasons.extend(_attachment_errors(attachments))
        if reasons:
            raise TransitionRefused(reasons)
        now = clock.now()
        event = TransitionEvent.objects.create(
            case=case,
            workflow=workflow.name,
            transition=spec.name,
            label=spec.label,
            from_stage=case.stage,
            to_stage=spec.target,
            actor=user,
            actor_division=user.division.name if user.division else "",
            at=now,
            opinion=str(inputs.get("opinion", "")),
            data={k: str(v) for k, v in inputs.items() if k != "opinion"},
        )
        for upload in attachments:
            EventAttachment.objects.create(event=event, file=upload, name=upload.name[:128])
        case.stage = spec.target
        case.stage_entered_at = now
        case.stage_round += 1
        case.last_transition = spec.name
        if spec.effect:
            spec.effect(case, context, event)
        case.save()
    return event


def transition_problems(*, user: User, case: MonitoringCase, transition: str, inputs: dict, unparsed=()) -> list[str]:
    """Why firing would be refused now, without firing: for a page whose form has errors of its own,
    so the guards' reasons are told in the same round. `unparsed` names the inputs the form could not
    read (their own error is shown; a guard never sees a value it cannot compare)."""
    _, spec = find_transition(transition)
    if case.stage not in spec.sources or authorise(spec, case, user):
        return []  # the firing itself says why (conflict, or the role refusal)
    context = GuardContext(user=user, inputs=inputs, today=clock.today())
    reasons = evaluate(spec, case, context, check_inputs=False, authorise=authorise)
    present = {**inputs, **{name: "?" for name in unparsed}}
    return reasons + missing_inputs(spec, present)


def _refuse_out_of_stage(case: MonitoringCase, spec: Transition, user: User) -> None:
    """The case is not in a stage the transition starts from. Either someone moved it out of such a
    stage (已被他人处理, a conflict: the page or the ticked list was stale), or it was never there — it
    simply is not eligible for this step, and the reason says which stage it is in and where the step
    is done."""
    stage = case.get_stage_display()
    handled = (
        TransitionEvent.objects.filter(case=case, from_stage__in=spec.sources)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if handled is not None:
        at = timezone.localtime(handled.at).strftime("%Y-%m-%d %H:%M")
        if handled.actor_id == user.pk:
            raise TransitionConflict(
                f"您已办理过：该案件已于 {at} 办理“{handled.label}”，现处于“{stage}”环节，请刷新后查看。"
            )
        who = str(handled.actor)
        if handled.actor_division:
            who += f"（{handled.actor_division}）"
        raise TransitionConflict(
            f"已被他人处理：该案件已于 {at} 由{who}办理“{handled.label}”，现处于“{stage}”环节，请刷新后查看。"
        )
    where = "、".join(Stage(source).label for source in spec.sources)
    raise TransitionRefused([f"该案件处于“{stage}”环节，不能办理“{spec.label}”（须在“{where}”环节办理）。"])


def _attachment_errors(attachments) -> list[str]:
    errors = []
    for upload in attachments:
        try:
            validate_attachment(upload)
        except ValidationError as exc:
            errors.extend(exc.messages)
    return errors


def objection_substantiate(*, user: User, objection: Objection, resolution: str) -> TransitionEvent:
    """经核查属实: record the finding and send the case back to on-site verification, atomically."""
    with transaction.atomic():
        objection = Objection.objects.select_for_update().select_related("notice__case").get(pk=objection.pk)
        case = objection.notice.case
        ensure_village_actor(user=user, case=case)
        if objection.status != ObjectionStatus.PENDING:
            raise ApplicationError("该异议已处理。")
        if case.stage not in NOTICE_STAGES:
            raise ApplicationError("该案件已不在公示环节。")
        if not resolution.strip():
            raise ApplicationError("请填写核查情况。", field="resolution")
        objection.status = ObjectionStatus.SUBSTANTIATED
        objection.resolution = resolution
        objection.resolved_by = user
        objection.resolved_at = clock.now()
        objection.save()
        return case_transition(
            user=user,
            case_id=case.pk,
            transition="objection_return" if case.stage == Stage.NOTICE else "elim_objection_return",
            inputs={"opinion": f"异议经核查属实：{resolution}"},
            expected_stage=case.stage,
        )


def ensure_bulk_transition(name: str) -> Transition:
    """Only transitions marked `bulk` in the table may be fired on many cases at once; the village
    steps need each case's own records and dates."""
    try:
        _, spec = find_transition(name)
    except TransitionRefused:
        raise ApplicationError(f"未知的操作：{name}", field="transition") from None
    if not spec.bulk:
        raise ApplicationError(f"“{spec.label}”须逐件办理，不能批量办理。", field="transition")
    return spec


def ensure_bulk_size(case_ids: list[int]) -> None:
    """A bulk request names at most FPR_BULK_MAX_CASES cases: the work (and the worker it holds) of one
    request stays bounded; a larger batch is sent in parts."""
    limit = settings.FPR_BULK_MAX_CASES
    if len(case_ids) > limit:
        message = f"一次最多批量办理 {limit} 件（本次 {len(case_ids)} 件），请分批办理。"
        raise ApplicationError(message, field="case_ids")


def case_bulk_action(*, user: User, case_ids: list[int], transition: str, inputs: dict) -> dict | BulkJob:
    """A bulk action from the queue page or the API: done now up to FPR_BULK_INLINE_LIMIT cases (the
    result of `case_bulk_transition`), a background job above it (the `BulkJob`, from `bulk_job_start`)."""
    if len(case_ids) > settings.FPR_BULK_INLINE_LIMIT:
        return bulk_job_start(user=user, case_ids=case_ids, transition=transition, inputs=inputs)
    return case_bulk_transition(user=user, case_ids=case_ids, transition=transition, inputs=inputs)


def case_bulk_transition(*, user: User, case_ids: list[int], transition: str, inputs: dict) -> dict:
    """Fire one transition on many cases; each case in its own transaction, so a refusal on one case
    does not stop the others. Returns {"succeeded": n, "failures": [{case, household, reasons}]}."""
    ensure_bulk_transition(transition)
    ensure_bulk_size(case_ids)
    return _run_bulk(user=user, case_ids=case_ids, transition=transition, inputs=inputs)


PROGRESS_EVERY = 50  # cases between two progress writes of a background job


def _run_bulk(*, user: User, case_ids, transition, inputs, progress=None) -> dict:
    """`progress(processed, succeeded, new_failures)` is called every PROGRESS_EVERY cases and at the end
    with the failures since its previous call only, so each call writes a bounded amount."""
    succeeded, failures, reported = 0, [], 0
    numbers = dict(MonitoringCase.objects.for_user(user).filter(pk__in=case_ids).values_list("pk", "household__number"))
    for index, case_id in enumerate(case_ids, start=1):
        failure = {"case": case_id, "household": numbers.get(case_id, ""), "position": index}
        if case_id not in numbers:
            failures.append({**failure, "reasons": ["案件不存在或不在您的管辖范围内。"]})
        else:
            try:
                case_transition(user=user, case_id=case_id, transition=transition, inputs=inputs)
                succeeded += 1
            except ApplicationError as exc:
                failures.append({**failure, "reasons": getattr(exc, "reasons", None) or [exc.message]})
        if progress and (index % PROGRESS_EVERY == 0 or index == len(case_ids)):
            progress(index, succeeded, failures[reported:])
            reported = len(failures)
    return {"succeeded": succeeded, "failures": [_public(f) for f in failures]}


def _public(failure: dict) -> dict:
    return {key: failure[key] for key in ("case", "household", "reasons")}


def bulk_job_start(*, user: User, case_ids: list[int], transition: str, inputs: dict) -> BulkJob:
    """Queue a bulk action as a background job; the queue page shows its progress."""
    ensure_bulk_transition(transition)
    ensure_bulk_size(case_ids)
    job = BulkJob.objects.create(
        user=user, transition=transition, inputs=inputs, case_ids=list(case_ids), total=len(case_ids)
    )
    transaction.on_commit(lambda: bulk_job_enqueue(job.pk))
    return job


def bulk_job_enqueue(job_id: int) -> bool:
    """Queue the job's run. With the broker down the job stays QUEUED — pages say background jobs are
    delayed — and its progress page queues it again once the broker is back (bulk_job_requeue_stalled)."""
    from workflow.tasks import run_bulk_job

    return queueing.enqueue(run_bulk_job, job_id, what=f"bulk job {job_id}")


def bulk_job_requeue_stalled(*, job: BulkJob) -> bool:
    """Queue again a job still QUEUED a minute after it was started (fpr.queueing); bulk_job_run claims
    the job once."""
    if job.status != BulkJobStatus.QUEUED:
        return False
    return queueing.requeue_stalled(
        key=f"bulk-job-requeued:{job.pk}", since=job.created_at, enqueue=lambda: bulk_job_enqueue(job.pk)
    )


def bulk_job_run(*, job_id: int) -> BulkJob:
    # Claim the job once (compare-and-set), so a redelivered task does not run it twice.
    claimed = BulkJob.objects.filter(pk=job_id, status=BulkJobStatus.QUEUED).update(status=BulkJobStatus.RUNNING)
    job = BulkJob.objects.select_related("user__division").get(pk=job_id)
    if not claimed:
        return job

    def progress(processed, succeeded, new_failures):
        # Constant in size: the counters, and only the failures since the last write, as rows.
        BulkJobFailure.objects.bulk_create(
            BulkJobFailure(
                job_id=job_id,
                position=f["position"],
                case=f["case"],
                household=f["household"],
                reasons=f["reasons"],
            )
            for f in new_failures
        )
        # Compare-and-set on the status: a job marked failed meanwhile is not revived by a late write.
        BulkJob.objects.filter(pk=job_id, status=BulkJobStatus.RUNNING).update(
            processed=processed, succeeded=succeeded, failed=F("failed") + len(new_failures)
        )

    try:
        result = _run_bulk(
            user=job.user, case_ids=job.case_ids, transition=job.transition, inputs=job.inputs, progress=progress
        )
    except Exception:
        logger.exception("bulk job %s failed", job_id)
        BulkJob.objects.filter(pk=job_id).update(status=BulkJobStatus.FAILED, finished_at=clock.now())
        raise
    BulkJob.objects.filter(pk=job_id).update(
        status=BulkJobStatus.DONE,
        processed=job.total,
        succeeded=result["succeeded"],
        failed=len(result["failures"]),
        finished_at=clock.now(),
    )
    job.refresh_from_db()
    return job
