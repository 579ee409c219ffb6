"""Pages of assistance (帮扶), mounted at /assistance/ under the namespace "assistance"."""

from django.urls import path

from assistance import views

app_name = "assistance"

urlpatterns = [
    path("visits/", views.visit_duty_page, name="visit_duty"),
    path("cases/<int:pk>/", views.plan_page, name="plan"),
    path("cases/<int:pk>/plan/", views.plan_create, name="plan_create"),
    path("cases/<int:pk>/plan/adjust/", views.plan_adjust, name="plan_adjust"),
    path("cases/<int:pk>/measures/", views.measure_add, name="measure_add"),
    path("cases/<int:pk>/measures/<int:measure_id>/", views.measure_edit, name="measure_edit"),
    path("cases/<int:pk>/visits/", views.visit_add, name="visit_add"),
    path("cases/<int:pk>/visits/photos/<int:photo_id>/", views.visit_photo, name="visit_photo"),
]
