"""Routing rules, rep capacity and availability, routing now, the fallback queue."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from leadpact.accounts.models import Team, User
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number, parse_whole_number
from leadpact.routing import selectors
from leadpact.routing.models import (
    RoutingChange,
    RoutingRule,
)
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.router import leads_assign_bulk, leads_route
from leadpact.routing.services.rules import (
    availability_set,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
)
from leadpact.routing.views.access import list_end, managers_only


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
        team = Team.objects.filter(pk=parse_whole_number(target[5:], "Team")).first()
        if team is None:
            raise ApplicationError("That team does not exist.")
    elif target.startswith("rep:"):
        rep = User.objects.filter(pk=parse_whole_number(target[4:], "Rep")).first()
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
            "changes": selectors.routing_changes(
                subjects=(RoutingChange.Subject.RULE, RoutingChange.Subject.AVAILABILITY)
            ),
        },
    )


@managers_only
@require_POST
@form_post("routing:rules")
def rule_edit(request: HttpRequest, pk: int) -> str:
    rule = get_object_or_404(RoutingRule, pk=pk)
    action = request.POST.get("action", "save")
    if action == "delete":
        rule_delete(rule=rule, actor=request.user)
        return f"Rule “{rule.name}” deleted."
    if action in ("up", "down"):
        if rule_move(rule=rule, actor=request.user, up=action == "up"):
            return f"Rule “{rule.name}” moved {action}."
        return f"Rule “{rule.name}” is already at the {list_end(action)}."
    rule_update(rule=rule, actor=request.user, **_rule_input(request))
    return f"Rule “{rule.name}” saved."


def _availability_back(request: HttpRequest, rep_id: int) -> str:
    return "routing:rules" if can_manage_routing(request.user) else "routing:queue"


@login_required
@require_POST
@form_post(_availability_back)
def availability(request: HttpRequest, rep_id: int) -> str:
    """The rep (out of office only), their manager or an admin; the service checks who."""
    rep = get_object_or_404(User, pk=rep_id)
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
        weight=parse_whole_number(request.POST.get("weight"), "Weight", required=False) or 1,
        max_open_leads=parse_whole_number(
            request.POST.get("max_open_leads"), "Cap", required=False
        ),
        out_of_office_until=until,
    )
    return f"Availability of {rep} saved."


@managers_only
@require_POST
@form_post("routing:fallback")
def route_now(request: HttpRequest) -> str:
    result = leads_route(actor=request.user)
    return f"Routed: {len(result.offered)} offered, {len(result.fallback)} in the fallback queue."


# --- fallback queue ----------------------------------------------------------------------------
@managers_only
def fallback(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            rep = User.objects.filter(pk=parse_whole_number(request.POST.get("rep"), "Rep")).first()
            if rep is None:
                raise ApplicationError("Choose a rep.")
            ids = [int(v) for v in request.POST.getlist("lead") if is_whole_number(v)]
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
