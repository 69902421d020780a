"""REST endpoints for quotas and targets, attainment, the managers' forecast adjustments and
the forecast's accuracy history. Each validates its input, calls one service or selector and
serialises the result; errors answer the common JSON error body (400 bad input, 403 refused).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leadpact.accounts.models import Team, User
from leadpact.common.api import StrictSerializer
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.pipeline.models import ForecastAdjustment, PeriodKind, Quota
from leadpact.pipeline.periods import period_of, period_parse
from leadpact.pipeline.policies import can_use_pipeline
from leadpact.pipeline.quota_policies import (
    can_adjust_forecast,
    can_view_rep,
    can_view_team,
)
from leadpact.pipeline.quota_selectors import Attainment, attainment_board, quota_attainment
from leadpact.pipeline.services.forecast.period import Forecast
from leadpact.pipeline.services.forecast.scopes import default_scope, scope_from_key
from leadpact.pipeline.services.forecast.snapshots import forecast_accuracy
from leadpact.pipeline.services.quotas import forecast_adjustment_set, quota_set


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def attainment_json(a: Attainment) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "label": a.label,
        "rep": a.rep.pk if a.rep else None,
        "team": a.team.pk if a.team else None,
        "left": a.left,
        "start": a.start,
        "end": a.end,
        "currency": a.currency,
        "target": _money(a.target),
        "target_source": a.target_source,
        "actual": str(a.actual),
        "attainment": a.ratio,
        "quota": a.quota.pk if a.quota else None,
    }


class QuotaOut(serializers.ModelSerializer):
    target = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Quota
        fields = [
            "id",
            "kind",
            "rep",
            "team",
            "period_kind",
            "start",
            "end",
            "target",
            "currency",
            "set_by",
            "created_at",
            "updated_at",
        ]


class QuotaIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Quota.Kind.choices)
    period = serializers.CharField(max_length=10, help_text="2026-11 (month) or 2026-Q4.")
    target = serializers.CharField(max_length=40, help_text="A decimal string; MQLs: a count.")
    currency = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    rep = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1)


class PeriodQuery(StrictSerializer):
    period = serializers.CharField(max_length=10, required=False)
    currency = serializers.CharField(max_length=3, required=False)


class QuotaListApi(APIView):
    @extend_schema(parameters=[PeriodQuery], summary="Quotas, targets and attainment of a period")
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(PeriodQuery, request.query_params.dict())
        period = (
            period_parse(data["period"])
            if data.get("period")
            else period_of(PeriodKind.MONTH, timezone.localdate())
        )
        currency = data.get("currency", "").upper() or None
        board = attainment_board(viewer=request.user, period=period, currency=currency)
        return Response(
            {
                "period": period.label,
                "start": period.start,
                "end": period.end,
                "reps": [attainment_json(a) for a in board.reps],
                "teams": [attainment_json(a) for a in board.teams],
                "marketing": [attainment_json(a) for a in board.marketing],
            }
        )

    @extend_schema(
        request=QuotaIn,
        responses={200: QuotaOut, 201: QuotaOut},
        summary="Set a quota (201) or update the one already set for that period (200)",
    )
    def post(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(QuotaIn, request.data)
        rep = get_object_or_404(User, pk=data["rep"]) if "rep" in data else None
        team = get_object_or_404(Team, pk=data["team"]) if "team" in data else None
        result = quota_set(
            actor=request.user,  # type: ignore[arg-type]
            kind=data["kind"],
            period=period_parse(data["period"]),
            target=data["target"],
            currency=data["currency"],
            rep=rep,
            team=team,
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(QuotaOut(result.quota).data, status=code)


class AttainmentQuery(StrictSerializer):
    rep = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=Quota.Kind.choices, default=Quota.Kind.REVENUE)
    currency = serializers.CharField(max_length=3, required=False)


class AttainmentApi(APIView):
    @extend_schema(
        parameters=[AttainmentQuery],
        summary="Attainment of a rep, a team or the company (default: your own, this month)",
    )
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(AttainmentQuery, request.query_params.dict())
        month = period_of(PeriodKind.MONTH, timezone.localdate())
        start, end = data.get("start", month.start), data.get("end", month.end)
        rep = get_object_or_404(User, pk=data["rep"]) if "rep" in data else None
        team = get_object_or_404(Team, pk=data["team"]) if "team" in data else None
        if rep is None and team is None and data["kind"] == Quota.Kind.REVENUE:
            scope = default_scope(request.user)
            rep, team = scope.rep, scope.team
        if rep is not None:
            _require(can_view_rep(request.user, rep), "You may not see this rep's numbers.")
        if team is not None:
            _require(can_view_team(request.user, team), "You may not see this team's numbers.")
        result = quota_attainment(
            user=rep,
            team=team,
            start=start,
            end=end,
            kind=data["kind"],
            currency=data.get("currency", "").upper() or None,
        )
        return Response(attainment_json(result))


class AdjustmentIn(StrictSerializer):
    rep = serializers.IntegerField(min_value=1)
    start = serializers.DateField()
    end = serializers.DateField()
    currency = serializers.CharField(max_length=10)
    commit = serializers.CharField(max_length=40)
    best_case = serializers.CharField(max_length=40, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AdjustmentOut(serializers.ModelSerializer):
    commit = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    best_case = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=True, allow_null=True
    )

    class Meta:
        model = ForecastAdjustment
        fields = [
            "id",
            "rep",
            "start",
            "end",
            "currency",
            "commit",
            "best_case",
            "note",
            "set_by",
            "updated_at",
        ]


class ForecastAdjustmentApi(APIView):
    @extend_schema(
        request=AdjustmentIn,
        responses=AdjustmentOut,
        summary="Record the manager's commit / best case for a rep's period",
    )
    def post(self, request: Request) -> Response:
        _require(
            can_adjust_forecast(request.user), "Only admins and sales managers adjust forecasts."
        )
        data = _valid(AdjustmentIn, request.data)
        rep = get_object_or_404(User, pk=data.pop("rep"))
        adjustment = forecast_adjustment_set(
            actor=request.user,  # type: ignore[arg-type]
            rep=rep,
            **data,
        )
        return Response(AdjustmentOut(adjustment).data)


class AccuracyQuery(StrictSerializer):
    scope = serializers.CharField(max_length=30, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False)
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, default=PeriodKind.MONTH)


class ForecastAccuracyApi(APIView):
    @extend_schema(
        parameters=[AccuracyQuery],
        summary="Each forecasting method's error on closed periods (weekly snapshots)",
    )
    def get(self, request: Request) -> Response:
        _require(can_use_pipeline(request.user), "Sign in with a leadpact role.")
        data = _valid(AccuracyQuery, request.query_params.dict())
        scope = scope_from_key(data.get("scope"), user=request.user)
        currency = (data.get("currency") or "EUR").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ApplicationError(f"{currency!r} is not a currency code.")
        accuracy = forecast_accuracy(
            user=request.user, scope=scope, currency=currency, period_kind=data["period_kind"]
        )
        return Response(
            {
                "scope": scope.key,
                "currency": currency,
                "periods": accuracy.periods,
                "methods": accuracy.methods,
            }
        )


def forecast_extra_json(result: Forecast) -> dict[str, Any]:
    """The forecast API's fields for the scope, the quota's source, the probabilities and slip
    used, and the reps' roll-up with the managers' adjustments."""
    return {
        "scope": result.scope.key,
        "quota_source": result.quota_source,
        "probability_source": result.probability_source,
        "slip_probability": None if result.slip is None else result.slip.probability,
        "slip_learned": None if result.slip is None else result.slip.learned,
        "commit": str(result.commit),
        "best_case": str(result.best_case),
        "adjusted_commit": str(result.adjusted_commit),
        "adjusted_best_case": str(result.adjusted_best_case),
        "rollup": [
            {
                "rep": r.rep.pk,
                "won": str(r.won),
                "commit": str(r.commit),
                "best_case": str(r.best_case),
                "adjusted_commit": str(r.adjusted_commit),
                "adjusted_best_case": str(r.adjusted_best_case),
                "note": r.adjustment.note if r.adjustment else "",
            }
            for r in result.rollup
        ],
    }
