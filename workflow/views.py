"""Case pages of both workflows (识别程序 and 风险消除程序): the case page (timeline, what the user may do
now and why not, the risk classification), firing a transition, objections during a notice, the work
queue (待办) with bulk approval, the case list (监测对象) and scoped downloads of the scans.

Thin like the household pages: cases are read through `.for_user(request.user)` (another village's case
is a 404), a form converts the input, one service acts. A refusal comes back as the guards' Chinese
reasons on the form that was posted; a case someone else moved first redirects with "已被他人处理".
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from assistance.advice import plan_advice
from assistance.rules import PROPOSAL
from assistance.services import PLAN_STAGES
from fpr import clock
from fpr.errors import ConflictError
from fpr.forms import SERVICE_ERRORS, apply_service_errors, service_messages
from fpr.keyset import keyset_page
from fpr.roles import Role, ensure_case_reader
from fpr.search import search_query, search_view
from fpr.uploads import attachment_response
from households.models import Level
from households.selectors import villages_visible
from monitoring.cases import services as monitoring_services
from monitoring.cases.classification import suggest_classification
from monitoring.cases.selectors import case_history, scoped_case
from monitoring.models import (
    APPRAISAL_STAGES,
    ELIMINATION_STAGES,
    IDENTIFICATION_STAGES,
    NOTICE_STAGES,
    VERIFICATION_STAGES,
    Appraisal,
    CaseType,
    MonitoringCase,
    Objection,
    ObjectionStatus,
    RiskCategory,
    RiskColour,
    Stage,
)
from workflow import services
from workflow.elimination import ELIMINATION, rules_check
from workflow.engine import GuardContext, missing_inputs
from workflow.evidence import department_evidence
from workflow.forms import BulkForm, CaseFilterForm, CaseListFilterForm, TransitionForm
from workflow.identification import IDENTIFICATION
from workflow.models import BulkJob, BulkJobStatus, EventAttachment
from workflow.record_forms import ClassificationForm, ObjectionForm, ResolutionForm
from workflow.selectors import (
    COUNTY_STAGES,
    WAITS_ON,
    bulk_job_for,
    bulk_transitions,
    case_list,
    case_queue,
    case_timeline,
    next_in_queue,
    queue_stages,
    return_request,
    transition_label,
)

# The steps of each procedure's progress bar: the tables' forward path. 补充材料 is a loop of township
# review, not a step of its own (the bar shows it on 镇街审核). The elimination bar names its stages
# without the "风险消除·" prefix, and its first step, made from 监测中, 提出名单.
IDENTIFICATION_PROGRESS = tuple((stage, Stage(stage).label) for stage in IDENTIFICATION.main_path(Stage.APPLICATION))
ELIMINATION_PROGRESS = tuple(
    (stage, "提出名单" if stage == Stage.MONITORING else Stage(stage).label.removeprefix("风险消除·"))
    for stage in ELIMINATION.main_path(Stage.MONITORING)
)
# Kept in a transition's data by its effect and shown as tables, not as input rows.
SNAPSHOTS = {"measures", "assessment"}


# --------------------------------------------------------------------------- the case page


@login_required
def case_detail(request, pk: int):
    return _case_page(request, scoped_case(request, pk))


def _case_page(request, case: MonitoringCase, *, bound: dict | None = None):
    """Render the case page; `bound` holds the form just posted (with its errors), by form key."""
    bound = dict(bound or {})
    user = request.user
    timeline = case_timeline(case=case)
    for entry in timeline:
        if entry.kind == "transition":
            entry.rows = _event_rows(entry)
    # 县级审定: what the department lists say about the household, and the comparison result pre-filled.
    evidence = department_evidence(user=user, case=case) if case.stage in COUNTY_STAGES else None
    actions, blocked = [], []
    guard_context = GuardContext(user=user, today=clock.today())
    for option in services.case_available_transitions(user=user, case=case, context=guard_context):
        posted = bound.pop(f"transition:{option.transition.name}", None)
        if option.allowed:
            initial = {}
            if evidence and any(spec.name == "comparison" for spec in option.transition.inputs):
                initial["comparison"] = evidence.summary
            actions.append((option, posted or TransitionForm(transition=option.transition, initial=initial)))
        else:
            blocked.append((option, posted is not None))
    for form in bound.values():  # a posted transition the user cannot see here: say why, at the top
        if isinstance(form, TransitionForm):
            messages.error(request, f"未能办理“{form.transition.label}”：" + "；".join(form.non_field_errors()))

    events = [e for e in timeline if e.kind == "transition"]
    last_event = events[-1] if events else None
    notices = [e.record for e in timeline if e.kind == "notice"]
    notice = notices[-1] if notices and case.stage in NOTICE_STAGES else None
    pending = [
        (e.record, bound.get(f"resolve:{e.record.pk}") or ResolutionForm(prefix=f"objection-{e.record.pk}"))
        for e in timeline
        if notice
        and e.kind == "objection"
        and e.record.notice_id == notice.pk
        and e.record.status == ObjectionStatus.PENDING
    ]
    village_actor = _is_village_actor(user, case)
    steps = _identification_progress(case, timeline)
    elimination_steps = _elimination_progress(case, last_event)
    context = {
        "case": case,
        "household": case.household,
        "head": next((m.name for m in case.household.heads), ""),
        "risks": list(case.risk_categories.all()),
        "steps": steps,
        "progress_bars": _progress_bars(case, steps, elimination_steps),
        "timeline": timeline,
        "last_event": last_event,
        "return_request": return_request(case=case, timeline=timeline),
        "evidence": evidence,
        # 下一件: the case after this one in the user's queue (the first one once this has left it).
        "next_case": _next_case(request, exclude=case.pk, after=(case.stage_entered_at, case.pk)),
        "previous_case": _previous(request),
        # Sent back to 监测中 by the elimination procedure (评议未通过, 镇街退回, 县级不同意): say why.
        "elimination_returned": case.stage == Stage.MONITORING
        and last_event is not None
        and last_event.record.workflow == ELIMINATION.name,
        "actions": actions,
        "blocked": blocked,
        "keep_monitoring": _keeps_monitoring(case, blocked, guard_context),
        "waits_on": WAITS_ON.get(case.stage, ""),
        "village_actor": village_actor,
        "verification_stage": case.stage in VERIFICATION_STAGES,
        "appraisal_stage": case.stage in APPRAISAL_STAGES,
        "verified_this_round": any(e.kind == "verification" and e.record.round == case.stage_round for e in timeline),
        "appraised_this_round": any(e.kind == "appraisal" and e.record.round == case.stage_round for e in timeline),
        "notice": notice,
        "pending_objections": pending,
        "objection_form": bound.get("objection") or ObjectionForm(initial={"lodged_on": clock.today()}),
        "history": case_history(case=case),
        "has_plan_page": case.stage in PLAN_STAGES,
        "advice": plan_advice(case=case) if case.stage in PLAN_STAGES else [],
        **_classification_context(case, village_actor, bound.get("classify")),
    }
    return render(request, "workflow/case_detail.html", context)


def _previous(request) -> int | None:
    """The case just approved before opening this one (?previous=), for a link back to it."""
    value = request.GET.get("previous", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _is_village_actor(user, case: MonitoringCase) -> bool:
    """Whether to offer the village's record forms; the service's own check decides."""
    try:
        monitoring_services.ensure_village_actor(user=user, case=case)
    except PermissionDenied:
        return False
    return True


def _keeps_monitoring(case: MonitoringCase, blocked, guard_context: GuardContext) -> bool:
    """整户不具备或丧失劳动能力: the page says "落实社会保障后持续跟踪监测" instead of offering elimination.
    The rules were evaluated by the proposal's guard just before; their result is reused."""
    if not any(option.transition.name == "propose_elimination" for option, _ in blocked):
        return False
    return rules_check(case, guard_context, PROPOSAL).whole_household_without_labour


