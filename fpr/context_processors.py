from django.conf import settings
from django.urls import reverse

from fpr.broker import broker_available
from fpr.roles import CASE_READERS, Level, Role


def navigation(request):
    """The menu a user sees depends on their roles; pages still check permissions themselves."""
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        reads_cases = user.is_superuser or user.has_role(*CASE_READERS)
        items.append(("首页", reverse("home")))
        if reads_cases:
            # 我的待办 (workflow.inbox) gathers the four kinds below; workflow.context_processors.inbox
            # gives each entry its count (nav_badges, keyed by URL).
            items.append(("我的待办", reverse("inbox")))
            items.append(("待办", reverse("cases:queue")))
            items.append(("预警线索", reverse("monitoring:warnings")))
            # A department officer reads no household (their pages say so with a 403).
            items.append(("农户信息", reverse("households:list")))
            items.append(("监测对象", reverse("cases:list")))
            items.append(("待办事项", reverse("monitoring:todos")))
            items.append(("统计报表", reverse("reports:statistics")))
            items.append(("数据看板", reverse("reports:dashboard")))
        if user.has_role(Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER):
            # Pairing cadres visit monthly; the township follows up on who has not (走访任务).
            items.append(("走访任务", reverse("assistance:visit_duty")))
        if user.is_superuser or user.has_role(Role.ADMINISTRATOR, Role.COUNTY_REVIEWER, Role.DEPARTMENT_OFFICER):
            items.append(("部门数据", reverse("monitoring:uploads")))
        if user.has_role(Role.ADMINISTRATOR) and user.division_id:
            # Users, lockouts and jobs of the administrator's subtree (households.account_views).
            items.append(("用户管理", reverse("accounts:users")))
            if user.division.level == Level.PROVINCE:
                items.append(("监测范围", reverse("accounts:monitoring_lines")))
        if user.is_superuser:
            items.append(("运维后台", reverse("admin:index")))  # the Django admin: operators only
        if user.is_superuser or user.has_role(Role.ADMINISTRATOR):
            # Integrators reach the documentation from their API令牌 page (the header's button).
            items.append(("接口文档", reverse("api-docs")))
    # Only signed-in pages say that background jobs wait; the login page does not ask the broker.
    jobs_delayed = bool(items) and not broker_available()
    return {"nav_items": items, "demo_mode": settings.DEMO_MODE, "background_jobs_delayed": jobs_delayed}
