"""REST endpoints of the pipeline: deals (list, create, read, edit, move), activities,
pipelines (configure), stages (delete) and the forecast. Each validates its input, calls one
service or selector and serialises the result; errors answer the common JSON error body."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.models import User
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import PermissionDeniedError
from leadpact.leads.models import Company, Lead
from leadpact.pipeline.models import Activity, Deal, ForecastCategory, Pipeline, Stage
from leadpact.pipeline.policies import (
    can_configure,
    can_create_deal,
    can_edit_deal,
    can_use_pipeline,
    can_view_deal,
    visible_deals,
)
from leadpact.pipeline.services.activities import activity_log
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move, deal_update
from leadpact.pipeline.services.forecast import forecast_period
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create, stage_delete

LIST_LIMIT = 500


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def _deal(request: Request, deal_id: int, *, edit: bool) -> Deal:
    deal = get_object_or_404(
        Deal.objects.select_related("owner", "stage", "lead", "company"), pk=deal_id
    )
    allowed = can_edit_deal(request.user, deal) if edit else can_view_deal(request.user, deal)
    _require(allowed, "This deal belongs to someone else's team.")
    return deal


class DealOut(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    stage_name = serializers.CharField(source="stage.name")

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "pipeline",
            "stage",
            "stage_name",
            "status",
            "lead",
            "company",
            "account_name",
            "amount",
            "currency",
            "close_date",
            "owner",
            "forecast_category",
            "version",
            "created_at",
            "closed_at",
        ]


class DealIn(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = serializers.CharField(max_length=40, help_text="A decimal string, 2 places at most.")
    currency = serializers.CharField(max_length=10, help_text="ISO 4217 code.")
    close_date = serializers.DateField()
    lead = serializers.IntegerField(required=False, min_value=1)
    company = serializers.IntegerField(required=False, min_value=1)
    account_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    owner = serializers.IntegerField(required=False, min_value=1)
    stage = serializers.IntegerField(required=False, min_value=1)
    forecast_category = serializers.ChoiceField(
        choices=ForecastCategory.choices, required=False, default=ForecastCategory.PIPELINE
    )


class DealPatchIn(StrictSerializer):
    version = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200, required=False)
    amount = serializers.CharField(max_length=40, required=False)
    currency = serializers.CharField(max_length=10, required=False)
    close_date = serializers.DateField(required=False)
    account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    owner = serializers.IntegerField(required=False, min_value=1)


class MoveIn(StrictSerializer):
    version = serializers.IntegerField(min_value=1)
    stage = serializers.IntegerField(min_value=1)
    confirmed = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list
    )
    lost_reason = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ActivityIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    outcome = serializers.CharField(max_length=200)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    next_step = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    next_step_due = serializers.DateField(required=False, allow_null=True, default=None)


class ActivityOut(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = [
            "id",
            "deal",
            "lead",
            "kind",
            "outcome",
            "note",
            "next_step",
            "next_step_due",
            "actor",
            "occurred_at",
        ]


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


class DealListApi(APIView):
    @extend_schema(responses=DealOut(many=True), summary="Deals you may see (open first)")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        qs = (
            visible_deals(request.user)
            .select_related("stage")
            .order_by("status", "close_date", "id")
        )
        return Response(DealOut(qs[:LIST_LIMIT], many=True).data)

    @extend_schema(request=DealIn, responses={201: DealOut}, summary="Open a deal")
    def post(self, request: Request) -> Response:
        _require(can_create_deal(request.user), "Only salespeople and admins create deals.")
        data = _valid(DealIn, request.data)
        lead = get_object_or_404(Lead, pk=data.pop("lead")) if "lead" in data else None
        company = get_object_or_404(Company, pk=data.pop("company")) if "company" in data else None
        owner = get_object_or_404(User, pk=data.pop("owner")) if "owner" in data else None
        stage = get_object_or_404(Stage, pk=data.pop("stage")) if "stage" in data else None
        deal = deal_create(
            data=DealInput(**data, company=company, owner=owner, stage=stage),
            actor=request.user,  # type: ignore[arg-type]
            lead=lead,
        )
        return Response(DealOut(deal).data, status=status.HTTP_201_CREATED)


class DealDetailApi(APIView):
    @extend_schema(responses=DealOut, summary="One deal")
    def get(self, request: Request, deal_id: int) -> Response:
        return Response(DealOut(_deal(request, deal_id, edit=False)).data)

    @extend_schema(
        request=DealPatchIn,
        responses=DealOut,
        summary="Change a deal (409 when `version` is stale)",
    )
    def patch(self, request: Request, deal_id: int) -> Response:
        deal = _deal(request, deal_id, edit=True)
        data = _valid(DealPatchIn, request.data)
        if "owner" in data:
            data["owner"] = get_object_or_404(User, pk=data["owner"])
        version = data.pop("version")
        updated = deal_update(deal=deal, actor=request.user, version=version, **data)  # type: ignore[arg-type]
        return Response(DealOut(updated).data)


class DealMoveApi(APIView):
    @extend_schema(request=MoveIn, responses=DealOut, summary="Move a deal to another stage")
    def post(self, request: Request, deal_id: int) -> Response:
        deal = _deal(request, deal_id, edit=True)
        data = _valid(MoveIn, request.data)
        stage = get_object_or_404(Stage, pk=data.pop("stage"))
        moved = deal_move(deal=deal, actor=request.user, stage=stage, **data)  # type: ignore[arg-type]
        return Response(DealOut(moved).data)


class ActivityApi(APIView):
    @extend_schema(request=ActivityIn, responses={201: ActivityOut}, summary="Log an activity")
    def post(self, request: Request, deal_id: int) -> Response:
        deal = _deal(request, deal_id, edit=True)
        data = _valid(ActivityIn, request.data)
        activity = activity_log(actor=request.user, deal=deal, **data)  # type: ignore[arg-type]
        return Response(ActivityOut(activity).data, status=status.HTTP_201_CREATED)


class StageIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    probability = serializers.IntegerField(min_value=0, max_value=100)
    kind = serializers.ChoiceField(choices=Stage.Kind.choices, default=Stage.Kind.OPEN)
    exit_criteria = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list
    )


class PipelineIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    is_default = serializers.BooleanField(required=False, default=False)
    stages = StageIn(many=True)


class StageOut(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "position", "probability", "kind", "exit_criteria"]


class PipelineOut(serializers.ModelSerializer):
    stages = StageOut(many=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "stages"]


class PipelineListApi(APIView):
    @extend_schema(responses=PipelineOut(many=True), summary="Pipelines and their stages")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        qs = Pipeline.objects.prefetch_related("stages")
        return Response(PipelineOut(qs, many=True).data)

    @extend_schema(request=PipelineIn, responses={201: PipelineOut}, summary="Create a pipeline")
    def post(self, request: Request) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        data = _valid(PipelineIn, request.data)
        stages = [StageInput(**dict(s)) for s in data.pop("stages")]
        pipeline = pipeline_create(stages=stages, **data)
        return Response(PipelineOut(pipeline).data, status=status.HTTP_201_CREATED)


class StageDetailApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Delete a stage with no deals")
    def delete(self, request: Request, stage_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        stage_delete(stage=get_object_or_404(Stage, pk=stage_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ForecastIn(StrictSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    quota = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, min_value=0)
    currency = serializers.CharField(max_length=3, required=False)


class ForecastApi(APIView):
    @extend_schema(parameters=[ForecastIn], summary="Weighted and Monte Carlo forecast")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(ForecastIn, request.query_params.dict())
        if "currency" in data:
            data["currency"] = data["currency"].upper()
        result = forecast_period(user=request.user, **data)
        return Response(
            {
                "start": result.start,
                "end": result.end,
                "currency": result.currency,
                "deals": result.deals,
                "closed_won": str(result.closed_won),
                "weighted": round(result.weighted, 2),
                "p10": round(result.p10, 2),
                "p50": round(result.p50, 2),
                "p90": round(result.p90, 2),
                "quota": None if result.quota is None else str(result.quota),
                "attainment_probability": result.attainment,
                "by_category": result.by_category,
            }
        )
