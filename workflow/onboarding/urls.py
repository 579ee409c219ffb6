"""数据导入 pages, mounted at /imports/ under the namespace "imports"."""

from django.urls import path

from workflow.onboarding import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("<int:pk>/passwords/", views.import_passwords, name="passwords"),
]