def _classification_context(case: MonitoringCase, village_actor: bool, posted) -> dict:
    """The helper's suggestion and the form (village cadres, while the case may still be classified), and
    the latest 研判记录 for everyone. The form starts from the cadre's own choice — the saved 研判 (with its
    reason), else the type, risks and colour of the application — so saving again keeps it; from the
    suggestion only when the cadre has chosen nothing. When the choice differs from today's suggestion,
    `adopt` offers the suggestion in one click."""
    record = case.classifications.select_related("decided_by").first()
    context = {"classification": _classification_display(record) if record else None, "suggestion": None}
    if village_actor and case.stage in monitoring_services.CLASSIFY_STAGES:
        suggestion = suggest_classification(household=case.household)
        suggested = {
            "case_type": suggestion.case_type,
            "risk_categories": suggestion.risk_categories,
            "colour": suggestion.colour,
        }
        context["suggestion"] = _classification_display_values(suggestion.as_dict())
        context["suggestion"]["reasons"] = suggestion.reasons
        saved = _saved_choice(record)
        applied = None if saved else _application_choice(case)
        context["classify_prefilled_from_record"] = saved is not None
        context["classify_prefilled_from_application"] = applied is not None
        chosen = saved or applied
        context["classify_form"] = posted or ClassificationForm(initial=chosen or suggested)
        differs = chosen is not None and (
            chosen["case_type"] != suggested["case_type"]
            or sorted(chosen["risk_categories"]) != sorted(suggested["risk_categories"])
            or chosen["colour"] != suggested["colour"]
        )
        context["adopt"] = suggested if differs else None
    return context


