"""The pipeline review page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.pipeline import forms, selectors
from leadpact.pipeline.views.access import pipeline_user


@login_required
def review(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    try:
        days = forms.parse_int(request.GET.get("days") or "14", "Days") or 14
    except ApplicationError as exc:
        messages.error(request, exc.message)
        days = 14
    today = timezone.localdate()
    rows = list(selectors.review_rows(user=user, stale_days=days, today=today)[:200])
    return render(request, "pipeline/review.html", {"rows": rows, "days": days, "today": today})
