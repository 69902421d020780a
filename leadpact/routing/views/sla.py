"""SLA policies, business calendars and the SLA compliance report."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.accounts.models import Team
from leadpact.common.errors import ApplicationError
from leadpact.common.numbers import parse_whole_number
from leadpact.common.spreadsheet import neutralise
from leadpact.routing import compliance as compliance_report
from leadpact.routing import selectors
from leadpact.routing.models import (
    BusinessCalendar,
    SlaPolicy,
)
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.policies import (
    WEEKDAYS,
    calendar_save,
    policy_create,
    policy_update,
)
from leadpact.routing.views.access import managers_only, sla_viewers


# --- SLA policies ------------------------------------------------------------------------------
def _policy_input(request: HttpRequest) -> dict[str, Any]:
    team_id = parse_whole_number(request.POST.get("team"), "Team", required=False)
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise ApplicationError("That team does not exist.")
    return {
        "name": request.POST.get("name", ""),
        "kind": request.POST.get("kind", ""),
        "team": team,
        "amount": parse_whole_number(request.POST.get("amount"), "Amount"),
        "warn_before_minutes": parse_whole_number(
            request.POST.get("warn_before_minutes"), "Warning"
        )
        or 0,
        "escalation": request.POST.get("escalation", SlaPolicy.Escalation.NOTIFY_MANAGER),
        "is_active": request.POST.get("is_active", "on") == "on",
    }


@sla_viewers
def policies(request: HttpRequest) -> HttpResponse:
    may_edit = can_manage_routing(request.user)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only admins and sales managers change SLA policies.")
        try:
            policy_create(actor=request.user, **_policy_input(request))
            messages.success(request, "Policy added.")
            return redirect("routing:policies")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/policies.html",
        {
            "policies": selectors.policy_list(),
            "changes": selectors.policy_changes(),
            "teams": Team.objects.filter(kind=Team.Kind.SALES).order_by("name"),
            "kinds": SlaPolicy.Kind.choices,
            "escalations": SlaPolicy.Escalation.choices,
            "may_edit": may_edit,
        },
    )


@managers_only
@require_POST
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    try:
        policy_update(policy=policy, actor=request.user, **_policy_input(request))
        messages.success(request, f"Policy “{policy.name}” saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:policies")


# --- SLA compliance report ---------------------------------------------------------------------
@sla_viewers
def compliance(request: HttpRequest) -> HttpResponse:
    """The month's SLA compliance per rep and team, marketing's delivery; ``?format=csv``."""
    raw_month = request.GET.get("month", "")
    wants_csv = request.GET.get("format", "") == "csv"
    try:
        if request.GET.get("format", "") not in ("", "html", "csv"):
            raise ApplicationError("Format must be csv, or left out for the page.")
        month = compliance_report.month_from_param(raw_month, today=timezone.localdate())
    except ApplicationError as exc:
        if wants_csv:
            return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
        return render(
            request,
            "routing/compliance.html",
            {"error": exc.message, "month_value": raw_month[:20]},
            status=400,
        )
    start, end = compliance_report.month_bounds(month, timezone.get_current_timezone())
    report = compliance_report.compliance_report(
        selectors.compliance_rows(start=start, end=end), month
    )
    if wants_csv:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sla-compliance-{month:%Y-%m}.csv"'
        writer = csv.writer(response)
        writer.writerow(compliance_report.csv_header(report))
        for row in compliance_report.csv_rows(report):
            writer.writerow([neutralise(cell) for cell in row])
        return response
    return render(
        request,
        "routing/compliance.html",
        {"report": report, "month_value": f"{month:%Y-%m}", "chart": report.chart},
    )


# --- business calendars -------------------------------------------------------------------------
def _calendar_input(request: HttpRequest) -> dict[str, Any]:
    team_id = parse_whole_number(request.POST.get("team"), "Team", required=False)
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise ApplicationError("That team does not exist.")
    hours = {
        day: [p for p in request.POST.get(f"hours_{day}", "").replace(";", ",").split(",")]
        for day in WEEKDAYS
    }
    closed = request.POST.get("closed_dates", "").replace(",", "\n").split()
    return {
        "name": request.POST.get("name", ""),
        "time_zone": request.POST.get("time_zone", "UTC"),
        "hours": hours,
        "holiday_country": request.POST.get("holiday_country", ""),
        "holiday_subdivision": request.POST.get("holiday_subdivision", ""),
        "closed_dates": closed,
        "team": team,
    }


def _calendar_page(
    request: HttpRequest, calendar: BusinessCalendar | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "routing/calendars.html",
        {
            "calendars": selectors.calendar_list(),
            "calendar": calendar,
            "form": selectors.calendar_form(
                calendar, request.POST if request.method == "POST" else None
            ),
            "weekdays": WEEKDAYS,
            "teams": Team.objects.order_by("name"),
            "zones": selectors.time_zones(),
            "changes": selectors.calendar_changes(calendar=calendar),
        },
        status=status,
    )


@managers_only
def calendars(request: HttpRequest) -> HttpResponse:
    """Business calendars: the list, and a form that adds one."""
    if request.method == "POST":
        try:
            made = calendar_save(actor=request.user, **_calendar_input(request))
            messages.success(request, f"Calendar “{made.name}” added.")
            return redirect("routing:calendars")
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return _calendar_page(request, None, status=400)
    return _calendar_page(request, None)


@managers_only
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    if request.method == "POST":
        try:
            calendar_save(actor=request.user, calendar=calendar, **_calendar_input(request))
            messages.success(request, f"Calendar “{calendar.name}” saved.")
            return redirect("routing:calendar_edit", pk=calendar.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return _calendar_page(request, calendar, status=400)
    return _calendar_page(request, calendar)
