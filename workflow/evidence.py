"""What the department lists say about a household, for 县级审定 (部门信息比对及会商研判): its risk warnings,
its asset hits and the last comparison of each department that covered its village. Reads the
monitoring models only (the comparison itself is monitoring.screening.comparison's)."""

from dataclasses import dataclass, field

from django.utils import timezone

from households.models import Division
from monitoring.models import DepartmentUpload, MonitoringCase, RiskWarning, UploadStatus

SHOWN_WARNINGS = 20  # the household's latest warnings shown; older ones are counted


@dataclass
class Comparison:
    """The latest finished comparison of one department's list whose area holds the village."""

    upload: DepartmentUpload
    hits: int  # warnings of this household raised by that upload

    @property
    def department(self) -> str:
        return self.upload.get_department_display()


@dataclass
class DepartmentEvidence:
    warnings: list[RiskWarning] = field(default_factory=list)  # risk warnings (not assets), latest first
    warnings_total: int = 0
    asset_hits: list[RiskWarning] = field(default_factory=list)  # 车辆、商品房、工商注册、财政供养
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The text pre-filled in "部门信息比对及会商研判结果"; the reviewer completes the judgement."""
        if not self.comparisons and not self.warnings:
            return "暂无部门比对数据：本户所在村尚无已完成的部门名单比对，请线下会商相关部门后填写。"
        parts = []
        if self.comparisons:
            compared = "、".join(f"{c.department}（{c.upload.period}）" for c in self.comparisons)
            parts.append(f"已与{compared}名单比对。")
        risks = self.warnings
        if risks:
            items = "；".join(_warning_text(w) for w in risks)
            parts.append(f"本户风险预警{len(risks)}条：{items}。")
        else:
            parts.append("本户无部门风险预警。")
        if self.asset_hits:
            items = "；".join(_warning_text(w) for w in self.asset_hits)
            parts.append(f"资产信息{len(self.asset_hits)}条：{items}，请研判是否影响认定。")
        else:
            parts.append("未发现车辆、商品房、工商注册、财政供养等资产信息。")
        if self.warnings_total > len(self.warnings):
            parts.append(f"（另有更早的预警{self.warnings_total - len(self.warnings)}条，见预警线索。）")
        parts.append("会商研判：")
        return "".join(parts)


def _warning_text(warning: RiskWarning) -> str:
    return (
        f"{warning.period} {warning.get_department_display()}·{warning.kind_label}"
        f"（{warning.member.name}，{warning.get_grade_display()}，{warning.get_status_display()}）"
    )


def _ancestors(village: Division) -> list[str]:
    codes, division = [], village
    while division is not None and len(codes) < 8:
        codes.append(division.pk)
        division = division.parent
    return codes


def department_evidence(*, user, case: MonitoringCase) -> DepartmentEvidence:
    """Four queries: the risk warnings, the asset hits, the last comparisons and their hits here."""
    household = case.household
    scoped = RiskWarning.objects.for_user(user).filter(household=household).select_related("member")
    risks = scoped.filter(asset_kind="").order_by("-raised_at", "-id")
    shown = list(risks[: SHOWN_WARNINGS + 1])
    total = len(shown) if len(shown) <= SHOWN_WARNINGS else risks.count()
    assets = list(scoped.exclude(asset_kind="").order_by("-period", "-id")[:SHOWN_WARNINGS])
    village = Division.objects.select_related("parent__parent__parent").get(pk=case.village_id)
    latest = (
        DepartmentUpload.objects.filter(status=UploadStatus.DONE, division_id__in=_ancestors(village))
        .order_by("department", "-period", "-finished_at", "-id")
        .distinct("department")
    )
    uploads = sorted(latest, key=lambda u: (u.period, u.finished_at or timezone.now()), reverse=True)
    hits: dict[int, int] = {}
    if uploads:
        for upload_id in scoped.filter(upload__in=uploads).values_list("upload_id", flat=True):
            hits[upload_id] = hits.get(upload_id, 0) + 1
    return DepartmentEvidence(
        warnings=shown[:SHOWN_WARNINGS],
        warnings_total=total,
        asset_hits=assets,
        comparisons=[Comparison(upload=u, hits=hits.get(u.pk, 0)) for u in uploads],
    )
