"""The pipeline review page: per rep and team, by stage and category, what moved, what is stuck,
what is overdue, how stages convert; for marketing, the deals that came from its leads. Managers
bulk-update the listed deals from here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.views.decorators.http import require_POST

from leadpact.accounts.models import Role, User
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import parse_whole_number
from leadpact.common.reversing import url_for_ids
from leadpact.pipeline import forms, review_selectors, selectors
from leadpact.pipeline.models import Deal, ForecastCategory, Pipeline, Stage
from leadpact.pipeline.policies import can_configure as can_bulk_update
from leadpact.pipeline.services.deals import BulkItem, deals_bulk_update
from leadpact.pipeline.views.access import pipeline_user


@dataclass(frozen=True)
class DealLine:
    """A deal the page lists, its cells formatted once here: the same text as the template
    filters would give, without a filter and a URL lookup per cell of a hundred rows."""

    deal: Deal
    url: str
    owner: str
    amount: str  # "1,234.50 EUR"
    close_date: str
    overdue: bool
    last_activity: str


def deal_lines(deals: list[Deal], today: date) -> list[DealLine]:
    """The listed deals as the page shows them; the deal page's URL is looked up once, not
    once per row."""
    url = url_for_ids("pipeline:deal")
    return [
        DealLine(
            deal=d,
            url=url(d.pk),
            owner=str(d.owner),
            amount=f"{number_format(d.amount, 2, force_grouping=True)} {d.currency}",
            close_date=d.close_date.isoformat(),
            overdue=d.close_date < today,
            last_activity=(
                timezone.localdate(d.last_activity_at).isoformat()
                if d.last_activity_at
                else "never"
            ),
        )
        for d in deals
    ]


def figures(row: review_selectors.RepRow | review_selectors.TeamRow) -> dict[str, str]:
    """A rep's or team's numbers as the page shows them (``intcomma`` and ``floatformat:"2g"``
    alike)."""
    return {
        "count": number_format(row.count, force_grouping=True),
        "amount": number_format(row.amount, 2, force_grouping=True),
        "commit": number_format(row.commit, 2, force_grouping=True),
        "best_case": number_format(row.best_case, 2, force_grouping=True),
        "stale": number_format(row.stale, force_grouping=True),
        "overdue": number_format(row.overdue, force_grouping=True),
    }


def _int(query: QueryDict, name: str, label: str, default: int | None) -> int | None:
    value = parse_whole_number(query.get(name), label, required=False)
    return default if value is None else value


def _filters(
    request: HttpRequest, user: User, pipelines: list[Pipeline]
) -> review_selectors.ReviewFilters:
    query = request.GET
    return review_selectors.review_filters_make(
        user=user,
        pipelines=pipelines,
        today=timezone.localdate(),
        pipeline=query.get("pipeline", ""),
        team_id=_int(query, "team", "Team", None),
        rep_id=_int(query, "rep", "Rep", None),
        leads_only=query.get("source") == "leads",
        stale_days=_int(query, "days", "No-activity days", None),
        movement_days=_int(query, "since", "Movement days", None),
        history_days=_int(query, "history", "History days", None),
    )


@login_required
def review(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    pipelines = list(Pipeline.objects.all())
    choices = review_selectors.review_choices(user=user)
    context: dict[str, Any] = {
        "pipelines": pipelines,
        "choices": choices,
        "query": request.GET,
        "is_marketing": has_role(user, Role.MARKETING),
        "can_bulk": can_bulk_update(user),
        "categories": ForecastCategory.choices,
        "data": None,
    }
    if not pipelines:
        return render(request, "pipeline/review.html", context)
    status = 200
    try:
        filters = _filters(request, user, pipelines)
        review_selectors.review_filters_check(choices=choices, filters=filters)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        filters = review_selectors.review_filters_make(
            user=user, pipelines=pipelines, today=timezone.localdate()
        )
        status = 400
    stages = selectors.pipeline_stages(filters.pipeline)
    data = review_selectors.review(user=user, filters=filters, stages=stages)
    context |= {
        "data": data,
        "filters": filters,
        "stages": stages,
        "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
        "chart": json.dumps(data.chart),
        # a bulk update hands deals only to people still here
        "people": [(str(u.pk), str(u)) for u in choices.reps if u.is_active],
        "rep_chosen": str(filters.rep_id or ""),
        "reps": [(r, figures(r)) for r in data.reps],
        "teams": [
            (t, figures(t)) for t in review_selectors.team_rows(reps=data.reps, teams=choices.teams)
        ],
        "movement": [(m, deal_lines(m.deals, filters.today)) for m in data.movement],
        "stale": deal_lines(data.stale, filters.today),
        "overdue": deal_lines(data.overdue, filters.today),
    }
    return render(request, "pipeline/review.html", context, status=status)


@login_required
@require_POST
@form_post("pipeline:review")
def bulk_update(request: HttpRequest) -> str:
    """Apply one change (owner, forecast category, close date or stage) to the ticked deals, all
    or nothing; each deal carries the version the manager saw. Posted from the review and from
    the board (each form says where to go back to)."""
    user = pipeline_user(request)
    if not can_bulk_update(user):
        raise PermissionDenied("Only sales managers and admins update deals in bulk.")
    post = request.POST
    items = []
    for raw in post.getlist("deal"):
        deal_id, _, version = str(raw).partition(":")
        items.append(
            BulkItem(
                deal_id=parse_whole_number(deal_id, "Deal") or 0,
                version=parse_whole_number(version, "Version") or 0,
            )
        )
    changes: dict[str, Any] = {}
    if post.get("owner"):
        changes["owner"] = parse_whole_number(post["owner"], "Owner")
    if post.get("forecast_category"):
        changes["forecast_category"] = post["forecast_category"]
    if post.get("close_date"):
        changes["close_date"] = forms.parse_date(post["close_date"], "Close date")
    if post.get("stage"):
        changes["stage"] = parse_whole_number(post["stage"], "Stage")
    done = deals_bulk_update(actor=user, items=items, confirmed=forms.confirmed(post), **changes)
    return f"{len(done)} deal{'s' if len(done) != 1 else ''} updated."