def _saved_choice(record) -> dict | None:
    """The choice of the latest 研判记录 as form values (with its reason), or None."""
    if record is None or not record.chosen.get("case_type"):
        return None
    return {
        "case_type": record.chosen["case_type"],
        "risk_categories": list(record.chosen.get("risk_categories", [])),
        "colour": record.chosen.get("colour", ""),
        "reason": record.reason,
    }


def _application_choice(case: MonitoringCase) -> dict | None:
    """The type, risks and colour the village entered with the application, as form values, or None."""
    risks = [risk.code for risk in case.risk_categories.all()]
    if not case.case_type or not risks:
        return None
    return {"case_type": case.case_type, "risk_categories": risks, "colour": case.colour}


def _classification_display_values(values: dict) -> dict:
    names = dict(RiskCategory.objects.values_list("code", "name"))
    colour = values.get("colour") or ""
    return {
        "case_type": CaseType(values["case_type"]).label if values.get("case_type") in CaseType.values else "",
        "risks": [names.get(code, code) for code in values.get("risk_categories", [])],
        "colour": colour,
        "colour_label": RiskColour(colour).label if colour in RiskColour.values else "",
    }


def _classification_display(record) -> dict:
    return {"record": record, "chosen": _classification_display_values(record.chosen)}


def _event_rows(entry) -> list[tuple[str, str]]:
    """The inputs a transition recorded besides the opinion, under their labels from the table."""
    try:
        _, spec = services.find_transition(entry.record.transition)
        labels = {item.name: item.label for item in spec.inputs}
    except services.TransitionRefused:
        labels = {}
    return [(labels.get(name, name), value) for name, value in entry.details.items() if value and name not in SNAPSHOTS]


def _steps(stages, *, reached: int, stopped_at: str | None = None) -> list[dict]:
    """Each stage's state for a progress bar: done, current, todo, or where the case stopped."""
    steps = []
    for index, (stage, label) in enumerate(stages):
        if stage == stopped_at:
            state = "rejected"
        elif index < reached:
            state = "done"
        elif index == reached and stopped_at is None:
            state = "current"
        else:
            state = "todo"
        steps.append({"number": index + 1, "label": label, "state": state})
    return steps


def _identification_progress(case: MonitoringCase, timeline) -> list[dict]:
    """The six stages of 识别程序; every one is done once the case is under monitoring or beyond."""
    stages = list(IDENTIFICATION_PROGRESS)
    order = [stage for stage, _ in stages]
    if case.stage == Stage.REJECTED:
        closing = [e for e in timeline if e.kind == "transition" and e.to_stage == Stage.REJECTED]
        rejected_at = closing[-1].from_stage if closing else Stage.APPLICATION
        reached = order.index(rejected_at) if rejected_at in order else 0
        return _steps(stages, reached=reached, stopped_at=rejected_at)
    if case.stage == Stage.SUPPLEMENT:
        stages = [(s, "镇街审核（补充材料）" if s == Stage.TOWNSHIP_REVIEW else label) for s, label in stages]
        return _steps(stages, reached=order.index(Stage.TOWNSHIP_REVIEW))
    if case.stage in order:
        return _steps(stages, reached=order.index(case.stage))
    return _steps(stages, reached=len(stages))


