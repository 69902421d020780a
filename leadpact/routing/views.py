"""Pages of the hand-off: a rep's queue, routing rules and capacity, SLA policies, fallback.

Thin: each POST parses its form, calls one service and redirects with a message; a bad value
becomes a message on the page, never a 500.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from leadpact.accounts.models import Team, User
from leadpact.common.errors import ApplicationError
from leadpact.common.spreadsheet import neutralise
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import lead_accept, lead_reject
from leadpact.routing import compliance as compliance_report
from leadpact.routing import selectors
from leadpact.routing.models import (
    BusinessCalendar,
    QualificationItem,
    RejectionReason,
    RoutingRule,
    SlaClock,
    SlaPolicy,
)
from leadpact.routing.roles import can_have_queue, can_manage_routing, can_view_sla
from leadpact.routing.services.lists import (
    checklist_item_create,
    checklist_item_move,
    checklist_item_update,
    rejection_reason_create,
    rejection_reason_move,
    rejection_reason_update,
)
from leadpact.routing.services.pauses import clock_pause, clock_resume
from leadpact.routing.services.policies import (
    WEEKDAYS,
    calendar_save,
    policy_create,
    policy_update,
)
from leadpact.routing.services.qualification import lead_qualify_checked
from leadpact.routing.services.router import leads_assign_bulk, leads_route
from leadpact.routing.services.rules import (
    availability_set,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
)

View = Callable[..., HttpResponse]


def _requires(check: Callable[[Any], bool], message: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


sales_only = _requires(can_have_queue, "Only salespeople have a lead queue.")
managers_only = _requires(can_manage_routing, "Only admins and sales managers manage routing.")
sla_viewers = _requires(can_view_sla, "Sales reps see their deadlines in their queue.")


def _int(raw: str | None, label: str, *, required: bool = True) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ApplicationError(f"{label} is required.")
        return None
    if not raw.isdigit():
        raise ApplicationError(f"{label} must be a whole number, got {raw!r}.")
    return int(raw)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(default)


# --- the rep's queue ---------------------------------------------------------------------------
@sales_only
def queue(request: HttpRequest) -> HttpResponse:
    offers = selectors.rep_queue(rep=request.user)
    accepted = selectors.accepted_to_qualify(rep=request.user)
    selectors.open_clocks_attach(offers + accepted)
    return render(
        request,
        "routing/queue.html",
        {
            "offers": offers,
            "accepted": accepted,
            "reasons": selectors.rejection_reasons(),
            "checklist": selectors.qualification_items(),
            "now": timezone.now(),
        },
    )


@sales_only
@require_POST
def accept(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_accept(lead=lead, actor=request.user)
        messages.success(request, f"Accepted {lead}. Qualify it when you have spoken to them.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, "routing:queue")


@sales_only
@require_POST
def reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_reject(
            lead=lead,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "").strip()[:2000],
        )
        messages.success(request, f"Rejected {lead}; it goes back to marketing with your reason.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, "routing:queue")


@sales_only
@require_POST
def qualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = get_object_or_404(Lead, pk=lead_id)
    try:
        lead_qualify_checked(
            lead=lead,
            actor=request.user,
            checked=[v for v in request.POST.getlist("item") if v.isdigit()],
            note=request.POST.get("note", "")[:2000],
        )
        messages.success(request, f"{lead} is now sales qualified (SQL).")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, "routing:queue")


# --- pausing an SLA clock -----------------------------------------------------------------------
def _after_clock(request: HttpRequest, clock: SlaClock) -> HttpResponse:
    if can_have_queue(request.user):
        return redirect("routing:queue")
    if clock.lead_id is not None:
        return redirect("leads:detail", lead_id=clock.lead_id)
    return redirect("routing:policies")


@login_required
@require_POST
def clock_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The clock's rep, their manager or an admin; the service checks who (403 otherwise)."""
    clock = get_object_or_404(SlaClock, pk=pk)
    try:
        clock_pause(clock=clock, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Clock paused: its business time left is kept until resumed.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _after_clock(request, clock)


@login_required
@require_POST
def clock_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    clock = get_object_or_404(SlaClock, pk=pk)
    try:
        resumed = clock_resume(clock=clock, actor=request.user)
        messages.success(request, f"Clock resumed: due {resumed.deadline_at:%Y-%m-%d %H:%M} UTC.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _after_clock(request, clock)


# --- routing rules and rep capacity ------------------------------------------------------------
def _rule_input(request: HttpRequest) -> dict[str, Any]:
    raw = request.POST.get("conditions", "").strip() or "[]"
    try:
        conditions = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApplicationError(f"Conditions are not valid JSON: {exc.msg}.") from None
    target = request.POST.get("target", "")
    team = rep = None
    if target.startswith("team:"):
        team = Team.objects.filter(pk=_int(target[5:], "Team")).first()
        if team is None:
            raise ApplicationError("That team does not exist.")
    elif target.startswith("rep:"):
        rep = User.objects.filter(pk=_int(target[4:], "Rep")).first()
        if rep is None:
            raise ApplicationError("That rep does not exist.")
    return {
        "name": request.POST.get("name", ""),
        "conditions": conditions,
        "team": team,
        "rep": rep,
        "is_active": request.POST.get("is_active", "on") == "on",
    }


@managers_only
def rules(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            rule_create(actor=request.user, **_rule_input(request))
            messages.success(request, "Rule added at the end of the list.")
            return redirect("routing:rules")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/rules.html",
        {
            "rules": selectors.rule_list(),
            "teams": Team.objects.filter(kind=Team.Kind.SALES).order_by("name"),
            "availability": selectors.availability_rows(),
            "form": request.POST if request.method == "POST" else {},
        },
    )


@managers_only
@require_POST
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=pk)
    try:
        action = request.POST.get("action", "save")
        if action == "delete":
            rule_delete(rule=rule, actor=request.user)
            messages.success(request, f"Rule “{rule.name}” deleted.")
        elif action in ("up", "down"):
            rule_move(rule=rule, actor=request.user, up=action == "up")
        else:
            rule_update(rule=rule, actor=request.user, **_rule_input(request))
            messages.success(request, f"Rule “{rule.name}” saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:rules")


@login_required
@require_POST
def availability(request: HttpRequest, rep_id: int) -> HttpResponse:
    """The rep (out of office only), their manager or an admin; the service checks who."""
    rep = get_object_or_404(User, pk=rep_id)
    try:
        until_raw = request.POST.get("out_of_office_until", "").strip()
        until: datetime | None = None
        if until_raw:
            until = parse_datetime(until_raw)
            if until is None:
                raise ApplicationError("Out of office until: use a date and time.")
            if timezone.is_naive(until):
                until = timezone.make_aware(until)
        availability_set(
            rep=rep,
            actor=request.user,
            weight=_int(request.POST.get("weight"), "Weight", required=False) or 1,
            max_open_leads=_int(request.POST.get("max_open_leads"), "Cap", required=False),
            out_of_office_until=until,
        )
        messages.success(request, f"Availability of {rep} saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:rules" if can_manage_routing(request.user) else "routing:queue")


@managers_only
@require_POST
def route_now(request: HttpRequest) -> HttpResponse:
    try:
        result = leads_route(actor=request.user)
        messages.success(
            request,
            f"Routed: {len(result.offered)} offered, {len(result.fallback)} in the fallback queue.",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:fallback")


# --- fallback queue ----------------------------------------------------------------------------
@managers_only
def fallback(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            rep = User.objects.filter(pk=_int(request.POST.get("rep"), "Rep")).first()
            if rep is None:
                raise ApplicationError("Choose a rep.")
            ids = [int(v) for v in request.POST.getlist("lead") if v.isdigit()]
            if not ids:
                raise ApplicationError("Tick the leads to assign.")
            count = leads_assign_bulk(lead_ids=ids, rep=rep, actor=request.user)
            messages.success(request, f"{count} lead(s) offered to {rep}.")
            return redirect("routing:fallback")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/fallback.html",
        {
            "items": selectors.fallback_list(),
            "total": selectors.fallback_count(),
            "reps": [rep for rep, _ in selectors.availability_rows()],
        },
    )


# --- SLA policies ------------------------------------------------------------------------------
def _policy_input(request: HttpRequest) -> dict[str, Any]:
    team_id = _int(request.POST.get("team"), "Team", required=False)
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise ApplicationError("That team does not exist.")
    return {
        "name": request.POST.get("name", ""),
        "kind": request.POST.get("kind", ""),
        "team": team,
        "amount": _int(request.POST.get("amount"), "Amount"),
        "warn_before_minutes": _int(request.POST.get("warn_before_minutes"), "Warning") or 0,
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
    team_id = _int(request.POST.get("team"), "Team", required=False)
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


# --- rejection reasons and the qualification checklist ------------------------------------------
def _active(request: HttpRequest) -> bool:
    return request.POST.get("is_active", "on") == "on"


@managers_only
def reasons(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            made = rejection_reason_create(actor=request.user, label=request.POST.get("label", ""))
            messages.success(request, f"Reason “{made.label}” added at the end of the list.")
            return redirect("routing:reasons")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/short_list.html",
        {
            "title": "Rejection reasons",
            "intro": "What a rep chooses from when turning a lead down; marketing sees the "
            "reason on the lead and in the reports. Deactivated reasons stay on past "
            "rejections.",
            "rows": selectors.rejection_reasons_all(),
            "edit_url": "routing:reason_edit",
            "add_url": "routing:reasons",
            "with_help": False,
        },
    )


@managers_only
@require_POST
def reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_object_or_404(RejectionReason, pk=pk)
    try:
        action = request.POST.get("action", "save")
        if action in ("up", "down"):
            rejection_reason_move(reason=reason, actor=request.user, up=action == "up")
        else:
            saved = rejection_reason_update(
                reason=reason,
                actor=request.user,
                label=request.POST.get("label", reason.label),
                is_active=_active(request),
            )
            messages.success(request, f"Reason “{saved.label}” saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:reasons")


@managers_only
def checklist(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            made = checklist_item_create(
                actor=request.user,
                label=request.POST.get("label", ""),
                help_text=request.POST.get("help_text", ""),
            )
            messages.success(request, f"“{made.label}” added to the checklist.")
            return redirect("routing:checklist")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "routing/short_list.html",
        {
            "title": "Qualification checklist",
            "intro": "A rep ticks every active line before an accepted lead becomes sales "
            "qualified (SQL); what they ticked is written on the lead's timeline.",
            "rows": selectors.qualification_items_all(),
            "edit_url": "routing:checklist_edit",
            "add_url": "routing:checklist",
            "with_help": True,
        },
    )


@managers_only
@require_POST
def checklist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(QualificationItem, pk=pk)
    try:
        action = request.POST.get("action", "save")
        if action in ("up", "down"):
            checklist_item_move(item=item, actor=request.user, up=action == "up")
        else:
            saved = checklist_item_update(
                item=item,
                actor=request.user,
                label=request.POST.get("label", item.label),
                help_text=request.POST.get("help_text", item.help_text),
                is_active=_active(request),
            )
            messages.success(request, f"“{saved.label}” saved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("routing:checklist")
