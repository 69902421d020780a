"""The pipeline review over REST (read only): the same figures, filters and permission rules as
the review page (``/pipeline/review/``). Bad input answers 400 with the common error body, a
team or rep the caller may not review 403."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.common.api import StrictSerializer
from leadpact.common.errors import PermissionDeniedError
from leadpact.pipeline import review_selectors, selectors
from leadpact.pipeline.models import Deal, Pipeline, Stage
from leadpact.pipeline.policies import can_use_pipeline


class ReviewIn(StrictSerializer):
    """The page's query parameters, with the page's names and defaults."""

    pipeline = serializers.IntegerField(
        required=False, help_text="Pipeline id (default: the first)."
    )
    team = serializers.IntegerField(required=False, help_text="Only this sales team's deals.")
    rep = serializers.IntegerField(required=False, help_text="Only this owner's deals.")
    source = serializers.ChoiceField(
        choices=["all", "leads"],
        required=False,
        allow_blank=True,
        help_text="leads: only deals that came from a lead (always so for marketing).",
    )
    days = serializers.IntegerField(
        required=False, help_text="No activity for this many days (1-365; default 14)."
    )
    since = serializers.IntegerField(
        required=False, help_text="Movement over the last this many days (1-92; default 7)."
    )
    history = serializers.IntegerField(
        required=False,
        help_text="Stage conversion over the stage entries of this many days (1-730; default 90).",
    )


# --- the answer's shape, for the OpenAPI schema ---------------------------------------------


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True)


class StageRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    probability = serializers.IntegerField()


class CellOut(serializers.Serializer):
    category = serializers.CharField()
    count = serializers.IntegerField()
    amount = _money()


class MatrixRowOut(serializers.Serializer):
    stage = StageRefOut()
    cells = CellOut(many=True)
    count = serializers.IntegerField()
    amount = _money()


class TotalsOut(serializers.Serializer):
    cells = CellOut(many=True)
    count = serializers.IntegerField()
    amount = _money()


class FiguresOut(serializers.Serializer):
    count = serializers.IntegerField(help_text="Open deals (every currency).")
    amount = _money()
    commit = _money()
    best_case = _money()
    stale = serializers.IntegerField(help_text="Open deals with no activity for ``days``.")
    overdue = serializers.IntegerField(help_text="Open deals past their close date.")


class RepOut(FiguresOut):
    owner = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)


class TeamOut(FiguresOut):
    team = serializers.IntegerField(allow_null=True, help_text="null: owners with no team.")
    name = serializers.CharField(allow_null=True)


class DealLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.IntegerField()
    owner_name = serializers.CharField()
    stage = serializers.IntegerField()
    stage_name = serializers.CharField()
    forecast_category = serializers.CharField()
    amount = _money()
    currency = serializers.CharField()
    close_date = serializers.DateField()
    last_activity_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class MovementOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(review_selectors.MOVEMENT_KINDS))
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = _money()
    deals = DealLineOut(many=True, help_text="The largest ones.")


class FlowOut(serializers.Serializer):
    stage = StageRefOut()
    entered = serializers.IntegerField()
    left = serializers.IntegerField()
    advanced = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="advanced / left")
    avg_days = serializers.FloatField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True)


class DealListOut(serializers.Serializer):
    count = serializers.IntegerField(help_text="All of them; ``deals`` lists the first ones.")
    deals = DealLineOut(many=True)


class FiltersOut(serializers.Serializer):
    pipeline = serializers.IntegerField()
    pipeline_name = serializers.CharField()
    team = serializers.IntegerField(allow_null=True)
    rep = serializers.IntegerField(allow_null=True)
    source = serializers.ChoiceField(choices=["all", "leads"])
    days = serializers.IntegerField()
    since = serializers.IntegerField()
    history = serializers.IntegerField()
    today = serializers.DateField()


class ReviewOut(serializers.Serializer):
    filters = FiltersOut()
    currency = serializers.CharField(help_text="Amounts are in this currency only.")
    other_currencies = serializers.ListField(child=serializers.CharField())
    matrix = MatrixRowOut(many=True)
    totals = TotalsOut()
    reps = RepOut(many=True)
    teams = TeamOut(many=True)
    movement = MovementOut(many=True)
    flows = FlowOut(many=True)
    stale = DealListOut()
    overdue = DealListOut()


# --- serialising (plain dicts: a review lists a few hundred rows) ----------------------------


def _amount(value: Decimal) -> str:
    return str(value)


def _stage(stage: Stage) -> dict[str, Any]:
    return {"id": stage.pk, "name": stage.name, "probability": stage.probability}


def _cell(cell: dict[str, Any]) -> dict[str, Any]:
    return {**cell, "amount": _amount(cell["amount"])}


def _figures(row: review_selectors.RepRow | review_selectors.TeamRow) -> dict[str, Any]:
    return {
        "count": row.count,
        "amount": _amount(row.amount),
        "commit": _amount(row.commit),
        "best_case": _amount(row.best_case),
        "stale": row.stale,
        "overdue": row.overdue,
    }


def _deal(deal: Deal) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "name": deal.name,
        "owner": deal.owner_id,
        "owner_name": str(deal.owner),
        "stage": deal.stage_id,
        "stage_name": deal.stage.name,
        "forecast_category": deal.forecast_category,
        "amount": _amount(deal.amount),
        "currency": deal.currency,
        "close_date": deal.close_date,
        "last_activity_at": deal.last_activity_at,
        "version": deal.version,
    }


def review_json(
    data: review_selectors.Review, teams: list[review_selectors.TeamRow]
) -> dict[str, Any]:
    f = data.filters
    return {
        "filters": {
            "pipeline": f.pipeline.pk,
            "pipeline_name": f.pipeline.name,
            "team": f.team_id,
            "rep": f.rep_id,
            "source": "leads" if f.from_leads else "all",
            "days": f.stale_days,
            "since": f.movement_days,
            "history": f.history_days,
            "today": f.today,
        },
        "currency": data.currency,
        "other_currencies": data.other_currencies,
        "matrix": [
            {
                "stage": _stage(row.stage),
                "cells": [_cell(c) for c in row.cells],
                "count": row.count,
                "amount": _amount(row.amount),
            }
            for row in data.matrix
        ],
        "totals": {
            "cells": [_cell(c) for c in data.totals["cells"]],
            "count": data.totals["count"],
            "amount": _amount(data.totals["amount"]),
        },
        "reps": [
            {
                "owner": r.owner_id,
                "name": str(r.owner) if r.owner else None,
                "team": r.owner.team_id if r.owner else None,
                **_figures(r),
            }
            for r in data.reps
        ],
        "teams": [
            {
                "team": t.team.pk if t.team else None,
                "name": t.team.name if t.team else None,
                **_figures(t),
            }
            for t in teams
        ],
        "movement": [
            {
                "kind": m.kind,
                "label": m.label,
                "count": m.count,
                "amount": _amount(m.amount),
                "deals": [_deal(d) for d in m.deals],
            }
            for m in data.movement
        ],
        "flows": [
            {
                "stage": _stage(x.stage),
                "entered": x.entered,
                "left": x.left,
                "advanced": x.advanced,
                "conversion": x.conversion,
                "avg_days": x.avg_days,
                "median_days": x.median_days,
            }
            for x in data.flows
        ],
        "stale": {"count": data.stale_count, "deals": [_deal(d) for d in data.stale]},
        "overdue": {"count": data.overdue_count, "deals": [_deal(d) for d in data.overdue]},
    }


class ReviewApi(APIView):
    @extend_schema(
        parameters=[ReviewIn],
        responses=ReviewOut,
        summary="Pipeline review: by stage and category, per rep and team, movement, "
        "conversion, stuck and overdue deals",
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if not can_use_pipeline(user):
            raise PermissionDeniedError("Sign in with a leadpact role.")
        query = ReviewIn(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        pipeline = asked.get("pipeline")
        choices = review_selectors.review_choices(user=user)
        filters = review_selectors.review_filters_make(
            user=user,
            pipelines=list(Pipeline.objects.all()),
            today=timezone.localdate(),
            pipeline="" if pipeline is None else str(pipeline),
            team_id=asked.get("team"),
            rep_id=asked.get("rep"),
            leads_only=asked.get("source") == "leads",
            stale_days=asked.get("days"),
            movement_days=asked.get("since"),
            history_days=asked.get("history"),
        )
        review_selectors.review_filters_check(choices=choices, filters=filters)
        data = review_selectors.review(
            user=user, filters=filters, stages=selectors.pipeline_stages(filters.pipeline)
        )
        teams = review_selectors.team_rows(reps=data.reps, teams=choices.teams)
        return Response(review_json(data, teams))