def _progress_bars(case: MonitoringCase, steps, elimination_steps) -> list[dict]:
    """识别程序, and 风险消除程序 below it once the case is in or past elimination."""
    identified = case.stage not in (*IDENTIFICATION_STAGES, Stage.REJECTED)
    bars = [
        {
            "title": "识别程序",
            "steps": steps,
            "ending": "rejected" if case.stage == Stage.REJECTED else "done" if identified else "",
            "end_label": "不予纳入" if case.stage == Stage.REJECTED else "纳入监测",
        }
    ]
    if elimination_steps is not None:
        eliminated = case.stage == Stage.ELIMINATED
        bars.append(
            {
                "title": ELIMINATION.label,
                "steps": elimination_steps,
                "ending": "done" if eliminated else "",
                "end_label": "风险消除" if eliminated or case.stage != Stage.MONITORING else "继续监测帮扶",
            }
        )
    return bars


def _elimination_progress(case: MonitoringCase, last_event) -> list[dict] | None:
    """The steps of 风险消除程序, shown while the case is in it, once eliminated, or when it was just sent
    back to 监测中 from it (marking the step where it stopped)."""
    stages = [stage for stage, _ in ELIMINATION_PROGRESS]
    if case.stage == Stage.ELIMINATED:
        return _steps(ELIMINATION_PROGRESS, reached=len(stages))
    if case.stage in ELIMINATION_STAGES:
        return _steps(ELIMINATION_PROGRESS, reached=stages.index(case.stage))
    if case.stage == Stage.MONITORING and last_event and last_event.record.workflow == ELIMINATION.name:
        stopped_at = last_event.from_stage
        if stopped_at not in stages:
            return None
        return _steps(ELIMINATION_PROGRESS, reached=stages.index(stopped_at), stopped_at=stopped_at)
    return None


@login_required
@require_POST
def transition_fire(request, pk: int, name: str):
    case = scoped_case(request, pk)
    try:
        spec = services.workflow_for(case).get(name)
    except KeyError:
        raise Http404 from None
    form = TransitionForm(request.POST, request.FILES, transition=spec)
    position = (case.stage_entered_at, case.pk)  # its place in the queue, before the step moves it
    if form.is_valid():
        try:
            event = services.case_transition(
                user=request.user,
                case_id=case.pk,
                transition=name,
                inputs=form.inputs(),
                expected_stage=request.POST.get("expected_stage") or None,
                attachments=form.uploads(),
            )
        except ConflictError as exc:  # TransitionConflict: the page was stale
            messages.error(request, exc.message)
            return redirect("cases:detail", pk=case.pk)
        except SERVICE_ERRORS as exc:  # TransitionRefused: every reason on its own line
            apply_service_errors(exc, form)
        else:
            done = f"已办理“{event.label}”，案件进入“{Stage(event.to_stage).label}”环节。"
            following = _next_case(request, exclude=case.pk, after=position) if spec.bulk else None
            if following is not None:  # an approval: straight on to the next case of the same queue
                number = case.household.number
                messages.success(request, f"户 {number}：{done}已为您打开待办中的下一件。")
                return redirect(reverse("cases:detail", args=[following.pk]) + f"?previous={case.pk}")
            messages.success(request, done)
            return redirect("cases:detail", pk=case.pk)
    else:  # the form's own errors, and with them every reason the step would still be refused
        for reason in services.transition_problems(
            user=request.user, case=case, transition=name, inputs=form.inputs(), unparsed=list(form.errors)
        ):
            form.add_error(None, reason)
    return _case_page(request, case, bound={f"transition:{name}": form})


QUEUE_FILTERS = "queue-filters"  # the session key of the filters the user's queue was last shown with


def _queue_filters(request) -> dict:
    """The filters of the queue the user last looked at (village, type, risk, stage), so 下一件 stays
    in the same queue."""
    data = QueryDict(request.session.get(QUEUE_FILTERS, ""))
    if not data:
        return {}
    form = CaseFilterForm(data, villages=_villages(request.user), stages=queue_stages(request.user))
    return form.filters()


def _next_case(request, *, exclude: int, after=None) -> MonitoringCase | None:
    if not queue_stages(request.user):
        return None
    return next_in_queue(user=request.user, exclude=exclude, after=after, filters=_queue_filters(request))


# --------------------------------------------------------------------------- objections (公示异议)


