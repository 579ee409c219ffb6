"""Statistics, dashboards and exports, mounted at /reports/ under the namespace "reports"."""

from django.urls import path

from reports.exports import views as export_views
from reports.statistics import views as statistics_views

app_name = "reports"

urlpatterns: list = [
    # statistics and dashboard — reports.statistics.views
    path("", statistics_views.statistics_page, name="statistics"),
    path("export/", statistics_views.statistics_export, name="statistics_export"),
    path("dashboard/", statistics_views.dashboard, name="dashboard"),
    # exports (ledger, standard forms, export log) — reports.exports.views
    path("exports/", export_views.export_list, name="exports"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("exports/<int:pk>/", export_views.export_status, name="export_status"),
    path("ledger/", export_views.ledger_page, name="ledger"),
    path("quarterly/", export_views.quarterly_download, name="quarterly"),
    path("cases/<int:pk>/forms/<slug:form>/", export_views.case_form_download, name="case_form"),
]
