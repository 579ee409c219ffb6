"""Pages of departmental comparison, warnings and the jobs' to-do lists, mounted at /monitoring/ under the
namespace "monitoring"."""

from django.urls import path

from monitoring.jobs import accounting_views, todo_views
from monitoring.jobs import views as job_views
from monitoring.screening import upload_views, warning_views

app_name = "monitoring"

urlpatterns: list = [
    # uploads (部门数据上传) — monitoring.screening.upload_views
    path("uploads/", upload_views.upload_list, name="uploads"),
    path("uploads/new/", upload_views.upload_create, name="upload_create"),
    path("uploads/<int:pk>/", upload_views.upload_detail, name="upload"),
    path("uploads/<int:pk>/report/", upload_views.upload_report, name="upload_report"),
    path("uploads/<int:pk>/retry/", upload_views.upload_retry, name="upload_retry"),
    path("uploads/<int:pk>/start/", upload_views.upload_start, name="upload_start"),
    path("uploads/<int:pk>/discard/", upload_views.upload_discard, name="upload_discard"),
    path("uploads/templates/<slug:department>/", upload_views.upload_template, name="upload_template"),
    path("uploads/samples/<str:name>", upload_views.upload_sample, name="upload_sample"),
    # warnings (预警线索) — monitoring.screening.warning_views
    path("warnings/", warning_views.warning_list_page, name="warnings"),
    path("warnings/search/", warning_views.warning_search, name="warning_search"),
    path("warnings/<int:pk>/", warning_views.warning_detail, name="warning"),
    path("warnings/<int:pk>/contacts/", warning_views.warning_contact, name="warning_contact"),
    path("warnings/<int:pk>/include/", warning_views.warning_include, name="warning_include"),
    path("warnings/<int:pk>/exclude/", warning_views.warning_exclude, name="warning_exclude"),
    path("warnings/<int:pk>/attach/", warning_views.warning_attach, name="warning_attach"),
    # to-do lists and regional alerts (待办事项) — monitoring.jobs.todo_views
    path("todos/", todo_views.todo_list, name="todos"),
    # households still without the accounting year's 算账, per village — monitoring.jobs.accounting_views
    path("accounting/missing/", accounting_views.accounting_missing, name="accounting_missing"),
    # scheduled jobs and 立即运行, for administrators — monitoring.jobs.views
    path("jobs/", job_views.job_list, name="jobs"),
]
