"""REST API of the household registry (/api/v1/). Thin: read through the scoped selectors, validate
the shape, call one service, render.

Every queryset goes through `for_user`, so an object outside the caller's subtree is a 404; the
services refuse writes by role or jurisdiction with PermissionDenied (403, Chinese message).
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from fpr.api import ErrorSerializer
from fpr.pagination import KeysetPagination
from fpr.periods import accounting_year
from households import services
from households.filters import DivisionFilter, HouseholdFilter, IncomeItemFilter, MemberFilter
from households.models import Division, Household, IncomeItem, Member
from households.selectors import divisions_visible, household_list
from households.serializers import (
    DivisionSerializer,
    HouseholdCreateSerializer,
    HouseholdDetailSerializer,
    HouseholdSerializer,
    HouseholdUpdateSerializer,
    IncomeItemCreateSerializer,
    IncomeItemSerializer,
    IncomeItemUpdateSerializer,
    MemberCreateSerializer,
    MemberInputSerializer,
    MemberSerializer,
    YearQuerySerializer,
)

REASON_REQUIRED = "查看完整信息须说明查看事由（reason 参数），查看将被记录。"

YEAR_PARAMETER = OpenApiParameter(
    "year",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="收入核算年度，默认为当前算账年度（3月起为当年，1—2月为上一年）",
)


class RegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and retrieve, plus create/update handlers that validate with an input serializer, call
    a service and answer with the output serializer."""

    def get_serializer_context(self) -> dict:
        """Full ID numbers, certificates, bank accounts and phones only when asked for
        (`?reveal=1&reason=…`) by a holder of households.view_sensitive; every household shown in full
        is logged with the reason (finalize_response). A reveal without a reason is a 400."""
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        asked = self.request is not None and self.request.query_params.get("reveal") == "1"
        allowed = bool(asked and user and user.has_perm("households.view_sensitive"))
        self._reveal_reason = self.request.query_params.get("reason", "").strip() if allowed else ""
        if allowed and not self._reveal_reason:
            raise serializers.ValidationError({"reason": [REASON_REQUIRED]})
        context["show_sensitive"] = allowed
        context["revealed_households"] = set()
        return context

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        self._revealed = serializer.context.get("revealed_households")
        return serializer

    def finalize_response(self, request, response, *args, **kwargs):
        revealed = getattr(self, "_revealed", None)
        if revealed and 200 <= response.status_code < 300:
            households = list(Household.objects.filter(pk__in=revealed))
            services.sensitive_access_record(
                user=request.user, households=households, via="接口", reason=getattr(self, "_reveal_reason", "")
            )
        return super().finalize_response(request, response, *args, **kwargs)

    def validated(self, serializer_class, *, instance=None, partial: bool = False) -> dict:
        serializer = serializer_class(
            instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def output(self, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset so the answer has the same shape as a retrieve.
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=status_code)


class DivisionPagination(KeysetPagination):
    ordering = "code"


@extend_schema_view(
    list=extend_schema(summary="行政区划列表（本辖区）"),
    retrieve=extend_schema(summary="行政区划详情"),
)
class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Divisions (行政区划) in the caller's subtree."""

    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter
    pagination_class = DivisionPagination
    lookup_field = "code"
    lookup_value_regex = r"\d{12}"

    def get_queryset(self) -> QuerySet[Division]:
        return divisions_visible(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="农户列表", responses=HouseholdSerializer),
    retrieve=extend_schema(
        summary="农户详情（含家庭成员和收入核算）", parameters=[YEAR_PARAMETER], responses=HouseholdDetailSerializer
    ),
)
class HouseholdViewSet(RegistryViewSet):
    """Households (农户) in the caller's subtree. ID numbers and bank accounts are masked unless the
    caller may see them."""

    filterset_class = HouseholdFilter

    def get_queryset(self) -> QuerySet[Household]:
        households = household_list(user=self.request.user)
        if self.action != "list":
            households = households.prefetch_related("members")
        return households

    def filter_queryset(self, queryset: QuerySet[Household]) -> QuerySet[Household]:
        # The filters choose households for the list. HouseholdFilter starts again from the selector,
        # which would drop the detail's prefetch; a single household is found by its id alone.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return HouseholdSerializer if self.action == "list" else HouseholdDetailSerializer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if self.action != "list":
            context["income_year"] = self.income_year()
        return context

    def income_year(self) -> int:
        query = YearQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("year", accounting_year())

    @extend_schema(
        summary="登记农户（含家庭成员）",
        request=HouseholdCreateSerializer,
        parameters=[YEAR_PARAMETER],
        responses={201: HouseholdDetailSerializer},
    )
    def create(self, request):
        data = self.validated(HouseholdCreateSerializer)
        village, members = data.pop("village"), data.pop("members")
        household = services.household_create(
            user=request.user, village=village, data=data, members=[dict(member) for member in members]
        )
        return self.output(household, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改农户信息",
        request=HouseholdUpdateSerializer,
        parameters=[YEAR_PARAMETER],
        responses={200: HouseholdDetailSerializer, 409: ErrorSerializer},
    )
    def update(self, request, pk=None, partial: bool = False):
        household = self.get_object()
        data = self.validated(HouseholdUpdateSerializer, instance=household, partial=partial)
        version = data.pop("version", None)
        services.household_update(user=request.user, household=household, data=data, version=version)
        return self.output(household)

    @extend_schema(
        summary="修改农户部分信息",
        request=HouseholdUpdateSerializer,
        parameters=[YEAR_PARAMETER],
        responses={200: HouseholdDetailSerializer, 409: ErrorSerializer},
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)


