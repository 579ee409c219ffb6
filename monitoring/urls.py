"""Pages of departmental comparison, warnings and the jobs' to-do lists, mounted at /monitoring/ under the
namespace "monitoring"."""

from django.urls import path  # noqa: F401  (the sections below add their routes)

app_name = "monitoring"

urlpatterns: list = [
    # uploads (部门数据上传) — monitoring.upload_views
    # warnings (预警线索) — monitoring.warning_views
    # to-do lists and regional alerts (待办事项) — monitoring.todo_views
]
