"""Pages of monitoring cases, mounted at /cases/ under the namespace "cases". The application and the
village's stage records are monitoring's pages; the case page, transitions, queue and bulk are
workflow's (workflow may import monitoring, not the other way round)."""

from django.urls import path

from workflow import print_views, record_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list_page, name="list"),
    path("search/", views.case_list_search, name="search"),
    path("queue/", views.case_queue_page, name="queue"),
    path("queue/search/", views.case_queue_search, name="queue_search"),
    path("queue/bulk/", views.bulk_fire, name="bulk"),
    path("bulk-jobs/<int:job_id>/", views.bulk_job_page, name="bulk_job"),
    # print pages (A4) — workflow.print_views
    path("print/notices/<str:village_pk>/", print_views.notice_list, name="print_notices"),
    path("<int:pk>/print/authorization/", print_views.case_print, {"doc": "authorization"}, name="print_authorization"),
    path("<int:pk>/print/signin/", print_views.case_print, {"doc": "signin"}, name="print_signin"),
    path("<int:pk>/print/collection/", print_views.case_print, {"doc": "collection"}, name="print_collection"),
    path("apply/<int:household_pk>/", record_views.case_create, name="create"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/application/", record_views.application_edit, name="application"),
    path("<int:pk>/verification/", record_views.verification_record, name="verification"),
    path("<int:pk>/appraisal/", record_views.appraisal_record, name="appraisal"),
    path("<int:pk>/transitions/<slug:name>/", views.transition_fire, name="fire"),
    path("<int:pk>/classification/", views.case_classify, name="classify"),
    path("<int:pk>/objections/", views.objection_lodge, name="objection"),
    path(
        "<int:pk>/objections/<int:objection_id>/dismiss/",
        views.objection_resolve,
        {"outcome": "dismiss"},
        name="objection_dismiss",
    ),
    path(
        "<int:pk>/objections/<int:objection_id>/substantiate/",
        views.objection_resolve,
        {"outcome": "substantiate"},
        name="objection_substantiate",
    ),
    path("<int:pk>/files/authorization/", views.case_file, {"kind": "authorization"}, name="authorization_file"),
    path("<int:pk>/files/minutes/<int:item>/", views.case_file, {"kind": "minutes"}, name="minutes_file"),
    path("<int:pk>/files/attachments/<int:item>/", views.case_file, {"kind": "attachment"}, name="attachment_file"),
]
