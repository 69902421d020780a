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
from leadpact.pipeline.models import Activity, Deal, ForecastCategory, LostReason, Pipeline, Stage
from leadpact.pipeline.policies import (
    can_configure,
    can_create_deal,
    can_edit_deal,
    can_use_pipeline,
    can_view_deal,
    visible_deals,
)
from leadpact.pipeline.quota_api import forecast_extra_json
from leadpact.pipeline.services.activities import activity_log
from leadpact.pipeline.services.deals import (
    BulkItem,
    DealInput,
    deal_create,
    deal_move,
    deal_update,
    deals_bulk_update,
)
from leadpact.pipeline.services.forecast.learning import stage_rates
from leadpact.pipeline.services.forecast.period import forecast_period
from leadpact.pipeline.services.forecast.scopes import scope_from_key
from leadpact.pipeline.services.pipelines import (
    StageInput,
    lost_reason_create,
    lost_reason_set_active,
    pipeline_create,
    pipeline_update,
    stage_add,
    stage_delete,
    stage_place,
    stage_update,
)

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
    checked = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        help_text="Qualification checklist items ticked, when the lead is only accepted.",
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
        checked = data.pop("checked", [])
        deal = deal_create(
            data=DealInput(**data, company=company, owner=owner, stage=stage),
            actor=request.user,  # type: ignore[arg-type]
            lead=lead,
            checked=checked,
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


class StagePatchIn(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    kind = serializers.ChoiceField(choices=Stage.Kind.choices, required=False)
    exit_criteria = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False
    )
    position = serializers.IntegerField(min_value=0, required=False)


class StageDeleteIn(StrictSerializer):
    move_to = serializers.IntegerField(
        min_value=1, required=False, help_text="Where the stage's deals go first."
    )


class StageDetailApi(APIView):
    @extend_schema(
        parameters=[StageDeleteIn],
        request=None,
        responses={204: None},
        summary="Delete a stage (409 while deals are in it, unless `move_to` names where they go)",
    )
    def delete(self, request: Request, stage_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        stage = get_object_or_404(Stage, pk=stage_id)
        data = _valid(StageDeleteIn, request.query_params.dict())
        target = get_object_or_404(Stage, pk=data["move_to"]) if "move_to" in data else None
        stage_delete(stage=stage, move_to=target, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=StagePatchIn, responses=StageOut, summary="Rename, re-weight, reorder")
    def patch(self, request: Request, stage_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        stage = get_object_or_404(Stage, pk=stage_id)
        data = _valid(StagePatchIn, request.data)
        position = data.pop("position", None)
        if data:
            stage = stage_update(stage=stage, **data)
        if position is not None:
            stage_place(stage=stage, position=position)
            stage.refresh_from_db()
        return Response(StageOut(stage).data)


class StageAddIn(StageIn):
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class StageListApi(APIView):
    @extend_schema(request=StageAddIn, responses={201: StageOut}, summary="Add a stage")
    def post(self, request: Request, pipeline_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
        data = _valid(StageAddIn, request.data)
        position = data.pop("position", None)
        stage = stage_add(pipeline=pipeline, stage=StageInput(**data), position=position)
        return Response(StageOut(stage).data, status=status.HTTP_201_CREATED)


class PipelinePatchIn(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    is_default = serializers.BooleanField(required=False)


class PipelineDetailApi(APIView):
    @extend_schema(
        responses=PipelineOut,
        summary="A pipeline, its stages, and each stage's learned probability",
    )
    def get(self, request: Request, pipeline_id: int) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        pipeline = get_object_or_404(Pipeline.objects.prefetch_related("stages"), pk=pipeline_id)
        body = PipelineOut(pipeline).data
        learned = {r.stage.pk: r for r in stage_rates(pipeline=pipeline)}
        for stage in body["stages"]:
            rate = learned.get(stage["id"])
            stage["learned_probability"] = (
                None if rate is None or rate.learned is None else round(rate.learned * 100, 1)
            )
            stage["closed_deals_through"] = 0 if rate is None else rate.reached
        return Response(body)

    @extend_schema(request=PipelinePatchIn, responses=PipelineOut, summary="Rename, make default")
    def patch(self, request: Request, pipeline_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
        data = _valid(PipelinePatchIn, request.data)
        pipeline = pipeline_update(pipeline=pipeline, **data)
        return Response(PipelineOut(pipeline).data)


class LostReasonOut(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "label", "is_active"]


class LostReasonIn(StrictSerializer):
    label = serializers.CharField(max_length=100)


class LostReasonPatchIn(StrictSerializer):
    is_active = serializers.BooleanField()


class LostReasonListApi(APIView):
    @extend_schema(responses=LostReasonOut(many=True), summary="Lost reasons")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        return Response(LostReasonOut(LostReason.objects.all(), many=True).data)

    @extend_schema(request=LostReasonIn, responses={201: LostReasonOut}, summary="Add one")
    def post(self, request: Request) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        data = _valid(LostReasonIn, request.data)
        reason = lost_reason_create(label=data["label"])
        return Response(LostReasonOut(reason).data, status=status.HTTP_201_CREATED)


class LostReasonDetailApi(APIView):
    @extend_schema(request=LostReasonPatchIn, responses=LostReasonOut, summary="(De)activate")
    def patch(self, request: Request, reason_id: int) -> Response:
        _require(can_configure(request.user), "Only admins and sales managers set up pipelines.")
        reason = get_object_or_404(LostReason, pk=reason_id)
        data = _valid(LostReasonPatchIn, request.data)
        return Response(
            LostReasonOut(lost_reason_set_active(reason=reason, active=data["is_active"])).data
        )


class BulkDealIn(StrictSerializer):
    id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)


class BulkIn(StrictSerializer):
    deals = BulkDealIn(many=True)
    owner = serializers.IntegerField(min_value=1, required=False)
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    close_date = serializers.DateField(required=False)
    stage = serializers.IntegerField(min_value=1, required=False)
    confirmed = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list
    )


class DealBulkApi(APIView):
    @extend_schema(
        request=BulkIn,
        responses=DealOut(many=True),
        summary="One change to many deals, all or nothing (409 names the refused deals)",
    )
    def post(self, request: Request) -> Response:
        _require(can_configure(request.user), "Only sales managers and admins bulk-update deals.")
        data = _valid(BulkIn, request.data)
        items = [BulkItem(deal_id=d["id"], version=d["version"]) for d in data.pop("deals")]
        done = deals_bulk_update(actor=request.user, items=items, **data)  # type: ignore[arg-type]
        return Response(DealOut(done, many=True).data)


class ForecastIn(StrictSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    quota = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, min_value=0)
    currency = serializers.CharField(max_length=3, required=False)
    scope = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="company, rep:<id>, team:<id>"
    )


class ForecastApi(APIView):
    @extend_schema(parameters=[ForecastIn], summary="Weighted and Monte Carlo forecast")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(ForecastIn, request.query_params.dict())
        if "currency" in data:
            data["currency"] = data["currency"].upper()
        data["scope"] = scope_from_key(data.get("scope"), user=request.user)
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
                **forecast_extra_json(result),
            }
        )
