"""Reference data: the risk categories of SPEC §3 (used by the migration and by tests after a flush)."""

RISK_CATEGORIES = [
    ("illness", "因病"),
    ("disability", "因残"),
    ("schooling", "因学"),
    ("disaster", "因灾"),
    ("accident", "因意外事故"),
    ("unstable_employment", "因务工就业不稳"),
    ("industry_failure", "因产业项目失败"),
    ("lack_of_labour", "缺劳动力"),
    ("housing", "住房安全"),
    ("drinking_water", "饮水安全"),
    ("epidemic", "因疫情"),
    ("other", "其他"),
]


def ensure_risk_categories(RiskCategory) -> None:
    for order, (code, name) in enumerate(RISK_CATEGORIES, start=1):
        RiskCategory.objects.update_or_create(code=code, defaults={"name": name, "order": order})
