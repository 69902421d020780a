"""The forecast page: the range for a rep, a team or everything the viewer sees, the stored
quota's attainment, the reps' roll-up with the managers' adjustments, the learned win model's
calibration and the accuracy history of the weekly snapshots. And the adjustment form's post."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import parse_whole_number
from leadpact.pipeline import forms, selectors
from leadpact.pipeline.models import PeriodKind
from leadpact.pipeline.periods import period_from_dates
from leadpact.pipeline.policies import can_view_forecast
from leadpact.pipeline.quota_policies import can_adjust_forecast
from leadpact.pipeline.quota_selectors import quota_attainment, visible_sales_people
from leadpact.pipeline.services.forecast.learning import stage_rates, win_model_for
from leadpact.pipeline.services.forecast.period import Forecast, forecast_period
from leadpact.pipeline.services.forecast.scopes import default_scope, scope_from_key
from leadpact.pipeline.services.forecast.snapshots import forecast_accuracy
from leadpact.pipeline.services.quotas import forecast_adjustment_set
from leadpact.pipeline.views.access import pipeline_user


def _month(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def _chart(result: Forecast) -> str:
    """Bars from zero for what is won and the point forecasts, a floating P10-P90 bar with the
    P50 marked for the Monte Carlo range, and the quota as a line."""
    return json.dumps(
        {
            "labels": [
                "Closed won",
                "Weighted pipeline",
                "Commit (adjusted)",
                "Best case (adjusted)",
                "Monte Carlo P10 to P90",
            ],
            "bars": [
                float(result.closed_won),
                result.weighted,
                float(result.adjusted_commit),
                float(result.adjusted_best_case),
                [result.p10, result.p90],
            ],
            "p50": result.p50,
            "quota": float(result.quota) if result.quota is not None else None,
            "currency": result.currency,
        }
    )


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    if not can_view_forecast(user):
        raise PermissionDenied("You may not see the forecast.")
    start, end = _month(timezone.localdate())
    result, error, accuracy, attainment = None, "", None, None
    scope = default_scope(user)
    try:
        scope = scope_from_key(request.GET.get("scope"), user=user)
        start = forms.parse_date(request.GET.get("start"), "Start", required=False) or start
        end = forms.parse_date(request.GET.get("end"), "End", required=False) or end
        quota = forms.parse_decimal(request.GET.get("quota"), "Quota")
        currency = (request.GET.get("currency") or "").strip().upper() or None
        result = forecast_period(
            user=user, start=start, end=end, quota=quota, currency=currency, scope=scope
        )
        if scope.rep is not None or scope.team is not None:
            attainment = quota_attainment(
                user=scope.rep, team=scope.team, start=start, end=end, currency=result.currency
            )
        try:
            kind = period_from_dates(start, end).kind
        except ApplicationError:
            kind = PeriodKind.MONTH
        accuracy = forecast_accuracy(
            user=user, scope=scope, currency=result.currency, period_kind=kind
        )
    except ApplicationError as exc:
        error = exc.message
    pipeline = selectors.pipeline_default()
    people, teams = visible_sales_people(user)
    can_adjust = can_adjust_forecast(user)
    adjustable = [r for r in result.rollup if can_adjust_forecast(user, r.rep)] if result else []
    return render(
        request,
        "pipeline/forecast.html",
        {
            "result": result,
            "error": error,
            "start": start,
            "end": end,
            "scope": scope,
            "scope_key": scope.key,
            "reps": list(people.filter(is_active=True)),
            "teams": list(teams),
            "chart": _chart(result) if result is not None else None,
            "attainment": attainment,
            "accuracy": accuracy,
            "accuracy_chart": json.dumps(accuracy.chart) if accuracy and accuracy.periods else None,
            "rates": stage_rates(pipeline=pipeline) if pipeline else [],
            "model": win_model_for(pipeline=pipeline) if pipeline else None,
            "can_adjust": can_adjust and bool(adjustable),
            "adjustable": adjustable,
            "query": request.GET,
            "back": request.get_full_path(),
        },
        status=400 if error else 200,
    )


def _forecast_page(request: HttpRequest) -> str:
    """The forecast of the period the adjustment was for."""
    fallback = {k: request.POST.get(k, "") for k in ("start", "end", "currency")}
    return reverse("pipeline:forecast") + "?" + urlencode(fallback)


@login_required
@require_POST
@form_post(_forecast_page)
def adjustment_set(request: HttpRequest) -> str:
    """A manager records their own commit / best case for a rep's period, with a note."""
    user = pipeline_user(request)
    if not can_adjust_forecast(user):
        raise PermissionDenied("Only admins and sales managers adjust the forecast.")
    post = request.POST
    rep_id = parse_whole_number(post.get("rep"), "Rep")
    rep = User.objects.filter(pk=rep_id).first()
    if rep is None:
        raise ApplicationError(f"No such rep: {rep_id}.")
    start = forms.parse_date(post.get("start"), "Start")
    end = forms.parse_date(post.get("end"), "End")
    assert start is not None and end is not None
    forecast_adjustment_set(
        actor=user,  # type: ignore[arg-type]
        rep=rep,
        start=start,
        end=end,
        currency=post.get("currency", ""),
        commit=post.get("commit", "").strip() or None,
        best_case=post.get("best_case", "").strip() or None,
        note=post.get("note", ""),
    )
    return f"Your call on {rep}'s forecast is recorded."
