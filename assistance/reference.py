"""Reference data: measure categories of SPEC §4 (used by the migration and by tests after a flush)."""

# (code, name, is_safety_net)
MEASURE_CATEGORIES = [
    ("industry", "产业帮扶", False),
    ("employment", "就业帮扶", False),
    ("public_job", "公益性岗位", False),
    ("microcredit", "小额信贷", False),
    ("education", "教育帮扶", False),
    ("health", "健康帮扶", False),
    ("housing", "住房安全保障", False),
    ("water", "饮水安全保障", False),
    ("social_security", "综合保障（低保/特困/临时救助）", True),
    ("disability", "残疾人帮扶", False),
    ("social", "社会帮扶", False),
    ("motivation", "扶志扶智", False),
    ("support_agreement", "赡养协议", False),
    ("other", "其他", False),
]


def ensure_measure_categories(MeasureCategory) -> None:
    for order, (code, name, safety_net) in enumerate(MEASURE_CATEGORIES, start=1):
        MeasureCategory.objects.update_or_create(
            code=code, defaults={"name": name, "is_safety_net": safety_net, "order": order}
        )
