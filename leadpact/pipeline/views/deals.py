"""The board, a deal with its timeline and one-click activity logging, new deals. Thin: parse,
call one service or selector, redirect with a message; a bad value is a message on the page,
never a 500."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number, parse_whole_number
from leadpact.common.reversing import url_for_ids
from leadpact.leads.models import Lead, LeadState
from leadpact.pipeline import forms, selectors
from leadpact.pipeline.models import (
    Activity,
    Deal,
    ForecastCategory,
    LostReason,
    Pipeline,
    Stage,
)
from leadpact.pipeline.policies import (
    can_configure,
    can_create_deal,
    can_edit_deal,
)
from leadpact.pipeline.quota_selectors import visible_sales_people
from leadpact.pipeline.services.activities import activity_log
from leadpact.pipeline.services.deals import (
    DealInput,
    deal_create,
    deal_move,
    deal_update,
    next_stage,
)
from leadpact.pipeline.views.access import deal_for, pipeline_user
from leadpact.routing.services.qualification import checklist


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    pipelines = list(Pipeline.objects.all())
    chosen = request.GET.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == chosen), None) or (
        pipelines[0] if pipelines else None
    )
    columns = selectors.board(user=user, pipeline=pipeline) if pipeline else []
    stages = [c.stage for c in columns]
    # A card links to its deal page and posts to its move form: one reverse() per URL, not
    # three per card (they cost more than the board's queries at 50 cards a column).
    deal_url, move_url = url_for_ids("pipeline:deal"), url_for_ids("pipeline:deal_move")
    for column in columns:
        later = [s for s in stages if s.position > column.stage.position]
        column.next = later[0] if later else None  # type: ignore[attr-defined]
        for deal in column.deals:
            deal.url, deal.move_url = deal_url(deal.pk), move_url(deal.pk)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "columns": columns,
        "can_create": can_create_deal(user),
        "can_move": can_create_deal(user),
        "can_bulk": can_configure(user) and bool(columns),
        "today": timezone.localdate(),
        "back": request.get_full_path(),  # forms posted from the board come back to it
    }
    if context["can_bulk"]:
        # Managers tick cards and update them together (the same all-or-nothing service as the
        # pipeline review); one more query, for the owners they may hand deals to.
        context |= {
            "owners": [
                (u.pk, str(u))
                for u in visible_sales_people(user)[0]
                .filter(is_active=True)
                .order_by("first_name", "last_name", "username")
            ],
            "categories": ForecastCategory.choices,
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
        }
    return render(request, "pipeline/board.html", context)


@login_required
def deal_detail(request: HttpRequest, deal_id: int) -> HttpResponse:
    pipeline_user(request)
    deal = deal_for(request, deal_id, edit=False)
    stages = selectors.pipeline_stages(deal.pipeline)
    return render(
        request,
        "pipeline/deal.html",
        {
            "deal": deal,
            "events": selectors.deal_events(deal=deal),
            "activities": selectors.deal_activities(deal=deal),
            "stages": stages,
            "next_stage": next_stage(deal, stages) if deal.status == Deal.Status.OPEN else None,
            "log_kind": request.GET.get("log", ""),
            "can_edit": can_edit_deal(request.user, deal),
            "kinds": Activity.Kind.choices,
            "categories": ForecastCategory.choices,
            "lost_reasons": LostReason.objects.filter(is_active=True),
            "today": timezone.localdate(),
        },
    )


@login_required
def deal_new(request: HttpRequest) -> HttpResponse:
    user = pipeline_user(request)
    if not can_create_deal(user):
        raise PermissionDenied("Only salespeople and admins create deals.")
    lead = None
    lead_id = request.GET.get("lead") or request.POST.get("lead")
    if lead_id:
        if not is_whole_number(str(lead_id)):
            messages.error(request, "The lead is given by its number.")
            return redirect("pipeline:board")
        lead = get_object_or_404(Lead, pk=int(lead_id))
    if request.method == "POST":
        post = request.POST
        try:
            deal = deal_create(
                data=DealInput(
                    name=post.get("name", ""),
                    amount=post.get("amount", ""),
                    currency=post.get("currency", ""),
                    close_date=forms.parse_date(post.get("close_date"), "Expected close date"),
                    account_name=post.get("account_name", ""),
                    forecast_category=post.get("forecast_category") or ForecastCategory.PIPELINE,
                ),
                actor=user,
                lead=lead,
                checked=[v for v in post.getlist("item") if is_whole_number(v.strip())],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Deal {deal.name} opened.")
            return redirect("pipeline:deal", deal.pk)
    return render(
        request,
        "pipeline/deal_new.html",
        {
            "lead": lead,
            "categories": ForecastCategory.choices,
            "post": request.POST,
            # An accepted lead is qualified on the way: the company's checklist, as on the queue.
            "checklist": checklist() if lead and lead.state == LeadState.ACCEPTED else [],
            "ticked": {v for v in request.POST.getlist("item")},
        },
        status=400 if request.method == "POST" else 200,
    )


def _deal_page(request: HttpRequest, deal_id: int) -> str:
    return reverse("pipeline:deal", args=[deal_id])


@login_required
@require_POST
@form_post(_deal_page)
def deal_edit(request: HttpRequest, deal_id: int) -> str:
    deal = deal_for(request, deal_id, edit=True)
    post = request.POST
    changes: dict[str, Any] = {}
    for name in ("name", "amount", "currency", "forecast_category", "account_name"):
        if name in post:
            changes[name] = post[name]
    if post.get("close_date"):
        changes["close_date"] = forms.parse_date(post["close_date"], "Expected close date")
    deal_update(
        deal=deal,
        actor=request.user,  # type: ignore[arg-type]
        version=parse_whole_number(post.get("version"), "Version"),
        **changes,
    )
    return "Deal saved."


@login_required
@require_POST
@form_post(_deal_page)
def deal_move_view(request: HttpRequest, deal_id: int) -> str:
    """Move a deal from its page or from the board (the board's form sends ``back``)."""
    deal = deal_for(request, deal_id, edit=True)
    post = request.POST
    stage = get_object_or_404(Stage, pk=parse_whole_number(post.get("stage"), "Stage"))
    moved = deal_move(
        deal=deal,
        actor=request.user,  # type: ignore[arg-type]
        stage=stage,
        version=parse_whole_number(post.get("version"), "Version"),
        confirmed=forms.confirmed(post),
        lost_reason=post.get("lost_reason"),
        note=post.get("note", ""),
    )
    return f"{moved.name} moved to {moved.stage.name}."


@login_required
@require_POST
@form_post(_deal_page)
def activity_new(request: HttpRequest, deal_id: int) -> str:
    deal = deal_for(request, deal_id, edit=True)
    post = request.POST
    activity_log(
        actor=request.user,  # type: ignore[arg-type]
        deal=deal,
        kind=post.get("kind", ""),
        outcome=post.get("outcome", ""),
        note=post.get("note", ""),
        next_step=post.get("next_step", ""),
        next_step_due=forms.parse_date(post.get("next_step_due"), "Due date", required=False),
    )
    return "Activity logged."
