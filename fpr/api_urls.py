from django.urls import path
from rest_framework.routers import DefaultRouter

from assistance.api import CaseAssistanceViewSet, MeasureViewSet, VisitDutyView, VisitViewSet
from households.api import DivisionViewSet, HouseholdViewSet, IncomeItemViewSet, MemberViewSet
from monitoring.screening.upload_api import UploadViewSet
from monitoring.screening.warning_api import WarningViewSet
from reports.api import StatisticsView
from workflow.api import BulkJobViewSet, CaseViewSet
from workflow.onboarding.api import ImportJobViewSet

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("households", HouseholdViewSet, basename="household")
router.register("members", MemberViewSet, basename="member")
router.register("income-items", IncomeItemViewSet, basename="income-item")
# /cases/{id}/plan/, …/elimination-check/, …/classification/. Registered before CaseViewSet, which
# then names the "cases" entry of the API root (it has the list; this one has detail actions only).
router.register("cases", CaseAssistanceViewSet, basename="case-assistance")
router.register("cases", CaseViewSet, basename="case")
router.register("bulk-jobs", BulkJobViewSet, basename="bulk-job")
router.register("uploads", UploadViewSet, basename="upload")
router.register("measures", MeasureViewSet, basename="measure")
router.register("visits", VisitViewSet, basename="visit")
router.register("warnings", WarningViewSet, basename="warning")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [
    *router.urls,
    path("visit-duty/", VisitDutyView.as_view(), name="visit-duty"),
    path("statistics/", StatisticsView.as_view(), name="statistics"),
]