@login_required
@require_POST
def objection_lodge(request, pk: int):
    case = scoped_case(request, pk)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            monitoring_services.objection_lodge(user=request.user, case=case, **form.cleaned_data)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "已登记异议。异议处理前，不能报镇街审核。")
            return redirect(reverse("cases:detail", args=[case.pk]) + "#objections")
    return _case_page(request, case, bound={"objection": form})


@login_required
@require_POST
def objection_resolve(request, pk: int, objection_id: int, outcome: str):
    """经核查不属实 (dismiss: the notice goes on) or 属实 (substantiate: back to on-site verification)."""
    case = scoped_case(request, pk)
    objection = get_object_or_404(Objection, pk=objection_id, notice__case=case)
    form = ResolutionForm(request.POST, prefix=f"objection-{objection.pk}")
    if form.is_valid():
        resolution = form.cleaned_data["resolution"]
        try:
            if outcome == "substantiate":
                services.objection_substantiate(user=request.user, objection=objection, resolution=resolution)
            else:
                monitoring_services.objection_dismiss(user=request.user, objection=objection, resolution=resolution)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("cases:detail", pk=case.pk)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            if outcome == "substantiate":
                messages.success(request, "异议经核查属实，案件已退回入户核实，请重新入户核实。")
            else:
                messages.success(request, "异议经核查不属实，已记录核查情况。")
            return redirect("cases:detail", pk=case.pk)
    return _case_page(request, case, bound={f"resolve:{objection.pk}": form})


# --------------------------------------------------------------------------- classification (风险研判)


@login_required
@require_POST
def case_classify(request, pk: int):
    """Confirm the helper's suggested type, risks and colour, or override them with a reason."""
    case = scoped_case(request, pk)
    form = ClassificationForm(request.POST)
    if form.is_valid():
        try:
            record = monitoring_services.case_classify(user=request.user, case=case, **form.cleaned_data)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            verdict = "已按调整结果保存" if record.overridden else "已采纳系统建议"
            messages.success(request, f"风险研判：{verdict}。")
            return redirect(reverse("cases:detail", args=[case.pk]) + "#classification")
    return _case_page(request, case, bound={"classify": form})


# --------------------------------------------------------------------------- scans


@login_required
def case_file(request, pk: int, kind: str, item: int = 0):
    """A case's scans, served only to users who may read the case (media is not public)."""
    case = scoped_case(request, pk)
    if kind == "authorization":
        file, name = case.authorization_scan, f"承诺授权书-{case.household.number}"
    elif kind == "minutes":
        appraisal = get_object_or_404(Appraisal, pk=item, case=case)
        file, name = appraisal.minutes_scan, f"评议会议记录-{case.household.number}"
    elif kind == "attachment":
        attachment = get_object_or_404(EventAttachment, pk=item, event__case=case)
        file, name = attachment.file, attachment.name
    else:
        raise Http404
    if not file:
        raise Http404
    return attachment_response(file, name=name)  # type and extension from the content, never the name


# --------------------------------------------------------------------------- queue (待办) and list


def _villages(user) -> list[tuple[str, str, str]]:
    return list(villages_visible(user=user).values_list("code", "name", "parent__name"))


@login_required
def case_queue_page(request):
    """The user's work queue, longest waiting first; reviewers tick cases and approve them in one go."""
    ensure_case_reader(request.user, "监测对象")
    query = search_query(request)  # the words of a posted search come back from the session
    form = CaseFilterForm(query or None, villages=_villages(request.user), stages=queue_stages(request.user))
    filters = form.filters()
    request.session[QUEUE_FILTERS] = urlencode({name: value for name, value in filters.items() if value})
    cases = case_queue(user=request.user, **filters)
    page = keyset_page(request, cases, field="stage_entered_at", descending=False)
    # The bulk bar offers only the steps of the stages in this queue (no 风险消除 button without such a case).
    present = set(cases.order_by().values_list("stage", flat=True).distinct())
    transitions = [t for t in bulk_transitions(user=request.user) if present.intersection(t.sources)]
    context = {
        "form": form,
        "page": page,
        "bulk_form": BulkForm(transitions=transitions) if transitions else None,
        "bulk_result": request.session.pop("bulk_result", None),
        "is_filtered": any(form.filters().values()),
        "search_url": reverse("cases:queue_search"),
        "today": clock.today(),
        # A village cadre prints the village's 公示名单 from here (workflow.print_views).
        "notice_village": _own_village(request.user),
    }
    return render(request, "workflow/queue.html", context)


