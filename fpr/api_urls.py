from rest_framework.routers import DefaultRouter

from households.api import DivisionViewSet, HouseholdViewSet, IncomeItemViewSet, MemberViewSet
from workflow.api import BulkJobViewSet, CaseViewSet

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("households", HouseholdViewSet, basename="household")
router.register("members", MemberViewSet, basename="member")
router.register("income-items", IncomeItemViewSet, basename="income-item")
router.register("cases", CaseViewSet, basename="case")
router.register("bulk-jobs", BulkJobViewSet, basename="bulk-job")

urlpatterns = router.urls
