"""The quota attainment page (every rep and team the viewer may see, and marketing's targets,
with a chart) and the posts that set sales quotas and marketing targets. Thin: parse, call
``quota_set``, redirect with a message; a bad value is a message, never a 500."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.accounts.models import Role, Team, User
from leadpact.accounts.roles import has_role, is_admin
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number
from leadpact.pipeline.models import PeriodKind, Quota
from leadpact.pipeline.periods import Period, period_of, period_parse
from leadpact.pipeline.policies import can_use_pipeline
from leadpact.pipeline.quota_policies import (
    can_set_marketing_targets,
    can_set_sales_quotas,
)
from leadpact.pipeline.quota_selectors import attainment_board, visible_sales_people
from leadpact.pipeline.services.quotas import quota_set
from leadpact.pipeline.views.access import pipeline_user


def _period(raw: str | None) -> Period:
    if not (raw or "").strip():
        return period_of(PeriodKind.MONTH, timezone.localdate())
    return period_parse(raw)


@login_required
def quotas(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    if not can_use_pipeline(user):
        raise PermissionDenied("Sign in with a leadpact role.")
    error = ""
    try:
        period = _period(request.GET.get("period"))
    except ApplicationError as exc:
        error, period = exc.message, _period(None)
    currency = (request.GET.get("currency") or "").strip().upper() or None
    board = attainment_board(viewer=user, period=period, currency=currency)
    rows = [r for r in [*board.teams, *board.reps] if r.target is not None]
    chart = json.dumps(
        {
            "labels": [r.label + (" (left)" if r.left else "") for r in rows],
            "percent": [r.percent or 0 for r in rows],
            "teams": len([r for r in board.teams if r.target is not None]),
        }
    )
    people, teams = visible_sales_people(user)
    # A manager sees the reps and teams they manage (admins: everyone): the same rule as
    # ``can_set_sales_quota``, checked here without a query per row.
    settable_teams = list(teams) if can_set_sales_quotas(user) else []
    team_ids = {t.pk for t in settable_teams}
    settable_reps = [
        p
        for p in people.filter(is_active=True)
        if can_set_sales_quotas(user) and (is_admin(user) or p.team_id in team_ids)
    ]
    return render(
        request,
        "pipeline/quotas.html",
        {
            "board": board,
            "period": period,
            "previous": period.previous(),
            "following": period.next(),
            "other_kind": period_of(
                PeriodKind.QUARTER if period.kind == PeriodKind.MONTH else PeriodKind.MONTH,
                period.start,
            ),
            "error": error,
            "chart": chart if rows else None,
            "can_set_sales": can_set_sales_quotas(user),
            "can_set_marketing": can_set_marketing_targets(user),
            "settable_reps": settable_reps,
            "settable_teams": settable_teams,
            "marketing_kinds": [
                (k, label) for k, label in Quota.Kind.choices if k != Quota.Kind.REVENUE
            ],
            "is_sales_viewer": has_role(user, Role.SALES_REP),
        },
        status=400 if error else 200,
    )


def _back(request: HttpRequest) -> str:
    """The quota page of the period the form was for."""
    label = (request.POST.get("period") or "").strip()
    return reverse("pipeline:quotas") + "?" + urlencode({"period": label})


def _save(request: HttpRequest, *, kind: str, rep: User | None, team: Team | None) -> str:
    post = request.POST
    period = period_parse(post.get("period"))
    result = quota_set(
        actor=request.user,  # type: ignore[arg-type]
        kind=kind,
        period=period,
        target=(post.get("target") or "").strip(),
        currency=post.get("currency", ""),
        rep=rep,
        team=team,
    )
    q = result.quota
    what = f"{q.get_kind_display()} for {q.rep or q.team or 'the company'}, {period.label}"
    unit = f" {q.currency}" if q.currency else ""
    verb = "set" if result.created else "updated"
    return f"{what}: {verb} to {q.target}{unit}."


@login_required
@require_POST
@form_post(_back)
def quota_set_view(request: HttpRequest) -> str:
    """A sales quota for one rep or one sales team (``who`` = ``rep:<id>`` / ``team:<id>``)."""
    user = pipeline_user(request)
    if not can_set_sales_quotas(user):
        raise PermissionDenied("Only admins and sales managers set sales quotas.")
    kind, _, pk = (request.POST.get("who") or "").partition(":")
    rep = team = None
    if kind == "rep" and is_whole_number(pk):
        rep = User.objects.filter(pk=int(pk)).first()
        if rep is None:
            raise ApplicationError(f"No such rep: {pk}.")
    elif kind == "team" and is_whole_number(pk):
        team = Team.objects.filter(pk=int(pk)).first()
        if team is None:
            raise ApplicationError(f"No such team: {pk}.")
    else:
        raise ApplicationError("Choose the rep or the sales team the quota is for.")
    return _save(request, kind=Quota.Kind.REVENUE, rep=rep, team=team)


@login_required
@require_POST
@form_post(_back)
def target_set_view(request: HttpRequest) -> str:
    """A marketing target for the company: MQLs or marketing-sourced pipeline."""
    user = pipeline_user(request)
    if not can_set_marketing_targets(user):
        raise PermissionDenied("Only marketing and admins set marketing targets.")
    kind = request.POST.get("kind", "")
    if kind not in (Quota.Kind.MQLS, Quota.Kind.MARKETING_PIPELINE):
        raise ApplicationError("A marketing target is for MQLs or marketing-sourced pipeline.")
    return _save(request, kind=kind, rep=None, team=None)