def _own_village(user):
    """The cadre's village when one of its cases is in 公示 (its 公示名单 is worth printing), else None."""
    division = user.division
    if division is None or division.level != Level.VILLAGE or not user.has_role(Role.VILLAGE_CADRE):
        return None
    in_notice = MonitoringCase.objects.open().filter(village=division, stage__in=NOTICE_STAGES).exists()
    return division if in_notice else None


@login_required
@require_POST
def bulk_fire(request):
    transitions = bulk_transitions(user=request.user)
    if not transitions:
        raise PermissionDenied("您的角色没有可批量办理的操作。")
    back = reverse("cases:queue") + ("?" + request.POST["query"] if request.POST.get("query") else "")
    form = BulkForm(request.POST, transitions=transitions)
    if not form.is_valid():
        if form.has_error("cases", "too_many"):  # more than FPR_BULK_MAX_CASES: a bad request, not a slip
            return render(request, "400.html", {"detail": "；".join(form.errors["cases"])}, status=400)
        for errors in form.errors.values():
            messages.error(request, "；".join(errors))
        return redirect(back)
    spec, ids, inputs = form.transitions[form.cleaned_data["transition"]], form.cleaned_data["cases"], form.inputs()
    missing = missing_inputs(spec, inputs)
    if missing:  # the same reason for every case: say it once, fire nothing
        messages.error(request, "未办理：" + "".join(missing))
        return redirect(back)
    try:
        done = services.case_bulk_action(user=request.user, case_ids=ids, transition=spec.name, inputs=inputs)
    except SERVICE_ERRORS as exc:
        messages.error(request, "；".join(service_messages(exc)))
        return redirect(back)
    if isinstance(done, BulkJob):
        return redirect("cases:bulk_job", job_id=done.pk)
    request.session["bulk_result"] = {"label": spec.label, "total": len(ids), **done}
    return redirect(back)


@login_required
def bulk_job_page(request, job_id: int):
    """Progress of a background bulk action; the page reloads itself until the job is done."""
    job = bulk_job_for(user=request.user, job_id=job_id)
    if job is None:
        raise Http404
    services.bulk_job_requeue_stalled(job=job)  # never queued while the broker was down: queue it now
    running = job.status in (BulkJobStatus.QUEUED, BulkJobStatus.RUNNING)
    if request.GET.get("format") == "json":  # what the page's poller asks while the job runs (poll.js)
        figures = {"processed": job.processed, "succeeded": job.succeeded, "failed": job.failed}
        return JsonResponse({"done": not running, "status": job.get_status_display(), "figures": figures})
    label = transition_label(job.transition)
    context = {
        "job": job,
        "label": label,
        "failures": job.failure_rows.all(),
        "running": job.status in (BulkJobStatus.QUEUED, BulkJobStatus.RUNNING),
        "percent": round(100 * job.processed / job.total) if job.total else 100,
    }
    return render(request, "workflow/bulk_job.html", context)


@login_required
def case_list_page(request):
    """Every case in the user's jurisdiction (监测中、不予纳入 included), newest first."""
    ensure_case_reader(request.user, "监测对象")
    query = search_query(request)
    stages = [
        *IDENTIFICATION_STAGES,
        *(s for s in Stage.values if s not in IDENTIFICATION_STAGES),
    ]  # 补充材料 in its place
    form = CaseListFilterForm(query or None, villages=_villages(request.user), stages=stages)
    cases = case_list(user=request.user, **form.filters(), page_rows=True)
    context = {
        "form": form,
        "page": keyset_page(request, cases, field="created_at", descending=True),
        "is_filtered": any(form.filters().values()),
        "search_url": reverse("cases:search"),
        "can_apply": request.user.has_role(Role.VILLAGE_CADRE),
    }
    return render(request, "workflow/case_list.html", context)


# The search forms of the two lists post here: the words (a name, an ID number) never go into a URL.
_CASE_FILTERS = ("village", "case_type", "risk", "stage")
case_list_search = search_view("cases:list", keep=(*_CASE_FILTERS, "status", "identified_in", "eliminated_in"))
case_queue_search = search_view("cases:queue", keep=_CASE_FILTERS)
