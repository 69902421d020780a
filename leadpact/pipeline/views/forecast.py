"""The forecast page."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.pipeline import forms, selectors
from leadpact.pipeline.policies import (
    can_view_forecast,
)
from leadpact.pipeline.services.forecast import forecast_period, stage_rates, win_model_fit
from leadpact.pipeline.views.access import pipeline_user


def _month(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    if not can_view_forecast(user):
        raise PermissionDenied("You may not see the forecast.")
    start, end = _month(timezone.localdate())
    result, error = None, ""
    try:
        start = forms.parse_date(request.GET.get("start"), "Start", required=False) or start
        end = forms.parse_date(request.GET.get("end"), "End", required=False) or end
        quota = forms.parse_decimal(request.GET.get("quota"), "Quota")
        currency = (request.GET.get("currency") or "").strip().upper() or None
        result = forecast_period(user=user, start=start, end=end, quota=quota, currency=currency)
    except ApplicationError as exc:
        error = exc.message
    pipeline = selectors.pipeline_default()
    chart = None
    if result is not None:
        chart = json.dumps(
            {
                "labels": ["Closed won", "Weighted", "P10", "P50", "P90"],
                "values": [
                    float(result.closed_won),
                    result.weighted,
                    result.p10,
                    result.p50,
                    result.p90,
                ],
                "quota": float(result.quota) if result.quota is not None else None,
            }
        )
    return render(
        request,
        "pipeline/forecast.html",
        {
            "result": result,
            "error": error,
            "start": start,
            "end": end,
            "chart": chart,
            "rates": stage_rates(pipeline=pipeline) if pipeline else [],
            "model": win_model_fit(pipeline=pipeline) if pipeline else None,
            "query": request.GET,
        },
        status=400 if error else 200,
    )