@extend_schema_view(
    list=extend_schema(summary="家庭成员列表"),
    retrieve=extend_schema(summary="家庭成员详情"),
)
class MemberViewSet(RegistryViewSet):
    """Members (家庭成员) of households in the caller's subtree."""

    serializer_class = MemberSerializer
    filterset_class = MemberFilter

    def get_queryset(self) -> QuerySet[Member]:
        return Member.objects.for_user(self.request.user).select_related("household__village")

    @extend_schema(summary="新增家庭成员", request=MemberCreateSerializer, responses={201: MemberSerializer})
    def create(self, request):
        data = self.validated(MemberCreateSerializer)
        member = services.member_create(user=request.user, household=data.pop("household"), data=data)
        return self.output(member, status_code=status.HTTP_201_CREATED)

    @extend_schema(summary="修改家庭成员", request=MemberInputSerializer, responses=MemberSerializer)
    def update(self, request, pk=None, partial: bool = False):
        member = self.get_object()
        data = self.validated(MemberInputSerializer, instance=member, partial=partial)
        services.member_update(user=request.user, member=member, data=data)
        return self.output(member)

    @extend_schema(summary="修改家庭成员部分信息", request=MemberInputSerializer, responses=MemberSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)


@extend_schema_view(
    list=extend_schema(summary="收入明细列表"),
    retrieve=extend_schema(summary="收入明细详情"),
)
class IncomeItemViewSet(RegistryViewSet):
    """Income items of the yearly accounting (算账). The registry keeps one amount per household,
    year and kind, so posting an item sets that amount: 201 when it is new, 200 when it replaced one."""

    serializer_class = IncomeItemSerializer
    filterset_class = IncomeItemFilter

    def get_queryset(self) -> QuerySet[IncomeItem]:
        return IncomeItem.objects.for_user(self.request.user).select_related("household__village")

    @extend_schema(
        summary="录入收入项目（同户同年同项目已有则更新金额）",
        request=IncomeItemCreateSerializer,
        responses={201: IncomeItemSerializer, 200: IncomeItemSerializer},
    )
    def create(self, request):
        data = self.validated(IncomeItemCreateSerializer)
        household, year, kind = data["household"], data["year"], data["kind"]
        existed = IncomeItem.objects.filter(household=household, year=year, kind=kind).exists()
        services.account_items_set(user=request.user, household=household, year=year, incomes={kind: data["amount"]})
        item = IncomeItem.objects.get(household=household, year=year, kind=kind)
        return self.output(item, status_code=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(summary="修改收入金额", request=IncomeItemUpdateSerializer, responses=IncomeItemSerializer)
    def update(self, request, pk=None, partial: bool = False):
        item = self.get_object()
        data = self.validated(IncomeItemUpdateSerializer, instance=item, partial=partial)
        if "amount" in data:
            services.account_items_set(
                user=request.user, household=item.household, year=item.year, incomes={item.kind: data["amount"]}
            )
        return self.output(item)

    @extend_schema(summary="修改收入金额", request=IncomeItemUpdateSerializer, responses=IncomeItemSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)
